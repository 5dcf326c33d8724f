"""« Envoyer » prepared by a job: a campaign's preparation progress (rows given their
final text out of those to prepare)

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06 22:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("prepared", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("to_prepare", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("prepared_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("prepared_at")
        batch.drop_column("to_prepare")
        batch.drop_column("prepared")

"""A campaign's « Écrire les noms sans accents dans ce SMS » (card values in GSM-7)

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-06 22:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("gsm_names", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("gsm_names")

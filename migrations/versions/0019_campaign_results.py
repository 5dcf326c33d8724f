"""Campaign results (issue 21): the « groupe témoin » share of a marketing campaign, its
A/B texts (« Variante B » and its share), each recipient's variant, and the results
last measured

Revision ID: 0019
Revises: 0011
Create Date: 2026-12-06 22:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("control_share", sa.SmallInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("body_b", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("split_b", sa.SmallInteger(), nullable=False,
                                   server_default="50"))
        batch.add_column(sa.Column("results", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("results_at", sa.DateTime(), nullable=True))
    for table in ("messages", "draft_recipients"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("variant", sa.String(1), nullable=False,
                                       server_default=""))


def downgrade():
    for table in ("draft_recipients", "messages"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("variant")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("results_at")
        batch.drop_column("results")
        batch.drop_column("split_b")
        batch.drop_column("body_b")
        batch.drop_column("control_share")

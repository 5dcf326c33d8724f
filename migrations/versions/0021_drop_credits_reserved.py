"""campaigns.credits_reserved dropped (issue 20): never written nor read since the
first schema; what a campaign holds on the balance is its credit ledger lines

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 02:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of the table would
    # trip over the triggers that keep the campaign counts (0015).
    op.drop_column("campaigns", "credits_reserved")


def downgrade():
    op.add_column("campaigns", sa.Column("credits_reserved", sa.Integer(), nullable=False,
                                         server_default="0"))

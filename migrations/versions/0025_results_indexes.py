"""« Résultats » at a chain's size (issue 21): the sales of an attribution window read
along ix_purchases_date_client, the control group counted along ix_messages_control

A campaign's results were counted over every client it meant to text (650,000 rows
joined to the purchases for a chain-wide campaign at 1,000,000 clients); they are now read
from the window's sales, and the clients who bought nothing from the counts kept.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 04:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_purchases_date_client", "purchases", ["date", "client_id", "store_id", "amount"]
    )
    op.create_index(
        "ix_messages_control",
        "messages",
        ["campaign_id"],
        postgresql_where=sa.text("skip_reason = 'control'"),
        sqlite_where=sa.text("skip_reason = 'control'"),
    )


def downgrade():
    op.drop_index("ix_messages_control", table_name="messages")
    op.drop_index("ix_purchases_date_client", table_name="purchases")

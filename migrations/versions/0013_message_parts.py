"""SMPP receipts (issue 18): each part of a concatenated SMS with its own operator id and
state (a message is as good as its worst part), and receipts that came before their
reference was committed, kept until it is

Revision ID: 0013
Revises: 0015
Create Date: 2026-12-06 22:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "message_parts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("gateway", sa.String(10), nullable=False),
        sa.Column("gateway_ref", sa.String(64), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("error", sa.String(200), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_message_parts_message_id", "message_parts", ["message_id"])
    op.create_index("ix_message_parts_gateway_ref", "message_parts", ["gateway", "gateway_ref"])
    op.create_table(
        "early_receipts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("gateway", sa.String(10), nullable=False),
        sa.Column("gateway_ref", sa.String(64), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("error", sa.String(200), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_early_receipts_gateway_ref", "early_receipts", ["gateway", "gateway_ref"])


def downgrade():
    op.drop_index("ix_early_receipts_gateway_ref", table_name="early_receipts")
    op.drop_table("early_receipts")
    op.drop_index("ix_message_parts_gateway_ref", table_name="message_parts")
    op.drop_index("ix_message_parts_message_id", table_name="message_parts")
    op.drop_table("message_parts")

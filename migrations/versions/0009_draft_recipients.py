"""a marketing draft's recipient list in its own lean table

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 20:30:00

"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "draft_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("parts", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("skip_reason", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_recipients")),
    )
    op.create_index(
        "ix_draft_recipients_campaign_state",
        "draft_recipients",
        ["campaign_id", "state", "id"],
        unique=False,
    )
    # The rows of drafts and of scheduled campaigns not started yet move to the new
    # table; they become messages again when their campaign starts.
    op.execute(
        "INSERT INTO draft_recipients (campaign_id, client_id, phone, text, parts, state, "
        "skip_reason) SELECT m.campaign_id, m.client_id, m.phone, m.text, m.parts, m.state, "
        "m.skip_reason FROM messages m JOIN campaigns c ON c.id = m.campaign_id "
        "WHERE c.kind = 'marketing' AND c.status IN ('draft', 'scheduled', 'queued') "
        "AND m.client_id IS NOT NULL AND m.state IN ('pending', 'skipped') ORDER BY m.id"
    )
    op.execute(
        "DELETE FROM messages WHERE campaign_id IN (SELECT id FROM campaigns "
        "WHERE kind = 'marketing' AND status IN ('draft', 'scheduled', 'queued'))"
    )


def downgrade():
    op.execute(
        "INSERT INTO messages (campaign_id, client_id, phone, text, parts, state, skip_reason, "
        "error, gateway, created_at) SELECT campaign_id, client_id, phone, text, parts, state, "
        "skip_reason, '', '', CURRENT_TIMESTAMP FROM draft_recipients ORDER BY id"
    )
    op.drop_index("ix_draft_recipients_campaign_state", table_name="draft_recipients")
    op.drop_table("draft_recipients")

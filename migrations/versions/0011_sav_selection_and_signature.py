"""SAV list « Respecter les critères de sélection »: an index to find a ticket's client in
a selection

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 19:00:00

"""

from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_draft_recipients_campaign_client",
        "draft_recipients",
        ["campaign_id", "client_id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_draft_recipients_campaign_client", table_name="draft_recipients")

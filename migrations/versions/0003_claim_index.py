"""claims read pending rows in id order from the index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:30:00

"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_campaign_state")
        batch_op.create_index(
            "ix_messages_campaign_state", ["campaign_id", "state", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_campaign_state")
        batch_op.create_index("ix_messages_campaign_state", ["campaign_id", "state"], unique=False)

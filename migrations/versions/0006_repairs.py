"""after-sales notifications

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("repair_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_message_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("repair_tickets", schema=None) as batch_op:
        batch_op.drop_column("last_message_id")

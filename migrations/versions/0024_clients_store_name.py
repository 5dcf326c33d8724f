"""a store's client list read along an index in name order (ix_clients_store_name)

« Clients » opens on the first names of the file in order: head office along
ix_clients_name, a store along this one, instead of sorting all of its clients (issue 15).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 02:15:00

"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_clients_store_name", "clients",
                    ["store_id", "last_name", "first_name", "id"])  # fmt: skip


def downgrade():
    op.drop_index("ix_clients_store_name", table_name="clients")

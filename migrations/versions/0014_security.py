"""Sessions that end: a per-user session version, raised by a logout, a password change
or « Déconnecter partout », that every session and remember-me cookie must carry.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 22:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")

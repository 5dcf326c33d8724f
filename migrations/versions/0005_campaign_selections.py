"""campaign selections

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 17:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_selections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_saved_selections_store_name", "saved_selections", ["store_id", "name"], unique=False
    )
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("criteria", sa.Text(), nullable=False, server_default=""))
    consented = sa.text("sms_consent = 'accepted'")
    op.create_index(
        "ix_clients_consented_postal",
        "clients",
        ["postal_code", "id", "sms_number", "sms_refuses_all", "sms_consent"],
        unique=False,
        postgresql_where=consented,
        sqlite_where=consented,
    )


def downgrade():
    op.drop_index("ix_clients_consented_postal", table_name="clients")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("criteria")
    op.drop_index("ix_saved_selections_store_name", table_name="saved_selections")
    op.drop_table("saved_selections")

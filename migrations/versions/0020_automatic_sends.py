"""« Envois automatiques » (issue 22): each store's automatic sends, the chain's pauses,
the day's runs (one per store, kind and day), the clients left out of a run, and the
automatic SMS about repair tickets (each once)

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-07 01:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "automatic_sends",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("store_id", sa.Integer(), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("send_time", sa.String(5), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("repeat_max", sa.Integer(), nullable=False),
        sa.Column("repeat_every", sa.Integer(), nullable=False),
        sa.Column("enabled_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.UniqueConstraint("store_id", "kind", name="uq_automatic_sends_store_kind"),
    )
    op.create_table(
        "automatic_pauses",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("paused_at", sa.DateTime(), nullable=False),
        sa.Column("paused_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_table(
        "automatic_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("store_id", sa.Integer(), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        sa.Column("worker", sa.String(120), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("store_id", "kind", "day", name="uq_automatic_runs_store_kind_day"),
    )
    op.create_index("ix_automatic_runs_store_started", "automatic_runs",
                    ["store_id", "started_at"])  # fmt: skip
    op.create_table(
        "automatic_skips",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("store_id", sa.Integer(), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("store_id", "kind", "day", "client_id",
                            name="uq_automatic_skips_run_client"),
    )  # fmt: skip
    op.create_table(
        "automatic_ticket_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("repair_tickets.id"),
                  nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=True),
        sa.Column("note", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("ticket_id", "kind", "seq", name="uq_automatic_ticket_notices"),
    )  # fmt: skip


def downgrade():
    op.drop_table("automatic_ticket_notices")
    op.drop_table("automatic_skips")
    op.drop_index("ix_automatic_runs_store_started", table_name="automatic_runs")
    op.drop_table("automatic_runs")
    op.drop_table("automatic_pauses")
    op.drop_table("automatic_sends")

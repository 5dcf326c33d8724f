"""« Résultats » kept up to date as sales come in (issue 21): result_windows,
result_buyers, result_days and the scratch result_pairs

The results page ran an aggregate over the chain's sales of the campaign's attribution
window at each view (12.8 s p95 at 1,000,000 clients / 10,000,000 purchases, 4.5 x the
report page). The figures are kept instead, written with the sales that change them
(services/result_figures.py). Campaigns sent before this are measured once when their
page is first opened (a job above results.MEASURE_IN_JOB_ABOVE recipients).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 09:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "result_windows",
        sa.Column("campaign_id", sa.Integer(),
                  sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("end_day", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("built_at", sa.DateTime(), nullable=False),
    )  # fmt: skip
    op.create_table(
        "result_buyers",
        sa.Column("campaign_id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), primary_key=True),
        sa.Column("grp", sa.String(8), primary_key=True),
        sa.Column("variant", sa.String(1), primary_key=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("revenue", sa.Numeric(14, 2), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("own_tickets", sa.Integer(), nullable=False),
        sa.Column("own_revenue", sa.Numeric(14, 2), nullable=False),
    )
    op.create_table(
        "result_days",
        sa.Column("campaign_id", sa.Integer(), primary_key=True),
        sa.Column("grp", sa.String(8), primary_key=True),
        sa.Column("variant", sa.String(1), primary_key=True),
        sa.Column("first_day", sa.Date(), primary_key=True),
        sa.Column("buyers", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(16, 2), nullable=False),
        sa.Column("squares", sa.Numeric(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("own", sa.Integer(), nullable=False),
        sa.Column("other", sa.Integer(), nullable=False),
        sa.Column("own_revenue", sa.Numeric(16, 2), nullable=False),
    )
    op.create_table(
        "result_pairs",
        sa.Column("campaign_id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), primary_key=True),
    )


def downgrade():
    for table in ("result_pairs", "result_days", "result_buyers", "result_windows"):
        op.drop_table(table)

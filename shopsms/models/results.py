"""« Résultats » kept up to date as sales come in (services/result_figures.py).

A sent marketing campaign's figures were an aggregate over the chain's sales of its
attribution window, run at each view: at 1,000,000 clients and 10,000,000 purchases,
seconds. They are kept instead, as campaign_counts keeps a report's counts: each buyer's
figures (first day of buying, revenue, tickets, in the sending store or another), and
their sums per group, variant and first day, which the page reads (a few dozen rows).
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class ResultWindow(db.Model):
    """A campaign whose figures are kept: its attribution window [start_day, end_day)
    and the store its buyers' « magasin d'envoi » is (None: each client's own store,
    for a chain-wide campaign). The figures are those of this window: a campaign whose
    window changed (the « fenêtre d'attribution » setting) is measured again."""

    __tablename__ = "result_windows"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    start_day: Mapped[date]
    end_day: Mapped[date]
    days: Mapped[int]
    store_id: Mapped[int | None]
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResultBuyer(db.Model):
    """One client of a kept campaign who bought in its window: what they bought there."""

    __tablename__ = "result_buyers"

    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(primary_key=True)
    grp: Mapped[str] = mapped_column(String(8), primary_key=True)  # "texted", "control"
    variant: Mapped[str] = mapped_column(String(1), primary_key=True)
    first_day: Mapped[date]
    revenue: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    tickets: Mapped[int]
    own_tickets: Mapped[int]  # in the sending store (the client's own, chain-wide)
    own_revenue: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class ResultDay(db.Model):
    """The sums of a kept campaign's buyers per group, variant and first day of buying:
    what the « Résultats » page reads."""

    __tablename__ = "result_days"

    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    grp: Mapped[str] = mapped_column(String(8), primary_key=True)
    variant: Mapped[str] = mapped_column(String(1), primary_key=True)
    first_day: Mapped[date] = mapped_column(primary_key=True)
    buyers: Mapped[int]
    revenue: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    squares: Mapped[Decimal] = mapped_column(Numeric())  # Σ (revenue per buyer)², exact
    tickets: Mapped[int]
    own: Mapped[int]  # buyers with a ticket in the sending store
    other: Mapped[int]  # buyers with a ticket in another store
    own_revenue: Mapped[Decimal] = mapped_column(Numeric(16, 2))


class ResultPair(db.Model):
    """Scratch rows of one transaction: the (campaign, client) whose kept figures are
    measured again before it commits (deleted by then). Its key makes two transactions
    touching the same client's figures take turns."""

    __tablename__ = "result_pairs"

    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(primary_key=True)

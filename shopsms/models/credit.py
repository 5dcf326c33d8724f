from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow

# Signed amounts: top-ups and refunds add, reservations take; a charge turns part of
# a reservation into spent credits and is recorded for the reports, at amount 0.
# A release gives a reservation back when a scheduled campaign returns to draft.
CREDIT_KINDS = ("topup", "reservation", "charge", "refund", "release")


class CreditEntry(db.Model):
    """One line of the « Crédits SMS » ledger; the balance is their sum, never stored."""

    __tablename__ = "credit_entries"
    __table_args__ = (Index("ix_credit_entries_store_created", "store_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int]
    parts: Mapped[int] = mapped_column(default=0)  # SMS parts a charge stands for
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reference: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Follow-up tasks from closed reports (« fiches à corriger »).

A sending that could not reach a client because the card holds a landline, an invalid
number or a number the operator does not know leaves a task for the store that created
the client: correct the card so that the next sending reaches them.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow


class FollowupTask(db.Model):
    """« Fiche à corriger »: one client card to fix, found by one sending's report."""

    __tablename__ = "followup_tasks"
    __table_args__ = (
        # Closing a report twice, or two reports naming the same card, add no duplicate.
        UniqueConstraint("campaign_id", "client_id", name="uq_followup_tasks_campaign_client"),
        Index("ix_followup_tasks_store_done", "store_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    phone: Mapped[str] = mapped_column(String(30), default="")  # as the card had it
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    client = relationship("Client")
    store = relationship("Store")

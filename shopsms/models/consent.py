"""Consent proof (who, when, which store, how) for a client's SMS consent changes."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

# How the client said it: at the counter, by answering STOP, in an import, through
# the API, or on a form (web sign-up).
CONSENT_HOWS = ("counter", "stop", "import", "api", "form")


class ConsentChange(db.Model):
    """One change of a client's SMS consent, with its proof; never updated or deleted."""

    __tablename__ = "consent_changes"
    __table_args__ = (Index("ix_consent_changes_client_at", "client_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    how: Mapped[str] = mapped_column(String(10))
    # Before and after, so the card can say what changed: "accepted"/"refused"/"unknown".
    marketing_before: Mapped[str] = mapped_column(String(10), default="")
    marketing_after: Mapped[str] = mapped_column(String(10), default="")
    refuses_all_before: Mapped[bool] = mapped_column(default=False)
    refuses_all_after: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(200), default="")

    user = relationship("User")
    store = relationship("Store")

"""« Envois automatiques »: what each store sends by itself (birthdays, absent clients,
repairs ready, repairs not collected), the day's runs, and what was held back.

A day's run is keyed by (store, kind, day): the unique key is what makes it happen once,
whatever workers, restarts or Redis do."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

# birthday: « Anniversaire »; absent: « Relance des clients absents »; repair_ready:
# « Réparation prête »; repair_reminder: « Réparation non retirée ».
AUTOMATIC_KINDS = ("birthday", "absent", "repair_ready", "repair_reminder")


class AutomaticSend(db.Model):
    """One store's setting of one kind: on or off, paused, its text, time and numbers."""

    __tablename__ = "automatic_sends"
    __table_args__ = (UniqueConstraint("store_id", "kind", name="uq_automatic_sends_store_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(default=False)
    paused: Mapped[bool] = mapped_column(default=False)  # the store's pause
    body: Mapped[str] = mapped_column(Text, default="")
    send_time: Mapped[str] = mapped_column(String(5), default="10:00")  # Europe/Paris, HH:MM
    # birthday: days ahead (0: the day itself); absent: days since the last purchase;
    # repair_reminder: days « Disponible » before the first reminder.
    days: Mapped[int] = mapped_column(default=0)
    repeat_max: Mapped[int] = mapped_column(default=1)  # repair_reminder: at most M
    repeat_every: Mapped[int] = mapped_column(default=7)  # repair_reminder: every P days
    # When it was last turned on: a repair ready before it is not « becoming ready ».
    enabled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    store = relationship("Store")


class AutomaticPause(db.Model):
    """Head office's pause of one kind for the whole chain."""

    __tablename__ = "automatic_pauses"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    paused_at: Mapped[datetime] = mapped_column(default=utcnow)
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# started: claimed, its campaign being made; sent: its campaign queued; empty: nobody to
# text that day; no_credits: held back by the low-credit threshold; failed: see note.
RUN_STATUSES = ("started", "sent", "empty", "no_credits", "failed")


class AutomaticRun(db.Model):
    """One day's run of one kind for one store: at most one, ever."""

    __tablename__ = "automatic_runs"
    __table_args__ = (
        UniqueConstraint("store_id", "kind", "day", name="uq_automatic_runs_store_kind_day"),
        Index("ix_automatic_runs_store_started", "store_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="started")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    recipients: Mapped[int] = mapped_column(default=0)
    cost: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(300), default="")
    worker: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    campaign = relationship("Campaign")


class AutomaticSkip(db.Model):
    """A client the store left out of one day's run (« Ne pas envoyer cette fois »)."""

    __tablename__ = "automatic_skips"
    __table_args__ = (
        UniqueConstraint(
            "store_id", "kind", "day", "client_id", name="uq_automatic_skips_run_client"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[date]
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AutomaticTicketNotice(db.Model):
    """An automatic SMS about a repair ticket: « Réparation prête » once (seq 0), the
    reminders numbered 1…M. The key is what keeps each of them to once."""

    __tablename__ = "automatic_ticket_notices"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", "seq", name="uq_automatic_ticket_notices"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("repair_tickets.id"))
    kind: Mapped[str] = mapped_column(String(20))
    seq: Mapped[int] = mapped_column(default=0)
    day: Mapped[date]
    # sent; before: ready before the kind was on (never texted by it); failed: see note.
    state: Mapped[str] = mapped_column(String(10), default="sent")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class OptOut(db.Model):
    """« STOP SMS »: a number that must never receive marketing again."""

    __tablename__ = "optouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    source: Mapped[str] = mapped_column(String(12), default="sms")  # sms, staff, import
    gateway: Mapped[str] = mapped_column(String(10), default="")
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundMessage(db.Model):
    """An SMS a client sent back: STOP, or a reply that staff read."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    to: Mapped[str] = mapped_column(String(20), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    gateway: Mapped[str] = mapped_column(String(10), default="")
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    is_stop: Mapped[bool] = mapped_column(default=False)
    read_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

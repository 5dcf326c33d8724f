from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class MessagePart(db.Model):
    """One part of a concatenated SMS as the operator took it: SMPP names each part with
    its own id and sends a receipt per part, and the message is only as good as its worst
    part (services/delivery.py). A one-part message has no rows here: its gateway_ref is
    enough."""

    __tablename__ = "message_parts"
    __table_args__ = (Index("ix_message_parts_gateway_ref", "gateway", "gateway_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    seq: Mapped[int] = mapped_column(SmallInteger)  # 1 … the message's parts
    gateway: Mapped[str] = mapped_column(String(10))
    gateway_ref: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="submitted")
    error: Mapped[str] = mapped_column(String(200), default="")
    done_at: Mapped[datetime | None]


class EarlyReceipt(db.Model):
    """A delivery receipt that came before the worker committed the reference it names
    (the operator answers submit_sm, then reports, faster than our commit). Kept here,
    durably, and applied when the reference lands (services/delivery.apply_early)."""

    __tablename__ = "early_receipts"
    __table_args__ = (Index("ix_early_receipts_gateway_ref", "gateway", "gateway_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(10))
    gateway_ref: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))
    error: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

from datetime import datetime

from sqlalchemy import ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class OutboxMessage(db.Model):
    """What the simulation gateway received: the « Téléphone de test » shows these.

    One row per message at most (message_id is unique), so a batch sent again after a
    worker died cannot put a message twice on the test phone.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    sender_id: Mapped[str] = mapped_column(String(11), default="")
    text: Mapped[str] = mapped_column(Text)
    parts: Mapped[int] = mapped_column(SmallInteger, default=1)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When its simulated delivery report is due; cleared once recorded. A report whose
    # job was lost (a worker killed, Redis stopped or flushed) is made by the sweep.
    report_due_at: Mapped[datetime | None] = mapped_column(index=True)

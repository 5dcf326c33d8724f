from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class WorkerHeartbeat(db.Model):
    """A worker process (`flask worker`) says it is alive every few seconds. A claim made
    by a worker whose heartbeat stopped is released without waiting for its age, and
    head office sees the workers on « Supervision »."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid, as in claims
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    stopped_at: Mapped[datetime | None]
    doing: Mapped[str] = mapped_column(String(200), default="")

"""The point of sale's way in: import runs, column mappings and API tokens."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

IMPORT_KINDS = ("clients", "purchases", "repairs")
# draft: uploaded, mapping being checked; queued → running → done | failed.
IMPORT_STATUSES = ("draft", "queued", "running", "done", "failed")


class ImportRun(db.Model):
    """One file taken in: what was detected, how far it got, and what it did."""

    __tablename__ = "import_runs"
    __table_args__ = (Index("ix_import_runs_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    filename: Mapped[str] = mapped_column(String(200), default="")  # as the user named it
    upload_path: Mapped[str] = mapped_column(String(400), default="")  # deleted once done
    reject_path: Mapped[str] = mapped_column(String(400), default="")  # kept for download
    encoding: Mapped[str] = mapped_column(String(12), default="utf-8")
    delimiter: Mapped[str] = mapped_column(String(1), default=";")
    headers: Mapped[list] = mapped_column(JSON, default=list)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)  # header → field
    # Files over 2 GB exist; bytes_done and lines_done are where a resumed job goes on.
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    lines_done: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_created: Mapped[int] = mapped_column(default=0)
    rows_updated: Mapped[int] = mapped_column(default=0)
    rows_unchanged: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    rows_warned: Mapped[int] = mapped_column(default=0)  # imported, one cell left aside
    error: Mapped[str] = mapped_column(Text, default="")
    # A manager's import writes their store only; head office's (None) any store.
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Last sign of life (queued, or a batch written): the sweep's clock for stuck runs.
    progress_at: Mapped[datetime | None]

    user = relationship("User")
    store = relationship("Store")

    @property
    def percent(self):
        if self.status == "done":
            return 100
        if not self.size_bytes:
            return 0
        return min(99, int(self.bytes_done * 100 / self.size_bytes))

    @property
    def finished(self):
        return self.status in ("done", "failed")


class ColumnMapping(db.Model):
    """The header → field mapping last confirmed for a file kind, offered next time."""

    __tablename__ = "column_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), unique=True)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApiToken(db.Model):
    """A point of sale's key to the API: only its SHA-256 is kept, never the token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in the list to tell tokens apart
    # None: head office, every store; else the one store the token may write.
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    store = relationship("Store")

    @property
    def active(self):
        return self.revoked_at is None

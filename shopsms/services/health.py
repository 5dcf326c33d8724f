"""« /sante »: what a load balancer or a monitor asks of one ShopSMS node. Each check is
cheap (an index probe or a ping) and says ok or why not, in plain words."""

from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, text

from ..extensions import db
from ..models import Campaign, Message, utcnow
from ..queue import get_probe_redis
from . import workers


def _database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as error:  # noqa: BLE001  (any failure is the answer)
        db.session.rollback()
        return {"ok": False, "error": type(error).__name__}


def _redis() -> dict:
    try:
        get_probe_redis().ping()
        return {"ok": True}
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "error": type(error).__name__}


def oldest_pending_seconds(now: datetime | None = None) -> int | None:
    """How long the oldest message still to send has been due (None: nothing due), from
    the campaigns moving: an index probe per campaign, never a scan of the messages."""
    now = now or utcnow()
    has_pending = exists().where(Message.campaign_id == Campaign.id, Message.state == "pending")
    due_since = db.session.scalar(
        select(func.min(func.coalesce(Campaign.not_before, Campaign.created_at))).where(
            Campaign.status.in_(("queued", "sending")),
            (Campaign.not_before.is_(None)) | (Campaign.not_before <= now),
            has_pending,
        )
    )
    return None if due_since is None else max(0, int((now - due_since).total_seconds()))


def check() -> tuple[bool, dict]:
    """(healthy, details): healthy when the database and Redis answer and a worker is
    beating; the oldest pending message's age is told, for monitors to alert on."""
    database = _database()
    details: dict[str, Any] = {"database": database, "redis": _redis()}
    if database["ok"]:
        alive = workers.alive()
        details["workers"] = {"ok": bool(alive), "alive": len(alive)}
        details["oldest_pending_seconds"] = oldest_pending_seconds()
    else:
        details["workers"] = {"ok": False, "error": "database unavailable"}
    healthy = all(details[k]["ok"] for k in ("database", "redis", "workers"))
    return healthy, details

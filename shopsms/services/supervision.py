"""« Supervision » (head office): is sending healthy, and if not, where it is stuck.
Everything here is a short read: heartbeats, Redis's queue lengths, the links' last
readings, the campaigns due that still hold messages to send."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import exists, func, select

from ..extensions import db
from ..models import Campaign, Message, WorkerHeartbeat, utcnow
from ..queue import QUEUE_NAME, get_redis
from . import automatic, delivery, health, link_status, workers


@dataclass
class Snapshot:
    workers: list = field(default_factory=list)  # (name, started_at, beat_at, state)
    queue: dict | None = None  # None: Redis cannot be read
    links: list | None = None
    stalled: list = field(default_factory=list)  # (campaign, due since)
    reports_waiting: int = 0
    oldest_pending_seconds: int | None = None
    now: datetime | None = None
    held_runs: list = field(default_factory=list)  # (automatic run, store name)


def snapshot(now: datetime | None = None) -> Snapshot:
    now = now or utcnow()
    alive = workers.alive(now)
    rows = db.session.scalars(
        select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()).limit(50)
    )
    listed = []
    for row in rows:
        if row.name in alive:
            state = "alive"
        elif row.stopped_at is not None:
            state = "stopped"
        else:
            state = "dead"
        listed.append((row.name, row.started_at, row.beat_at, state))
    return Snapshot(
        workers=listed,
        queue=_queue(),
        links=_links(),
        stalled=_due_with_pending(now),
        reports_waiting=delivery.outbox_reports_waiting(),
        oldest_pending_seconds=health.oldest_pending_seconds(now),
        now=now,
        held_runs=automatic.held_for_credits(now=now),
    )


def _queue() -> dict[str, int] | None:
    try:
        queue = Queue(QUEUE_NAME, connection=get_redis())
        return {
            "waiting": queue.count,
            "running": StartedJobRegistry(queue=queue).count,
            "scheduled": ScheduledJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count,
        }
    except (redis.RedisError, OSError):
        return None


def _links() -> list[dict[str, Any]] | None:
    try:
        return link_status.current()
    except (redis.RedisError, OSError):
        return None


def _due_with_pending(
    now: datetime, older_than_seconds: int = 60
) -> list[tuple[Campaign, datetime]]:
    """Campaigns due for more than a minute that still hold messages to send: the sweep
    resumes a stuck one within 30 s, so one that stays here is worth a look."""
    due_since = func.coalesce(Campaign.not_before, Campaign.created_at)
    has_pending = exists().where(Message.campaign_id == Campaign.id, Message.state == "pending")
    rows = db.session.execute(
        select(Campaign, due_since)
        .where(
            Campaign.status.in_(("queued", "sending")),
            due_since <= now,
            has_pending,
        )
        .order_by(due_since)
        .limit(20)
    ).all()
    return [(c, since) for c, since in rows if (now - since).total_seconds() > older_than_seconds]

"""Workers' heartbeats, in the database (the source of truth; Redis may be gone).

Each `flask worker` beats every SWEEP_SECONDS under its name (host:pid, the prefix of
its claim tokens). One that has not beaten for WORKER_DEAD_SECONDS is dead: its claims
are released at once (sending.recover_stale) instead of after CLAIM_STALE_SECONDS,
and its RQ job counts as lost. The living worker with the smallest name runs the sweep.
"""

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import CursorResult, delete, exists, func, select, update

from ..extensions import db
from ..models import Message, WorkerHeartbeat, utcnow


def dead_after() -> timedelta:
    return timedelta(seconds=current_app.config["WORKER_DEAD_SECONDS"])


def beat(name: str, *, doing: str | None = None, now: datetime | None = None) -> None:
    """This worker is alive (and, if given, what it is doing)."""
    now = now or utcnow()
    values = {"beat_at": now, "stopped_at": None}
    if doing is not None:
        values["doing"] = doing[:200]
    result: CursorResult = db.session.execute(  # type: ignore[assignment]
        update(WorkerHeartbeat).where(WorkerHeartbeat.name == name).values(**values)
    )
    changed = result.rowcount
    if not changed:
        db.session.add(WorkerHeartbeat(name=name, started_at=now, doing=doing or "", **values))
    db.session.commit()


def stopped(name: str, *, now: datetime | None = None) -> None:
    """A clean stop: nobody waits for this worker's heartbeat."""
    db.session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.name == name)
        .values(stopped_at=now or utcnow(), doing="")
    )
    db.session.commit()


def _alive_condition(now: datetime) -> Any:
    return (WorkerHeartbeat.beat_at > now - dead_after()) & WorkerHeartbeat.stopped_at.is_(None)


def alive(now: datetime | None = None) -> set[str]:
    """Names of the workers beating now."""
    now = now or utcnow()
    return set(db.session.scalars(select(WorkerHeartbeat.name).where(_alive_condition(now))))


def leads_the_sweep(name: str, now: datetime | None = None) -> bool:
    """Whether this worker runs the sweep: the living one with the smallest name, so that
    two workers do not enqueue the same campaign twice; another takes over if it dies."""
    now = now or utcnow()
    first = db.session.scalar(select(func.min(WorkerHeartbeat.name)).where(_alive_condition(now)))
    return first is None or first == name


def claimed_by_a_living_worker(now: datetime) -> Any:
    """SQL: the message's claim token starts with the name of a worker beating now."""
    prefix = func.substr(Message.claimed_by, 1, func.length(WorkerHeartbeat.name) + 1)
    return (
        exists()
        .where(_alive_condition(now), prefix == WorkerHeartbeat.name + ":")
        .correlate(Message)
    )


def forget_old(days: int = 7, now: datetime | None = None) -> None:
    """Heartbeats of workers gone for a week: the supervision page has no use for them."""
    now = now or utcnow()
    db.session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - timedelta(days=days))
    )
    db.session.commit()


def in_flight(campaign_id: int) -> bool:
    """True while a worker holds rows of the campaign (claimed or handed over)."""
    return bool(
        db.session.scalar(
            select(func.count(Message.id)).where(
                Message.campaign_id == campaign_id,
                (Message.state == "submitting")
                | ((Message.state == "pending") & Message.claimed_by.is_not(None)),
            )
        )
    )

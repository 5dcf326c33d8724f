"""The one door from the services (and views) to the worker: what to run later.

A job is named by its path in shopsms/jobs.py, which RQ imports in the worker: the
services never import `jobs` (the jobs call the services, not the other way round).
Each function says whether the work was queued; with Redis down the database keeps
what must move and the worker's sweep queues it once Redis is back.
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from flask import current_app
from rq import SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from ..extensions import db
from ..models import utcnow
from ..queue import get_queue

log = logging.getLogger(__name__)

JOBS = "shopsms.jobs."


def campaign_job_key(campaign_id: int) -> str:
    """Where Redis keeps the id of a campaign's last sending job (the sweep reads it)."""
    return f"shopsms:campaign-job:{campaign_id}"


def side_by_side(queue: Any) -> int:
    """How many jobs send one campaign at once: on PostgreSQL as many as workers listen
    (SENDING_JOBS_PER_CAMPAIGN at most), each claiming its own batches (SKIP LOCKED);
    SQLite has one writer, so one."""
    if db.engine.dialect.name != "postgresql":
        return 1
    try:
        listening = SimpleWorker.count(queue=queue)
    except Exception:  # Redis down: the enqueue below says so to its caller
        listening = 1
    return max(1, min(current_app.config["SENDING_JOBS_PER_CAMPAIGN"], listening))


def send_campaign(
    campaign_id: int,
    not_before: datetime | None = None,
    *,
    copies: int | None = None,
    share: int | None = None,
) -> Job | None:
    """Queue (or schedule) the campaign's jobs: `copies` of them (side_by_side by
    default), each told the `share` of the link's rate it may use; note the last one's
    id: the sweep checks that job to know whether Redis still has the campaign moving.
    None when Redis is away: the campaign is queued in the database, the sweep sends it."""
    queue = get_queue()
    copies = copies or side_by_side(queue)
    share = share or copies
    try:
        for _ in range(copies):
            if not_before is not None and not_before > utcnow():
                at = not_before.replace(tzinfo=UTC)
                job = queue.enqueue_at(at, JOBS + "send_campaign", campaign_id, share)
            else:
                job = queue.enqueue(JOBS + "send_campaign", campaign_id, share)
        queue.connection.set(campaign_job_key(campaign_id), job.id, ex=7 * 24 * 3600)
    except redis.RedisError as error:
        log.warning("campaign %s left to the sweep: %r", campaign_id, error)
        return None
    return job


def prepare_campaign(campaign_id: int, user_id: int | None) -> bool:
    """« Envoyer » / « Envoi différé »: the preparation job; with Redis down the campaign
    stays « En préparation » and the sweep queues it again."""
    try:
        get_queue().enqueue(JOBS + "prepare_campaign", campaign_id, user_id, job_timeout=3600)
    except Exception as error:
        log.warning("campaign %s: preparation left to the sweep: %r", campaign_id, error)
        return False
    return True


def import_file(run_id: int, resume: bool = False) -> bool:
    """An import run's next slice; with Redis down the run stays « En attente » and the
    sweep queues it again (every minute)."""
    try:
        get_queue().enqueue(JOBS + "import_file", run_id, resume, job_timeout=600)
    except Exception:
        log.exception("import run %s not queued (the sweep will retry)", run_id)
        return False
    return True


def outbox_reports(message_ids: list[int], delay: timedelta) -> bool:
    """The simulated delivery reports of messages the outbox took, `delay` later."""
    try:
        get_queue().enqueue_in(delay, JOBS + "outbox_delivery_reports", message_ids)
    except redis.RedisError:
        # The reports are due in the database: the sweep makes them.
        log.warning("outbox reports left to the sweep (Redis)")
        return False
    return True


def export_report(token: str) -> Job:
    """« Export Excel » of a large report: a 1,000,000-row workbook takes minutes,
    longer than RQ's default job timeout."""
    return get_queue().enqueue(JOBS + "export_report", token, job_timeout=4 * 3600)


def measure_results(campaign_id: int) -> Job:
    """Measure a large campaign's results (one job per campaign at a time: a second
    view while it runs finds it queued)."""
    queue = get_queue()
    job_id = f"shopsms-results-{campaign_id}"
    try:
        job = Job.fetch(job_id, connection=queue.connection)
        if job.get_status(refresh=True) in (JobStatus.QUEUED, JobStatus.STARTED):
            return job
    except NoSuchJobError:
        pass
    return queue.enqueue(JOBS + "measure_results", campaign_id, job_id=job_id, job_timeout=3600)

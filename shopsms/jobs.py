"""RQ entry points: ids in, an app context around the service call, nothing else."""

import contextlib
import os
import socket
import time
from datetime import UTC, timedelta

from flask import current_app, has_app_context
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from .extensions import db
from .models import utcnow

SWEEP_JOB_ID = "shopsms-sweep"
JOB_TIME_BUDGET = 50  # seconds a campaign job sends before handing over to a fresh job

_app = None


@contextlib.contextmanager
def app_context():
    """The worker's own context (the `flask worker` command), or one of ours."""
    global _app
    if has_app_context():
        try:
            yield
        finally:
            db.session.remove()
        return
    if _app is None:
        from . import create_app

        _app = create_app()
    with _app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def _worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue_campaign(campaign_id, not_before=None):
    from .queue import get_queue

    queue = get_queue()
    if not_before is not None and not_before > utcnow():
        return queue.enqueue_at(not_before.replace(tzinfo=UTC), send_campaign, campaign_id)
    return queue.enqueue(send_campaign, campaign_id)


def send_campaign(campaign_id):
    from .services import sending

    with app_context():
        deadline = time.monotonic() + JOB_TIME_BUDGET
        while True:
            result = sending.send_next_batch(campaign_id, worker=_worker_name())
            if result.done:
                return "done"
            if result.held_until is not None:
                enqueue_campaign(campaign_id, result.held_until)
                return f"held until {result.held_until:%Y-%m-%d %H:%M} UTC"
            if time.monotonic() > deadline:  # let other campaigns' jobs in
                enqueue_campaign(campaign_id)
                return "continued in a new job"


def enqueue_report_export(token):
    from .queue import get_queue

    # A 1,000,000-row workbook takes minutes: longer than RQ's default job timeout.
    return get_queue().enqueue(export_report, token, job_timeout=4 * 3600)


def export_report(token):
    """« Export Excel » of a large report (services.report_export records the progress)."""
    from .services import report_export

    with app_context():
        return report_export.run_excel(token)


def outbox_delivery_reports(message_ids):
    from .services import delivery

    with app_context():
        return delivery.record("outbox", delivery.outbox_reports(message_ids))


def sweep():
    """Every minute: the database says what must move; Redis may have forgotten it."""
    from .services import campaigns, recipients, report_export, sending

    try:
        with app_context():
            sending.recover_stale()
            resumed = sending.campaigns_to_resume()
            for campaign_id in resumed:
                enqueue_campaign(campaign_id)
            return {
                "resumed": resumed,
                "imports": _sweep_imports(),
                # A campaign left at the recipient list for a week holds its rows for nothing.
                "drafts_removed": recipients.delete_stale_drafts(days=7),
                "exports_removed": report_export.delete_old_exports(),
                "count_rows_folded": campaigns.compact_counts(),
            }
    finally:
        schedule_sweep(force=True)


def schedule_sweep(*, force=False):
    """Make sure the next sweep is on RQ's scheduler (once)."""
    from .queue import get_queue

    with app_context():
        queue = get_queue()
        registry = ScheduledJobRegistry(queue=queue)
        if not force and SWEEP_JOB_ID in registry.get_job_ids():
            return
        with contextlib.suppress(Exception):
            Job.fetch(SWEEP_JOB_ID, connection=queue.connection).delete()
        every = timedelta(seconds=current_app.config["SWEEP_SECONDS"])
        queue.enqueue_in(every, sweep, job_id=SWEEP_JOB_ID)


class Worker(SimpleWorker):
    """Jobs run in the worker's process (no fork per job: batches are short and many).
    Its maintenance, every minute, puts the sweep back on the scheduler if a Redis
    flush or restart lost it."""

    # Lost Redis: try again every 2 s (RQ backs off to 60 s, so sending resumed up to a
    # minute after Redis came back).
    max_connection_wait_time = 2.0

    def subscribe(self):
        """RQ's command channel (stop, kill a job), read by a thread that RQ lets wait 60 s
        for each message. redis-py 8 joins that thread when the worker stops, and a thread
        that saw its unsubscribe confirmed waits the full 60 s for a subscription that never
        comes: every stop (a burst's end, SIGTERM) took a minute. Waits of 1 s instead."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        schedule_sweep()


def _sweep_imports():
    """Import runs left queued or running; a failure here must not stop the campaigns'."""
    from .services import imports

    try:
        return imports.sweep()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("import sweep failed")
        return None


def import_file(import_run_id, resume=False):
    """Import one uploaded point-of-sale file (services.imports records the progress)
    for a time budget, then hand over to a continuation job queued behind the others."""
    from .services import imports

    with app_context():
        budget = current_app.config.get("IMPORT_JOB_SECONDS", 25)
        run = imports.run(import_run_id, resume=resume, budget=budget)
        if run is None:
            return None
        if run.status == "running":
            imports.continue_later(run.id)
        return {"rows_read": run.rows_read, "status": run.status}

"""The worker process (`flask worker`): RQ's loop, restarted whenever it gives up on a lost
Redis, and its upkeep thread: the heartbeat and, on the worker that leads, the sweep that
puts back what Redis forgot. The jobs it runs are shopsms/jobs.py's, named by path."""

import contextlib
import logging
import os
import socket
import threading

from flask import current_app
from rq import SimpleWorker
from rq.exceptions import NoSuchJobError, StopRequested
from rq.job import Job, JobStatus

from .extensions import db
from .queue import QUEUE_NAME, get_redis
from .services import (
    automatic,
    background,
    campaigns,
    delivery,
    imports,
    recipients,
    report_export,
    sending,
    workers,
)

log = logging.getLogger("shopsms.jobs")


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


@contextlib.contextmanager
def _fresh_session():
    """Each sweep in a session of its own (the upkeep tick gives the app context)."""
    try:
        yield
    finally:
        db.session.remove()


def _campaign_moving(connection, campaign_id, alive):
    """Whether Redis still has a job for the campaign that will run: queued or scheduled,
    or started by a worker that is still beating."""
    job_id = connection.get(background.campaign_job_key(campaign_id))
    if not job_id:
        return False
    try:
        job = Job.fetch(job_id.decode(), connection=connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return True
    if status == JobStatus.STARTED:
        return (job.worker_name or "").rsplit("#", 1)[0] in alive
    return False


def sweep():
    """The database says what must move; Redis may have forgotten it (a restart, a flush,
    a killed worker). Run by the upkeep thread of one worker every SWEEP_SECONDS."""
    with _fresh_session():
        confirmed, released = sending.recover_stale()
        reports = delivery.overdue_outbox_reports()
        alive = workers.alive()
        resumed = []
        connection = get_redis()
        for campaign_id in sending.campaigns_due():
            if not _campaign_moving(connection, campaign_id, alive):
                background.send_campaign(campaign_id)
                resumed.append(campaign_id)
        if resumed or released or reports:
            log.info(
                "sweep resumed=%s released=%d confirmed=%d outbox_reports=%d",
                resumed,
                released,
                confirmed,
                reports,
            )
        preparations = recipients.resume_preparations()
        # « Envois automatiques »: repairs just ready, today's runs that are due.
        automatic_sends = automatic.tick(worker=worker_name())
        return {
            "resumed": resumed,
            "released": released,
            "outbox_reports": reports,
            "preparations": preparations,
            "automatic": automatic_sends,
        }


def minute_sweep():
    """What can wait a minute: imports left running, old drafts, old heartbeats."""
    with _fresh_session():
        workers.forget_old()
        return {
            "count_rows_folded": campaigns.compact_counts(),
            "no_receipt": delivery.age_out(),  # « Sans accusé de réception »
            "imports": _sweep_imports(),
            # A campaign left at the recipient list for a week holds its rows for nothing.
            "drafts_removed": recipients.delete_stale_drafts(days=7),
            "exports_removed": report_export.delete_old_exports(),
        }


class Upkeep(threading.Thread):
    """The worker's own clock, beside RQ's loop (which may wait minutes in a blocking
    read, or for a Redis that is down): every SWEEP_SECONDS it writes the worker's
    heartbeat and, if this worker leads, runs the sweep. A failing step (Redis down, a
    database connection killed) is logged and tried again at the next tick."""

    def __init__(self, app, name):
        super().__init__(name="shopsms-upkeep", daemon=True)
        self.app = app
        self.worker_name = name
        self.every = app.config["SWEEP_SECONDS"]
        self.stopping = threading.Event()
        self.ticks = 0

    def run(self):
        while not self.stopping.is_set():
            self.tick()
            self.stopping.wait(self.every)

    def tick(self):
        self.ticks += 1
        with self.app.app_context():
            try:
                workers.beat(self.worker_name)
                if not workers.leads_the_sweep(self.worker_name):
                    return
                sweep()
                if self.ticks % max(1, 60 // self.every) == 1:
                    minute_sweep()
            except Exception:
                db.session.rollback()
                log.warning("upkeep tick failed; next in %ss", self.every, exc_info=True)
            finally:
                db.session.remove()

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)
        with self.app.app_context():
            try:
                workers.stopped(self.worker_name)
            except Exception:
                log.warning("could not record the worker's stop", exc_info=True)
            finally:
                db.session.remove()


class Worker(SimpleWorker):
    """Jobs run in the worker's process (no fork per job: batches are short and many).
    Its name is the heartbeat's (host:pid) and a round number after « # » (a worker
    that lost Redis starts a new round under a new RQ name)."""

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


def run_worker(app, *, burst=False):
    """`flask worker`: the upkeep thread, and RQ's loop started again whenever it gives
    up on a lost Redis, until a stop is asked (SIGTERM, Ctrl-C) or a burst ends."""
    name = worker_name()
    upkeep = Upkeep(app, name)
    upkeep.tick()  # alive, and swept once, before the first job
    upkeep.start()
    rounds = 0
    try:
        while True:
            rounds += 1
            worker = None
            try:  # even making one talks to Redis
                worker = Worker([QUEUE_NAME], connection=get_redis(), name=f"{name}#{rounds}")
                worker.work(with_scheduler=True, burst=burst)
            except Exception as error:
                log.warning("worker round %d ended: %r", rounds, error)
            if burst or getattr(worker, "_shutdown_requested_date", None) is not None:
                return
            try:
                upkeep.stopping.wait(1)  # Redis away: try again
            except StopRequested:  # SIGTERM between two rounds
                return
    finally:
        upkeep.stop()


def _sweep_imports():
    """Import runs left queued or running; a failure here must not stop the campaigns'."""
    try:
        return imports.sweep()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("import sweep failed")
        return None

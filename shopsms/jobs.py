"""RQ entry points: ids in, an app context around the service call, nothing else."""

import contextlib
import logging
import time

from flask import current_app, has_app_context

from . import create_app
from .extensions import db
from .services import (
    background,
    delivery,
    imports,
    recipients,
    report_export,
    results,
    sending,
)
from .worker import worker_name

log = logging.getLogger("shopsms.jobs")
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
        _app = create_app()
    with _app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def send_campaign(campaign_id, share=1):
    """Send batches for a time budget. `share`: how many jobs send the campaign side by
    side, so that together they keep to the link's messages per second."""
    with app_context():
        started = time.monotonic()
        deadline = started + current_app.config["CAMPAIGN_JOB_SECONDS"]
        totals = {"batches": 0, "submitted": 0, "refused": 0, "skipped": 0}
        outcome = "continued in a new job"
        while True:
            result = sending.send_next_batch(campaign_id, worker=worker_name(), share=share)
            totals["batches"] += 1 if result.claimed else 0
            for key in ("submitted", "refused", "skipped"):
                totals[key] += getattr(result, key)
            if result.done:
                outcome = "done"
                break
            if result.held_until is not None:
                background.send_campaign(campaign_id, result.held_until, copies=1, share=share)
                outcome = f"held until {result.held_until:%Y-%m-%d %H:%M} UTC"
                break
            if time.monotonic() > deadline:  # let other campaigns' jobs in
                background.send_campaign(campaign_id, copies=1, share=share)
                break
        log.info(
            "job send_campaign campaign=%s batches=%d submitted=%d refused=%d skipped=%d "
            "duration=%.2fs outcome=%s",
            campaign_id,
            totals["batches"],
            totals["submitted"],
            totals["refused"],
            totals["skipped"],
            time.monotonic() - started,
            outcome,
        )
        return outcome


def export_report(token):
    """« Export Excel » of a large report (services.report_export records the progress)."""
    with app_context():
        return report_export.run_excel(token)


def measure_results(campaign_id):
    """« Résultats » of a campaign whose sales take more than a page's time to read."""
    with app_context():
        return results.refresh(campaign_id)


def prepare_campaign(campaign_id, user_id=None):
    """« Envoyer » / « Envoi différé »: the texts, the cost, the reservation (services
    .recipients.prepare); the campaign's sending jobs are queued by it."""
    with app_context():
        campaign = recipients.prepare(campaign_id, user_id)
        return None if campaign is None else campaign.status


def outbox_delivery_reports(message_ids):
    with app_context():
        return delivery.outbox_report(message_ids)


def import_file(import_run_id, resume=False):
    """Import one uploaded point-of-sale file (services.imports records the progress)
    for a time budget, then hand over to a continuation job queued behind the others."""
    with app_context():
        budget = current_app.config.get("IMPORT_JOB_SECONDS", 25)
        run = imports.run(import_run_id, resume=resume, budget=budget)
        if run is None:
            return None
        if run.status == "running":
            imports.continue_later(run.id)
        return {"rows_read": run.rows_read, "status": run.status}

"""The home page: what a person needs at a glance when they log in."""

from flask import Blueprint, current_app
from flask_login import current_user
from rq import Worker

from .. import access
from ..queue import connect
from ..services import automatic, dashboard, replies, settings
from .automatic import KIND_LABELS
from .helpers import render

bp = Blueprint("home", __name__)


def _workers_running():
    """How many RQ workers are alive, or None when Redis cannot be reached."""
    try:
        return len(Worker.all(connection=connect(current_app)))
    except Exception:  # Redis down must not take the home page down with it
        current_app.logger.warning("Redis unreachable for the home page", exc_info=True)
        return None


@bp.app_context_processor
def _sending_off():
    """For areas/_sending_off.html: what stops sending, for the stores a screen sends for
    (default: the person's own; head office sees every store's)."""

    def sending_off(store_ids=None):
        if not current_user.is_authenticated:
            return []
        if store_ids is None:
            if current_user.store_id is None:
                return settings.sending_off(every_store=access.every_store(current_user))
            store_ids = [current_user.store_id]
        elif isinstance(store_ids, int):
            store_ids = [store_ids]
        return settings.sending_off(store_ids)

    return {"sending_off": sending_off}


@bp.get("/")
def index():
    return render(
        "home/index.html",
        "home/_summary.html",
        summary=dashboard.for_user(current_user),
        workers=_workers_running() if access.has(current_user, "watch_workers") else None,
        unread_replies=replies.unread_count(current_user),
        automatic_next=_automatic_next(),
        automatic_held=_automatic_held(),
    )


def _automatic_held():
    """Today's automatic runs of the person's store held back for credits: what they would
    have cost, and why (the home page's banner, with the recharge request prepared)."""
    if current_user.store_id is None:
        return []

    held = automatic.held_for_credits(current_user.store_id)
    return [(KIND_LABELS.get(run.kind, run.kind), run) for run, _store in held]


def _automatic_next():
    """« Demain : 9 anniversaires, 3 relances »: the store's next automatic runs."""
    if current_user.store_id is None:
        return None
    upcoming = automatic.upcoming(current_user.store_id)
    if not upcoming:
        return None
    first = min(preview.day for preview in upcoming.values())
    counts = {kind: p.recipients for kind, p in upcoming.items() if p.day == first}
    return {"day": first, "today": automatic.today(), "counts": counts}

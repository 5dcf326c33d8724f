"""The home page: what a person needs at a glance when they log in."""

from flask import Blueprint, current_app
from flask_login import current_user
from rq import Worker

from ..queue import connect
from ..services import dashboard, replies
from .helpers import render

bp = Blueprint("home", __name__)


def _workers_running():
    """How many RQ workers are alive, or None when Redis cannot be reached."""
    try:
        return len(Worker.all(connection=connect(current_app)))
    except Exception:  # Redis down must not take the home page down with it
        current_app.logger.warning("Redis unreachable for the home page", exc_info=True)
        return None


@bp.get("/")
def index():
    return render(
        "home/index.html",
        "home/_summary.html",
        summary=dashboard.for_user(current_user),
        workers=_workers_running() if current_user.has_role("admin") else None,
        unread_replies=replies.unread_count(current_user),
    )

"""« Supervision » (head office): workers and their heartbeats, the queue, the gateway
links, campaigns that stay due, delivery reports waiting."""

from datetime import UTC, datetime

from flask import Blueprint

from ..services import supervision
from .access import role_required
from .automatic import KIND_LABELS
from .helpers import render

bp = Blueprint("supervision", __name__, url_prefix="/supervision")


def _from_epoch(stamp):
    return datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None) if stamp else None


@bp.get("/")
@role_required("admin")
def index():
    return render(
        "supervision/index.html",
        "supervision/_panel.html",
        snap=supervision.snapshot(),
        from_epoch=_from_epoch,
        automatic_kind_labels=KIND_LABELS,
    )

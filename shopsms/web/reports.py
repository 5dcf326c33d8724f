"""« Rapports d'envoi non traités »: finished sendings whose report nobody closed yet."""

from flask import Blueprint, request
from flask_login import current_user

from ..services import listings
from .access import role_required
from .campaigns import KIND_LABELS
from .helpers import render

bp = Blueprint("reports", __name__, url_prefix="/rapports")
bp.add_app_template_filter(listings.paris, "paris")


@bp.get("/")
@role_required("staff")
def index():
    results = listings.open_reports(
        current_user, page=listings.page_number(request.args.get("page"))
    )
    return render(
        "reports/index.html",
        "reports/_list.html",
        results=results,
        kind_labels=KIND_LABELS,
    )

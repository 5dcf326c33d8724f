"""« Clients »: the client list with its active search (the client card is elsewhere)."""

from flask import Blueprint, request
from flask_login import current_user

from ..services import client_search, listings
from .access import role_required
from .helpers import render

bp = Blueprint("clients", __name__, url_prefix="/clients")
bp.add_app_template_filter(listings.paris, "paris")


def partial(name):
    """The partial for an htmx request, except when htmx restores a pushed URL from the
    server after a history-cache miss: that request wants the whole page."""
    return None if request.headers.get("HX-History-Restore-Request") == "true" else name


@bp.get("/")
@role_required("staff")
def index():
    text = request.args.get("q", "").strip()[:100]
    results = client_search.search(
        current_user, text, page=listings.page_number(request.args.get("page"))
    )
    return render("clients/index.html", partial("clients/_results.html"), q=text, results=results)

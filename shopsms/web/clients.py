"""« Clients »: the client list with its active search (the client card is elsewhere)."""

from flask import Blueprint, request
from flask_login import current_user

from ..services import client_search, listings
from .access import role_required
from .helpers import render

bp = Blueprint("clients", __name__, url_prefix="/clients")
bp.add_app_template_filter(listings.paris, "paris")


@bp.get("/")
@role_required("staff")
def index():
    text = request.args.get("q", "").strip()[:100]
    results = client_search.search(
        current_user, text, page=listings.page_number(request.args.get("page"))
    )
    return render(
        "clients/index.html",
        "clients/_results.html",
        q=text,
        results=results,
        phone_too_short=client_search.too_short_for_a_phone(text),
        min_phone_digits=client_search.MIN_PHONE_DIGITS,
    )

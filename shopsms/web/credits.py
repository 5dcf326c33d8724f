"""« Crédits SMS »: the balance and the ledger that makes it."""

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..services import credits, listings
from .access import role_required
from .helpers import render

bp = Blueprint("credits", __name__, url_prefix="/credits")
bp.add_app_template_filter(listings.paris, "paris")

KIND_LABELS = {
    "topup": _l("Recharge"),
    "reservation": _l("Réservation"),
    "charge": _l("Consommation"),
    "refund": _l("Remboursement"),
}


@bp.get("/")
@role_required("staff")
def index():
    results = listings.ledger(current_user, page=listings.page_number(request.args.get("page")))
    return render(
        "credits/index.html",
        "credits/_list.html",
        balance=credits.balance(),
        results=results,
        kind_labels=KIND_LABELS,
    )

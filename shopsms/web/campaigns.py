"""« Campagnes »: every sending of the store (the chain for head office), with a live
progress bar while something is going out."""

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..services import listings
from .access import role_required
from .helpers import render

bp = Blueprint("campaigns", __name__, url_prefix="/campagnes")
bp.add_app_template_filter(listings.paris, "paris")

KIND_LABELS = {
    "single": _l("Message client"),
    "marketing": _l("Campagne"),
    "repair": _l("SAV"),
    "workshop_return": _l("Retour atelier"),
}
STATUS_LABELS = {
    "draft": _l("Brouillon"),
    "scheduled": _l("Programmé"),
    "queued": _l("En file"),
    "sending": _l("En cours"),
    "sent": _l("Envoyé"),
    "cancelled": _l("Annulé"),
}


@bp.get("/")
@role_required("staff")
def index():
    status = request.args.get("statut", "")
    if status not in listings.CAMPAIGN_STATUS_FILTERS:
        status = ""
    results = listings.campaigns(
        current_user, status=status, page=listings.page_number(request.args.get("page"))
    )
    return render(
        "campaigns/index.html",
        "campaigns/_list.html",
        results=results,
        status=status,
        # Poll only while something on the page is going out (Hypermedia Systems).
        polling=any(row.Campaign.status in listings.ACTIVE_STATUSES for row in results.rows),
        done_share=listings.done_share,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
    )

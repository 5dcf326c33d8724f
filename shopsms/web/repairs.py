"""« Liste des fiches SAV »: the seed's criteria and columns, read-only for now."""

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..services import listings
from .access import role_required
from .helpers import render

bp = Blueprint("repairs", __name__, url_prefix="/sav")

# The seed's « Opér. » column.
KIND_LABELS = {
    "repair": _l("Rép."),
    "warranty": _l("Garantie"),
    "free": _l("Gratuit"),
    "quote": _l("Devis"),
}
STATUS_OPTIONS = {
    "ready": _l("Disponibles"),
    "open": _l("En magasin"),
    "at_workshop": _l("À l'atelier"),
    "collected": _l("Rendues"),
    "cancelled": _l("Annulées"),
    "all": _l("Toutes"),
}
SMS_OPTIONS = {"all": _l("Tous"), "with": _l("Avec"), "without": _l("Sans")}


def _criteria(args):
    if "criteres" not in args:  # first opening: the seed's defaults
        return listings.RepairCriteria()
    status = args.get("statut", "ready")
    sms = args.get("sms", "all")
    return listings.RepairCriteria(
        repairs=bool(args.get("reparations")),
        quotes=bool(args.get("devis")),
        status=status if status in STATUS_OPTIONS else "ready",
        number=args.get("fiche", "").strip()[:20],
        client_name=args.get("nom", "").strip()[:80],
        sms=sms if sms in SMS_OPTIONS else "all",
    )


@bp.get("/")
@role_required("staff")
def index():
    criteria = _criteria(request.args)
    results = listings.repair_tickets(
        current_user, criteria, page=listings.page_number(request.args.get("page"))
    )
    return render(
        "repairs/index.html",
        "repairs/_results.html",
        criteria=criteria,
        results=results,
        kind_labels=KIND_LABELS,
        status_options=STATUS_OPTIONS,
        sms_options=SMS_OPTIONS,
    )

"""« Résultats »: what a marketing campaign brought into the stores, against its
« groupe témoin »."""

from flask import Blueprint, Response, abort, request, stream_with_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access, formats
from ..services import listings, reports
from ..services import results as campaign_results
from .access import role_required
from .helpers import render

bp = Blueprint("results", __name__, url_prefix="/resultats")

VERDICT_LABELS = {
    "positive": _l("effet positif probable"),
    "negative": _l("effet négatif probable"),
    "none": _l("pas d'effet mesurable"),
    "small": _l("échantillon trop petit"),
}
GROUP_LABELS = {
    "texted": _l("Clients textés"),
    "control": _l("Groupe témoin"),
    "A": _l("Variante A"),
    "B": _l("Variante B"),
}


# « — » when unknown; the results' figures are written by formats.figure.
number = formats.figure


def percent(value, digits=1, sign=False):
    if value is None:
        return "—"
    text = number(100 * value, digits)
    return ("+" if sign and value > 0 else "") + text + " %"


def euros(value, digits=0, sign=False):
    if value is None:
        return "—"
    return ("+" if sign and value > 0 else "") + number(value, digits) + " €"


def points(value, sign=True):
    """A difference of two rates, in percentage points."""
    if value is None:
        return "—"
    return ("+" if sign and value > 0 else "") + number(100 * value, 1) + " pt"


@bp.get("/<int:campaign_id>")
@role_required("staff")
def detail(campaign_id):
    row = reports.visible(current_user, campaign_id)
    if row is None or row.Campaign.kind != "marketing":
        abort(404)
    campaign = row.Campaign
    result, measuring = campaign_results.for_page(campaign)
    return render(
        "results/detail.html",
        "results/_detail.html",
        row=row,
        campaign=campaign,
        result=result,
        measuring=measuring,
        verdict_labels=VERDICT_LABELS,
        group_labels=GROUP_LABELS,
        number=number,
        percent=percent,
        euros=euros,
        points=points,
    )


SORT_LABELS = {
    "date": _l("Date d'envoi"),
    "uplift": _l("Écart de taux d'achat"),
    "revenue": _l("CA supplémentaire"),
    "recipients": _l("Clients textés"),
}


def _list_arguments():
    sort = request.args.get("tri", "date")
    sort = sort if sort in campaign_results.LIST_SORTS else "date"
    store_id = access.requested_store(current_user, request.args.get("magasin", type=int))
    return sort, store_id


@bp.get("/")
@role_required("manager")
def index():
    """« Résultats des campagnes »: the last 12 months, sortable, by store for head office."""
    sort, store_id = _list_arguments()
    lines = campaign_results.listing(current_user, store_id=store_id, sort=sort)
    return render(
        "results/index.html",
        "results/_list.html",
        lines=lines,
        sort=sort,
        store_id=store_id,
        sort_labels=SORT_LABELS,
        stores=listings.stores(current_user) if access.every_store(current_user) else [],
        verdict_labels=VERDICT_LABELS,
        number=number,
        percent=percent,
        euros=euros,
        points=points,
    )


@bp.get("/export.<any(csv, xlsx):fmt>")
@role_required("manager")
def export(fmt):
    sort, store_id = _list_arguments()
    lines = campaign_results.listing(current_user, store_id=store_id, sort=sort)
    headers = {"Content-Disposition": f'attachment; filename="resultats-campagnes.{fmt}"'}
    if fmt == "csv":
        body = stream_with_context(campaign_results.list_csv(lines))
        return Response(body, mimetype="text/csv", headers=headers)
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(campaign_results.list_xlsx(lines), mimetype=mimetype, headers=headers)

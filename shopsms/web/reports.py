"""« Rapports d'envoi »: the reports not yet closed, one report's detail, closing them,
the closed ones, and the « fiches à corriger » that closing leaves."""

import os

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from .. import access, formats
from ..models import CAMPAIGN_KINDS, Store
from ..services import background, listings, report_export, reports
from ..services import followups as followup_tasks
from .access import role_required
from .campaigns import KIND_LABELS, filter_url
from .forms import DayField, Form, IdField, TextField
from .helpers import render

bp = Blueprint("reports", __name__, url_prefix="/rapports")

STATE_FILTER_LABELS = {
    "": _l("Tous"),
    "delivered": _l("Délivrés"),
    "failed": _l("Échecs"),
    "pending": _l("En attente"),
    "skipped": _l("Non envoyés"),
    "no_receipt": _l("Sans accusé de réception"),
}


def _reason(message):
    """reports.reason in the person's language: an operator's reason as ShopSMS worded
    it (formats.said reads its French words again), else as it came."""
    if message.state == "skipped":
        return _(reports.reason(message))
    return formats.said(reports.reason(message))


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
        followups=followup_tasks.open_followups_count(current_user),
        delivery_rate=reports.delivery_rate,
        filter_url=filter_url(),
    )


def _report_or_404(campaign_id):
    row = reports.visible(current_user, campaign_id)
    if row is None:
        abort(404)
    return row


@bp.get("/<int:campaign_id>")
@role_required("staff")
def detail(campaign_id):
    row = _report_or_404(campaign_id)
    state = request.args.get("etat", "")
    state = state if state in reports.STATE_GROUPS else ""
    # « Suivant » carries the last id shown (?apres=), « Précédent » the first (?avant=).
    keyset = {}
    for name, argument in (("after", "apres"), ("before", "avant")):
        value = request.args.get(argument, "")
        if value.isascii() and value.isdigit() and len(value) < 19:
            keyset[name] = int(value)
    can_close = access.has(current_user, "close_reports") and row.Campaign.closed_at is None
    counts = reports.counts(row)
    return render(
        "reports/detail.html",
        "reports/_messages.html",
        row=row,
        campaign=row.Campaign,
        counts=counts,
        rate=reports.delivery_rate(row),
        finished=reports.is_finished(row.Campaign),
        state=state,
        state_filters=STATE_FILTER_LABELS,
        messages=reports.messages(
            campaign_id,
            state=state,
            total=reports.rows_count(row, state),
            number=listings.page_number(request.args.get("page")),
            **keyset,
        ),
        reason=_reason,
        kind_labels=KIND_LABELS,
        can_close=can_close,
        # The kept counts say whether closing may leave cards to correct; which ones, per
        # store, reads the failed rows, so the form loads that line apart (fiches below).
        may_have_fiches=can_close and (counts["failed"] > 0 or counts["skipped"] > 0),
        rows_count=reports.rows_count(row, state),
        excel_direct_rows=report_export.EXCEL_DIRECT_ROWS,
        variants=reports.variant_figures(campaign_id),
    )


@bp.get("/<int:campaign_id>/fiches")
@role_required("manager")
def correctable_fiches(campaign_id):
    """The closing form's « N fiches pour <magasin> » line, loaded once the page is shown:
    it reads every failed row of the report, which the page itself must not."""
    _report_or_404(campaign_id)
    correctable = followup_tasks.correctable(campaign_id)
    store_names = {}
    if correctable:
        store_names = {
            store.id: store.name
            for store in Store.query.filter(Store.id.in_(list(correctable))).all()
        }
    return render(
        "reports/_correctable.html",
        "reports/_correctable.html",
        lazy=False,
        correctable=correctable,
        store_names=store_names,
    )


def _attachment(campaign_id, state, extension):
    suffix = f"-{state}" if state else ""
    return {
        "Content-Disposition": f'attachment; filename="rapport-{campaign_id}{suffix}.{extension}"'
    }


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export_state():
    state = request.values.get("etat", "")
    return state if state in reports.STATE_GROUPS else ""


@bp.get("/<int:campaign_id>/export.csv")
@role_required("staff")
def export_csv(campaign_id):
    """Streamed as it is read: a 1,000,000-row report starts downloading at once."""
    _report_or_404(campaign_id)
    state = _export_state()
    chunks = report_export.csv_chunks(campaign_id, state)
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers=_attachment(campaign_id, state, "csv"),
    )


@bp.get("/<int:campaign_id>/export.xlsx")
@role_required("staff")
def export_xlsx(campaign_id):
    """A small report's workbook at once; a large one is prepared by a job (POST)."""
    row = _report_or_404(campaign_id)
    state = _export_state()
    if reports.rows_count(row, state) > report_export.EXCEL_DIRECT_ROWS:
        return redirect(url_for("reports.detail", campaign_id=campaign_id, etat=state or None))
    body = report_export.to_xlsx(
        report_export.export_rows(campaign_id, state), title=f"Rapport {campaign_id}"
    )
    return Response(body, mimetype=XLSX, headers=_attachment(campaign_id, state, "xlsx"))


@bp.post("/<int:campaign_id>/export.xlsx")
@role_required("staff")
def start_xlsx(campaign_id):
    row = _report_or_404(campaign_id)
    state = _export_state()
    token = report_export.start_excel(
        current_user, campaign_id, state, reports.rows_count(row, state)
    )
    background.export_report(token)
    return redirect(url_for("reports.export_progress", campaign_id=campaign_id, token=token))


def _export_or_404(campaign_id, token):
    status = report_export.export_status(token)
    if status and (status["campaign_id"], status["user_id"]) != (campaign_id, current_user.id):
        abort(404)
    return status


@bp.get("/<int:campaign_id>/export/<token>")
@role_required("staff")
def export_progress(campaign_id, token):
    row = _report_or_404(campaign_id)
    return render(
        "reports/export.html",
        "reports/_export_progress.html",
        campaign=row.Campaign,
        token=token,
        export=_export_or_404(campaign_id, token),
    )


@bp.get("/<int:campaign_id>/export/<token>/fichier")
@role_required("staff")
def export_file(campaign_id, token):
    _report_or_404(campaign_id)
    status = _export_or_404(campaign_id, token)
    if status.get("status") != "done" or not os.path.exists(status["path"]):
        abort(404)
    state = status["state"]
    return send_file(
        status["path"],
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"rapport-{campaign_id}{'-' + state if state else ''}.xlsx",
    )


class CloseForm(Form):
    """« Clôturer », and whether to make follow-up tasks (« fiches ») with it."""

    fiches = TextField()


@bp.post("/<int:campaign_id>/cloturer")
@role_required("manager")
def close(campaign_id):
    _report_or_404(campaign_id)
    try:
        closed = reports.close(current_user, campaign_id)
        added = 0
        # Tasks come with the closing only: a report closed already adds none.
        if closed and CloseForm().fiches.data == "1":
            added = followup_tasks.create_followups(current_user, campaign_id)
    except reports.ReportError as error:
        flash(str(error), "error")
        return redirect(url_for("reports.detail", campaign_id=campaign_id))
    if closed:
        flash(_("Rapport n° %(id)d clôturé.", id=campaign_id), "success")
    else:
        flash(_("Ce rapport était déjà clôturé."), "info")
    if added:
        flash(
            ngettext(
                "%(num)d fiche à corriger ajoutée.", "%(num)d fiches à corriger ajoutées.", added
            ),
            "info",
        )
    return redirect(url_for("reports.index"))


@bp.post("/tout-cloturer")
@role_required("manager")
def close_all():
    count = reports.close_all(current_user)
    if count:
        flash(ngettext("%(num)d rapport clôturé.", "%(num)d rapports clôturés.", count), "success")
    else:
        flash(_("Aucun rapport terminé à clôturer."), "info")
    return redirect(url_for("reports.index"))


class ClosedForm(Form):
    """« Rapports clôturés »: the search's filters, from its query string."""

    class Meta:
        csrf = False  # a GET

    du = DayField(_l("Du"))
    au = DayField(_l("Au"))
    magasin = IdField()
    kind = TextField(name="type")


@bp.get("/clotures")
@role_required("staff")
def closed():
    form = ClosedForm(formdata=request.args)
    form.validate()
    criteria = listings.ReportCriteria(
        date_from=form.du.data,
        date_to=form.au.data,
        store_id=form.magasin.data,
        kind=form.kind.data if form.kind.data in CAMPAIGN_KINDS else "",
    )
    results = listings.closed_reports(
        current_user, criteria, page=listings.page_number(request.args.get("page"))
    )
    return render(
        "reports/closed.html",
        "reports/_closed_list.html",
        results=results,
        criteria=criteria,
        kind_labels=KIND_LABELS,
        stores=listings.stores(current_user) if access.every_store(current_user) else [],
        # A day not read is left out of the search, and said (what was typed).
        bad_dates=[field.raw_data[0] for field in (form.du, form.au) if field.errors],
    )


@bp.get("/fiches-a-corriger")
@role_required("staff")
def followups():
    done = request.args.get("faites") == "1"
    store_id = request.args.get("magasin", type=int)
    results = followup_tasks.followups(
        current_user,
        store_id=store_id,
        done=done,
        page=listings.page_number(request.args.get("page")),
    )
    return render(
        "reports/followups.html",
        "reports/_followups.html",
        results=results,
        done=done,
        store_id=store_id,
        stores=listings.stores(current_user) if access.every_store(current_user) else [],
        report_visible=followup_tasks.report_visible,
    )


@bp.post("/fiches-a-corriger/<int:task_id>/faite")
@role_required("staff")
def followup_done(task_id):
    try:
        followup_tasks.mark_done(current_user, task_id)
    except reports.ReportError:
        abort(404)
    if request.htmx:
        return "", 200
    flash(_("Fiche marquée comme corrigée."), "success")
    return redirect(url_for("reports.followups"))

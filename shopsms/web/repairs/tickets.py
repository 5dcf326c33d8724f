"""« Gestion des fiches » (the list and its criteria) and a ticket's card."""

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...services import listings, repairs
from ..access import role_required
from ..helpers import render
from . import (
    DATE_FIELDS,
    NOTIFIED_OPTIONS,
    SMS_OPTIONS,
    STATUS_OPTIONS,
    bp,
    common,
    forms,
    parse_id,
)


@bp.get("/")
@role_required("staff")
def index():
    criteria, errors = forms.criteria(request.args, current_user)
    results = repairs.search(
        current_user, criteria, page=listings.page_number(request.args.get("page"))
    )
    context = {}
    if not request.htmx:
        # The reminder banner is outside the results: a keystroke search does not redo it.
        reminder, reminder_days, _since = repairs.reminder_count(current_user)
        context = {
            "reminder": reminder,
            "reminder_days": reminder_days,
            "selection": _selection(criteria),
        }
    query = request.args.to_dict(flat=False)
    without_reminder = {k: v for k, v in query.items() if k not in ("relance", "page")}
    return render(
        "repairs/index.html",
        "repairs/_results.html",
        criteria=criteria,
        errors=errors,
        results=results,
        status_options=STATUS_OPTIONS,
        sms_options=SMS_OPTIONS,
        notified_options=NOTIFIED_OPTIONS,
        date_fields=DATE_FIELDS,
        workshops=repairs.workshops(),
        query=query,
        without_reminder=without_reminder,
        **context,
        **common(),
    )


def _selection(criteria):
    """The client selection the « Respecter les critères de sélection » box stands for:
    the one the list is restricted to, else the person's current one."""
    if criteria.selection_id is not None:
        return repairs.selection_for(current_user, criteria.selection_id)
    return repairs.current_selection(current_user)


def _render_ticket(ticket, form, status=200):
    return (
        render_template(
            "repairs/ticket.html",
            ticket=ticket,
            form=form,
            workshops=repairs.workshops(),
            stores=repairs.stores(current_user) if ticket is None else [],
            messages=repairs.messages(ticket),
            today=date.today().isoformat(),
            **common(),
        ),
        status,
    )


def _found(ticket_id):
    found = repairs.get(current_user, ticket_id) if parse_id(ticket_id) else None
    if found is None:
        abort(404)
    return found


@bp.route("/fiches/nouvelle", methods=["GET", "POST"])
@role_required("staff")
def new_ticket():
    if request.method == "GET":
        form = repairs.TicketForm(client_number=request.args.get("client", "")[:20])
        return _render_ticket(None, form)
    form = forms.ticket_form()
    try:
        ticket = repairs.save(current_user, form)
    except repairs.RepairError as error:
        flash(str(error), "error")
        return _render_ticket(None, form, 422)
    flash(_("Fiche n° %(number)s enregistrée.", number=ticket.number), "success")
    return redirect(url_for("repairs.ticket", ticket_id=ticket.id))


@bp.route("/fiches/<int:ticket_id>", methods=["GET", "POST"])
@role_required("staff")
def ticket(ticket_id):
    found = _found(ticket_id)
    if request.method == "GET":
        return _render_ticket(found, forms.form_of(found))
    form = forms.ticket_form()
    try:
        repairs.save(current_user, form, ticket_id)
    except repairs.RepairError as error:
        flash(str(error), "error")
        return _render_ticket(found, form, 422)
    flash(_("Fiche n° %(number)s enregistrée.", number=found.number), "success")
    return redirect(url_for("repairs.ticket", ticket_id=ticket_id))


@bp.post("/fiches/<int:ticket_id>/atelier")
@role_required("staff")
def to_workshop(ticket_id):
    _found(ticket_id)
    try:
        found = repairs.send_to_workshop(
            current_user, ticket_id, forms.ToWorkshopForm().workshop_id.data
        )
    except repairs.RepairError as error:
        flash(str(error), "error")
    else:
        flash(
            _(
                "Fiche n° %(number)s envoyée à l'atelier %(workshop)s.",
                number=found.number,
                workshop=found.workshop.name,
            ),
            "success",
        )
    return redirect(url_for("repairs.ticket", ticket_id=ticket_id))


@bp.post("/fiches/<int:ticket_id>/sortie")
@role_required("staff")
def collect(ticket_id):
    _found(ticket_id)
    try:
        found = repairs.mark_collected(current_user, ticket_id)
    except repairs.RepairError as error:
        flash(str(error), "error")
    else:
        flash(_("Fiche n° %(number)s rendue au client.", number=found.number), "success")
    return redirect(url_for("repairs.ticket", ticket_id=ticket_id))


@bp.post("/fiches/<int:ticket_id>/annulation")
@role_required("staff")
def cancel(ticket_id):
    _found(ticket_id)
    try:
        found = repairs.cancel(current_user, ticket_id)
    except repairs.RepairError as error:
        flash(str(error), "error")
    else:
        flash(_("Fiche n° %(number)s annulée.", number=found.number), "success")
    return redirect(url_for("repairs.ticket", ticket_id=ticket_id))

"""« Retour atelier »: tickets typed or scanned one by one, then validated together; the
clients are then told on the SMS screen."""

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ...services import repairs
from ..access import role_required
from . import bp, common, forms, parse_ids


def _line_context(ticket, values=None, errors=None):
    coefficient = repairs.default_coefficient(ticket)
    return {
        "ticket": ticket,
        "values": values or {},
        "line_errors": errors or {},
        "default_coefficient": coefficient,
        "computed_price": repairs.client_price(ticket.workshop_price, coefficient)
        or ticket.client_price,
    }


def _page(lines, error=None, status=200):
    return (
        render_template(
            "repairs/return.html",
            lines=lines,
            error=error,
            workshops=repairs.workshops(),
            today=date.today().isoformat(),
            **common(),
        ),
        status,
    )


@bp.get("/retour-atelier")
@role_required("staff")
def workshop_return():
    return _page([])


@bp.post("/retour-atelier/ligne")
@role_required("staff")
def return_line():
    """One typed or scanned ticket number: its line, or what is wrong, said in place."""
    number = request.form.get("number", "")[:40]
    try:
        ticket = repairs.find_for_return(current_user, number)
        if ticket.id in set(parse_ids(request.form.getlist("ticket_id"))):
            raise repairs.RepairError(
                _("La fiche n° %(number)s est déjà dans la liste.", number=ticket.number)
            )
    except repairs.RepairError as error:
        return (
            render_template("repairs/_return_error.html", error=str(error)),
            200,
            {"HX-Retarget": "#return-error", "HX-Reswap": "innerHTML"},
        )
    return render_template(
        "repairs/_return_line.html",
        workshops=repairs.workshops(),
        today=date.today().isoformat(),
        **_line_context(ticket),
        **common(),
    )


@bp.post("/retour-atelier")
@role_required("staff")
def record_return():
    tickets = repairs.tickets_for_return(current_user, parse_ids(request.form.getlist("ticket_id")))
    lines, typed = [], []
    for ticket in tickets:
        line, values, errors = forms.return_line(request.form, ticket.id)
        lines.append(line)
        typed.append((ticket, values, errors))
    failed = any(errors for _ticket, _values, errors in typed)
    if not failed and lines:
        try:
            done = repairs.record_return(current_user, lines)
        except repairs.ReturnErrors as error:
            for _ticket, _values, errors in typed:
                errors.update(error.lines.get(_ticket.id, {}))
            failed = True
        except repairs.RepairError as error:
            rendered = [_line_context(t, v, e) for t, v, e in typed]
            return _page(rendered, str(error), 422)
        else:
            flash(
                ngettext(
                    "Retour atelier enregistré : %(num)d fiche disponible.",
                    "Retour atelier enregistré : %(num)d fiches disponibles.",
                    len(done),
                ),
                "success",
            )
            return redirect(url_for("repairs.compose", ticket_id=done, retour=1))
    rendered = [_line_context(t, v, e) for t, v, e in typed]
    error = (
        _("Corrigez les lignes signalées : rien n'est encore enregistré.")
        if failed
        else _("Saisissez au moins un numéro de fiche retournée par l'atelier.")
    )
    return _page(rendered, error, 422)

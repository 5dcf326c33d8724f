"""« Retour atelier »: tickets typed or scanned one by one, then validated together; the
clients are then told on the SMS screen."""

from datetime import date

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...plurals import ngettext
from ...services import automatic, repairs
from ..access import role_required
from . import bp, common, forms


def _line_context(ticket, values=None, errors=None, again=False):
    coefficient = repairs.default_coefficient(ticket)
    return {
        "ticket": ticket,
        "again": again,
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
    """One typed or scanned ticket number: its line, or what is wrong, said in place. A
    ticket already « Disponible » comes only when the person asks to tell its client
    again (`again`, the button under the refusal)."""
    form = forms.ReturnLookupForm()
    try:
        ticket = repairs.find_for_return(
            current_user, form.number.data, again=form.again.data == "1"
        )
        if ticket.id in set(form.ticket_id.data):
            raise repairs.RepairError(
                _("La fiche n° %(number)s est déjà dans la liste.", number=ticket.number)
            )
    except repairs.RepairError as error:
        return (
            render_template(
                "repairs/_return_error.html",
                error=str(error),
                again_number=_again_number(error),
                again_told=_again_number(error) is not None and bool(error.ticket.notified_by),
            ),
            200,
            {"HX-Retarget": "#return-error", "HX-Reswap": "innerHTML"},
        )
    return render_template(
        "repairs/_return_line.html",
        workshops=repairs.workshops(),
        today=date.today().isoformat(),
        **_line_context(ticket, again=ticket.status == "ready"),
        **common(),
    )


def _again_number(error):
    if isinstance(error, repairs.NotAtWorkshop) and error.can_notify_again:
        return error.ticket.number
    return None


@bp.post("/retour-atelier")
@role_required("staff")
def record_return():
    form = forms.ReturnForm()
    tickets = repairs.tickets_for_return(current_user, form.ticket_id.data)
    again = set(form.again.data)
    lines, typed = [], []
    for ticket in tickets:
        line, values, errors = forms.return_line(ticket.id)
        line.again = ticket.id in again
        lines.append(line)
        typed.append((ticket, values, errors))
    failed = any(errors for _ticket, _values, errors in typed)

    def rendered():
        return [_line_context(t, v, e, again=t.id in again) for t, v, e in typed]

    if not failed and lines:
        try:
            done = repairs.record_return(current_user, lines)
        except repairs.ReturnErrors as error:
            for _ticket, _values, errors in typed:
                errors.update(error.lines.get(_ticket.id, {}))
            failed = True
        except repairs.RepairError as error:
            return _page(rendered(), str(error), 422)
        else:
            told_again = sum(1 for ticket_id in done if ticket_id in again)
            returned = len(done) - told_again
            if returned:
                flash(
                    ngettext(
                        "Retour atelier enregistré : %(num)d fiche disponible.",
                        "Retour atelier enregistré : %(num)d fiches disponibles.",
                        returned,
                    ),
                    "success",
                )
            if told_again:
                flash(
                    ngettext(
                        "%(num)d fiche déjà disponible : son retour reste tel qu'enregistré, "
                        "son client sera prévenu.",
                        "%(num)d fiches déjà disponibles : leurs retours restent tels "
                        "qu'enregistrés, leurs clients seront prévenus.",
                        told_again,
                    ),
                    "info",
                )
            # « Réparation prête » on (Envois automatiques): told now, once, by the service.
            told = automatic.notify_ready([i for i in done if i not in again])
            sent = sum(1 for campaign_id in told.values() if campaign_id)
            if sent:
                flash(
                    ngettext(
                        "%(num)d client prévenu automatiquement (Envois automatiques).",
                        "%(num)d clients prévenus automatiquement (Envois automatiques).",
                        sent,
                    ),
                    "success",
                )
            left = [i for i in done if not told.get(i)]
            if not left:
                return redirect(url_for("repairs.index"))
            return redirect(url_for("repairs.compose", ticket_id=left, retour=1))
    error = (
        _("Corrigez les lignes signalées : rien n'est encore enregistré.")
        if failed
        else _("Saisissez au moins un numéro de fiche retournée par l'atelier.")
    )
    return _page(rendered(), error, 422)

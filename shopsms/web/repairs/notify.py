"""The SMS about one ticket, a batch of the list's result, a workshop return or a
reminder. Which text goes (none, proposed, imposed) is repair_notices' rule."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...plurals import ngettext
from ...services import campaigns, credits, repair_notices, repairs
from .. import composer
from ..access import role_required
from ..helpers import render
from . import UNREACHABLE_LABELS, bp, common, forms, parse_ids

SEND_KINDS = tuple(repair_notices.KINDS)


def _kind(form):
    value = form.sav_kind.data or form.kind.data
    return value if value in SEND_KINDS else "repair"


def _send_context(ticket_ids, kind, posted=None, add_stop=False, error=None, with_composer=True):
    mode, body = repair_notices.screen_mode(kind, ticket_ids)
    proposed = body  # the screen's own text: leaving it untouched loses nothing
    if posted is not None and mode != "imposed":
        body = posted
    recap = repair_notices.recap(ticket_ids, posted, kind=kind, add_stop=add_stop)
    store_id = recap.lines[0].target.store_id if recap.lines else None
    context = {
        "ticket_ids": ticket_ids,
        "kind": kind,
        "mode": mode,
        "body": body,
        "add_stop": add_stop,
        "recap": recap,
        "error": error,
        "title": _title(kind, len(ticket_ids)),
        "unreachable_labels": UNREACHABLE_LABELS,
        # The banner that says a store of the sending cannot send (areas/_sending_off).
        "sending_store_ids": sorted(
            {line.target.store_id for line in recap.lines}
            | {target.store_id for target in recap.unreachable}
        ),
        **common(),
    }
    if with_composer and mode != "imposed":
        context["composer"] = composer.context(
            kind=repair_notices.KINDS[kind],
            body=body,
            store_id=store_id,
            add_stop=add_stop,
            dom_id="sav",
            autofocus=not body,
            ticket_ids=ticket_ids,
            pristine=proposed,
        )
    return context


def _title(kind, count):
    if kind == "workshop_return":
        return _("Prévenir les clients du retour atelier")
    if kind == "reminder":
        return _("Relancer les clients par SMS")
    if count == 1:
        return _("Envoi d'un SMS pour une fiche SAV")
    return _("Envoi d'un lot de SMS SAV")


def _visible(ticket_ids):
    return repairs.visible_ids(current_user, ticket_ids)


@bp.get("/sms")
@role_required("staff")
def compose():
    """The SMS screen for the chosen ticket(s) (?ticket_id=…), or for every ticket of the
    list's result (?lot=1 and the list's criteria)."""
    if request.args.get("lot"):
        criteria, errors = forms.criteria(request.args, current_user)
        if errors:
            for message in errors.values():
                flash(message, "error")
            return redirect(url_for("repairs.index", **request.args.to_dict(flat=False)))
        try:
            ticket_ids = repairs.matching_ids(current_user, criteria)
        except repairs.RepairError as error:
            flash(str(error), "error")
            return redirect(url_for("repairs.index", **request.args.to_dict(flat=False)))
    else:
        ticket_ids = _visible(parse_ids(request.args.getlist("ticket_id")))
    if not ticket_ids:
        flash(_("Aucune fiche à prévenir : choisissez une fiche dans la liste."), "warning")
        return redirect(url_for("repairs.index"))
    if request.args.get("retour"):
        kind = "workshop_return"
    elif request.args.get("relance"):
        kind = "reminder"
    else:
        kind = "repair"
    return render("repairs/send.html", **_send_context(ticket_ids, kind))


@bp.post("/sms/apercu")
@role_required("staff")
def recap():
    """The ticket-by-ticket texts and the exact cost, refreshed as the message changes."""
    form = forms.NoticeForm()
    context = _send_context(
        _visible(form.ticket_id.data),
        _kind(form),
        posted=form.body.data,
        add_stop=form.add_stop.data,
        with_composer=False,
    )
    return render_template("repairs/_recap.html", **context)


@bp.post("/sms")
@role_required("staff")
def send():
    form = forms.NoticeForm()
    ticket_ids = _visible(form.ticket_id.data)
    kind, add_stop, posted = _kind(form), form.add_stop.data, form.body.data
    if not ticket_ids:
        flash(_("Aucune fiche à prévenir : choisissez une fiche dans la liste."), "warning")
        return redirect(url_for("repairs.index"))
    try:
        sent = repair_notices.notify(
            ticket_ids, posted, kind=kind, user_id=current_user.id, add_stop=add_stop
        )
    except (campaigns.CampaignError, credits.NotEnoughCredits) as error:
        context = _send_context(
            ticket_ids, kind, posted=posted, add_stop=add_stop, error=str(error)
        )
        return render_template("repairs/send.html", **context), 422
    if not sent:
        flash(_("Aucun de ces clients ne peut recevoir de SMS : rien n'est parti."), "warning")
    else:
        count = sum(campaign.recipients_count for campaign in sent)
        flash(
            ngettext(
                "%(num)d SMS envoyé : la fiche est marquée « Prévenu par SMS ».",
                "%(num)d SMS envoyés : les fiches sont marquées « Prévenu par SMS ».",
                count,
            ),
            "success",
        )
    args = {"criteres": 1, "reparations": 1, "devis": 1, "statut": "all", "prevenu": "sms"}
    if len(ticket_ids) == 1:
        args["fiche"] = repairs.get(current_user, ticket_ids[0]).number
    return redirect(url_for("repairs.index", **args))

"""What the SAV screens post or put in the query string, turned into values, with a French
message for what is mistyped (the services check the rules)."""

from decimal import Decimal

from flask_babel import gettext as _

from ... import access, inputs
from ...services import repair_notices, repairs
from . import DATE_FIELDS, KIND_LABELS, NOTIFIED_OPTIONS, SMS_OPTIONS, STATUS_OPTIONS, parse_id


def parse_amount(text, field, errors, label):
    """An amount as inputs.read_amount reads it (« 30 », « 30,00 € », « 1 234,50 »)."""
    try:
        return inputs.read_amount(text)
    except inputs.AmountUnreadable:
        errors[field] = _("%(label)s : tapez un nombre, par exemple 30,00.", label=label)
        return None


def parse_date(text, field, errors, label):
    try:
        return inputs.read_date(text)
    except inputs.DateUnreadable:
        errors[field] = _("%(label)s : tapez une date, par exemple 14/03/2026.", label=label)
        return None


def criteria(args, user):
    """The list's criteria from the query string, and French errors for what is mistyped."""
    errors = {}
    if "criteres" not in args:  # first opening: the seed's defaults
        return repairs.Criteria(), errors
    status = args.get("statut", "ready")
    sms = args.get("sms", "all")
    notified = args.get("prevenu", "")
    date_field = args.get("date_sur", "received_on")
    kind = args.get("operation", "")
    waiting_since = _waiting_since(args, user)
    selection_id = _selection(args, user, errors)
    if waiting_since is not None:
        status = "ready"  # « À relancer »: tickets waiting for their client, nothing else
    found = repairs.Criteria(
        repairs=bool(args.get("reparations")),
        quotes=bool(args.get("devis")),
        status=status if status in STATUS_OPTIONS else "ready",
        number=args.get("fiche", "").strip()[:20],
        amount_min=parse_amount(args.get("montant_de"), "montant_de", errors, _("Montant de")),
        amount_max=parse_amount(args.get("montant_a"), "montant_a", errors, _("Montant à")),
        client_number=args.get("client", "").strip()[:20],
        client_name=args.get("nom", "").strip()[:80],
        notified=notified if notified in NOTIFIED_OPTIONS else "",
        sms=sms if sms in SMS_OPTIONS else "all",
        kind=kind if kind in KIND_LABELS else "",
        workshop_id=parse_id(args.get("atelier")),
        description=args.get("descriptif", "").strip()[:80],
        date_field=date_field if date_field in DATE_FIELDS else "received_on",
        date_from=parse_date(args.get("du"), "du", errors, _("Du")),
        date_to=parse_date(args.get("au"), "au", errors, _("Au")),
        waiting_since=waiting_since,
        selection_id=selection_id,
    )
    return found, errors


def _selection(args, user, errors):
    """« Respecter les critères de sélection »: the selection's id, if it is one the
    person may use (else a message, and the list is not restricted)."""
    raw = args.get("selection", "").strip()
    if not raw:
        return None
    selection_id = parse_id(raw)
    try:
        if selection_id is None:
            raise repairs.RepairError(
                _("Cette sélection de clients n'existe pas ou n'est pas de votre magasin.")
            )
        repairs.selection_for(user, selection_id)
    except repairs.RepairError as error:
        errors["selection"] = str(error)
        return None
    return selection_id


def _waiting_since(args, user):
    if not args.get("relance"):
        return None
    store_id = access.store_scope(user)
    since, _days = repair_notices.reminder_cutoff(store_id)
    return since


def ticket_form(data):
    form = repairs.TicketForm()
    errors = {}
    form.number = data.get("number", "").strip()[:20]
    form.client_number = data.get("client_number", "").strip()[:20]
    form.kind = data.get("kind", "repair")
    form.item_description = data.get("item_description", "")[:200]
    form.work_description = data.get("work_description", "")[:200]
    form.client_price = parse_amount(data.get("client_price"), "client_price", errors, _("Montant"))
    deposit = parse_amount(data.get("deposit"), "deposit", errors, _("Acompte"))
    form.deposit = deposit if deposit is not None else Decimal("0")
    form.workshop_id = parse_id(data.get("workshop_id"))
    if data.get("workshop_id", "").strip() and form.workshop_id is None:
        errors["workshop_id"] = _("Cet atelier n'existe pas : choisissez-le dans la liste.")
    form.store_id = parse_id(data.get("store_id"))
    form.interventions = data.get("interventions", "")[:2000]
    form.errors = errors
    return form


def form_of(ticket):
    return repairs.TicketForm(
        number=ticket.number,
        client_number=ticket.client.number,
        kind=ticket.kind,
        item_description=ticket.item_description,
        work_description=ticket.work_description,
        client_price=ticket.client_price,
        deposit=ticket.deposit,
        workshop_id=ticket.workshop_id,
        interventions=ticket.interventions,
    )


def return_line(form, ticket_id):
    """One line of the workshop return: (ReturnLine, what was typed, French errors)."""
    prefix = f"l{ticket_id}_"
    values = {k[len(prefix) :]: v for k, v in form.items() if k.startswith(prefix)}
    errors = {}

    def amount(name, label):
        return parse_amount(values.get(name), name, errors, label)

    workshop = values.get("workshop_id", "")
    workshop_id = parse_id(workshop)
    if workshop.strip() and workshop_id is None:
        errors["workshop_id"] = _(
            "Atelier : cet atelier n'existe pas, choisissez-le dans la liste."
        )
    line = repairs.ReturnLine(
        ticket_id=ticket_id,
        returned_on=parse_date(
            values.get("returned_on"), "returned_on", errors, _("Date de retour")
        ),
        workshop_id=workshop_id,
        workshop_comment=values.get("comment", "")[:2000],
        workshop_price=amount("workshop_price", _("Prix atelier")),
        coefficient=amount("coefficient", _("Coefficient")),
        client_price=amount("client_price", _("Prix client")),
        interventions=values.get("interventions", "")[:2000],
    )
    return line, values, errors

"""What the SAV screens post or put in the query string, turned into values, with a French
message for what is mistyped (the services check the rules)."""

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from ... import access, inputs
from ...services import repair_notices, repairs
from ..forms import AmountField, CheckField, DayField, Form, IdField, IdListField, TextField
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


# An amount of the SAV screens: a price or a coefficient, hence « un nombre ».
NUMBER = _l("%(label)s : tapez un nombre, par exemple 30,00.")
WORKSHOP_UNKNOWN = _l("Cet atelier n'existe pas : choisissez-le dans la liste.")


class WorkshopField(IdField):
    """A workshop picked in the list; something typed that is not one is said."""

    def __init__(self, label=None, validators=None, *, message=WORKSHOP_UNKNOWN, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def pre_validate(self, form):
        if self.raw_data and self.raw_data[0].strip() and self.data is None:
            raise ValidationError(str(self.message))


class TicketForm(Form):
    """« Nouvelle fiche SAV » and a ticket's page."""

    number = TextField(max_length=20)
    client_number = TextField(max_length=20)
    kind = TextField(default="repair")
    item_description = TextField(strip=False, max_length=200)
    work_description = TextField(strip=False, max_length=200)
    client_price = AmountField(_l("Montant"), message=NUMBER)
    deposit = AmountField(_l("Acompte"), message=NUMBER)
    workshop_id = WorkshopField()
    store_id = IdField()
    interventions = TextField(strip=False, max_length=2000)

    def ticket(self):
        """The service's TicketForm, with what is mistyped as its errors."""
        self.validate()
        errors = self.field_errors()
        return repairs.TicketForm(
            number=self.number.data,
            client_number=self.client_number.data,
            kind=self.kind.data,
            item_description=self.item_description.data,
            work_description=self.work_description.data,
            client_price=self.client_price.data,
            deposit=self.deposit.data if self.deposit.data is not None else Decimal("0"),
            workshop_id=self.workshop_id.data,
            store_id=self.store_id.data,
            interventions=self.interventions.data,
            errors=errors,
        )


def ticket_form():
    return TicketForm().ticket()


class ToWorkshopForm(Form):
    workshop_id = IdField()


class NoticeForm(Form):
    """The SAV SMS screen: the tickets, the kind of notice, the text."""

    ticket_id = IdListField()
    sav_kind = TextField()
    kind = TextField()
    body = TextField(strip=False)
    add_stop = CheckField()


class ReturnLineForm(Form):
    """One line of the workshop return; its fields are prefixed « l<ticket id>_ »."""

    class Meta:
        csrf = False  # the page's own form carries the token

    workshop_id = WorkshopField(
        message=_l("Atelier : cet atelier n'existe pas, choisissez-le dans la liste.")
    )
    returned_on = DayField(_l("Date de retour"))
    comment = TextField(strip=False, max_length=2000)
    workshop_price = AmountField(_l("Prix atelier"), message=NUMBER)
    coefficient = AmountField(_l("Coefficient"), message=NUMBER)
    client_price = AmountField(_l("Prix client"), message=NUMBER)
    interventions = TextField(strip=False, max_length=2000)


class ReturnForm(Form):
    """« Retour atelier »: the tickets listed, and those whose client is told again."""

    ticket_id = IdListField()
    again = IdListField()


class ReturnLookupForm(Form):
    """One ticket number typed or scanned on « Retour atelier »."""

    number = TextField(strip=False, max_length=40)
    again = TextField()
    ticket_id = IdListField()


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


def return_line(ticket_id):
    """One posted line of the workshop return: (ReturnLine, what was typed, French errors)."""
    form = ReturnLineForm(prefix=f"l{ticket_id}_")
    form.validate()
    errors = form.field_errors()
    values = {name: field.raw_data[0] for name, field in form._fields.items() if field.raw_data}
    line = repairs.ReturnLine(
        ticket_id=ticket_id,
        returned_on=form.returned_on.data,
        workshop_id=form.workshop_id.data,
        workshop_comment=form.comment.data,
        workshop_price=form.workshop_price.data,
        coefficient=form.coefficient.data,
        client_price=form.client_price.data,
        interventions=form.interventions.data,
    )
    return line, values, errors

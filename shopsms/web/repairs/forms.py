"""What the SAV screens post or put in the query string, turned into values, with a French
message for what is mistyped (the services check the rules)."""

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from ... import access
from ...services import repair_notices, repairs
from ..forms import AmountField, CheckField, DayField, Form, IdField, IdListField, TextField
from . import DATE_FIELDS, KIND_LABELS, NOTIFIED_OPTIONS, SMS_OPTIONS, STATUS_OPTIONS, parse_id

# An amount of the SAV screens: a price or a coefficient, hence « un nombre ».
NUMBER = _l("%(label)s : tapez un nombre, par exemple 30,00.")
WORKSHOP_UNKNOWN = _l("Cet atelier n'existe pas : choisissez-le dans la liste.")


class ListForm(Form):
    """The list's criteria, from its query string (a GET: no token), with a French
    message for what is mistyped; the service applies them. The fields' names are the
    query's, which the list's links and the « Prévenir » batch carry along."""

    class Meta:
        csrf = False

    criteres = TextField()  # present once the person has searched: else the defaults
    reparations = CheckField()
    devis = CheckField()
    statut = TextField(default="ready")
    sms = TextField(default="all")
    prevenu = TextField()
    date_sur = TextField(default="received_on")
    operation = TextField()
    fiche = TextField(max_length=20)
    montant_de = AmountField(_l("Montant de"), message=NUMBER)
    montant_a = AmountField(_l("Montant à"), message=NUMBER)
    client = TextField(max_length=20)
    nom = TextField(max_length=80)
    atelier = TextField()
    descriptif = TextField(max_length=80)
    du = DayField(_l("Du"))
    au = DayField(_l("Au"))
    selection = TextField()
    relance = TextField()

    def criteria(self, user):
        """(repairs.Criteria, {field: message} for what is mistyped)."""
        if not self.criteres.raw_data:
            return repairs.Criteria(), {}  # first opening: the seed's defaults
        self.validate()
        errors = self.field_errors()
        status = self.statut.data
        waiting_since = self._waiting_since(user)
        if waiting_since is not None:
            status = "ready"  # « À relancer »: tickets waiting for their client, nothing else
        found = repairs.Criteria(
            repairs=self.reparations.data,
            quotes=self.devis.data,
            status=status if status in STATUS_OPTIONS else "ready",
            number=self.fiche.data,
            amount_min=self.montant_de.data,
            amount_max=self.montant_a.data,
            client_number=self.client.data,
            client_name=self.nom.data,
            notified=self.prevenu.data if self.prevenu.data in NOTIFIED_OPTIONS else "",
            sms=self.sms.data if self.sms.data in SMS_OPTIONS else "all",
            kind=self.operation.data if self.operation.data in KIND_LABELS else "",
            workshop_id=parse_id(self.atelier.data),
            description=self.descriptif.data,
            date_field=self.date_sur.data if self.date_sur.data in DATE_FIELDS else "received_on",
            date_from=self.du.data,
            date_to=self.au.data,
            waiting_since=waiting_since,
            selection_id=self._selection(user, errors),
        )
        return found, errors

    def _selection(self, user, errors):
        """« Respecter les critères de sélection »: the selection's id, if it is one the
        person may use (else a message, and the list is not restricted)."""
        if not self.selection.data:
            return None
        selection_id = parse_id(self.selection.data)
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

    def _waiting_since(self, user):
        if not self.relance.data:
            return None
        since, _days = repair_notices.reminder_cutoff(access.store_scope(user))
        return since


def criteria(args, user):
    """The list's criteria from a query string (ListForm)."""
    return ListForm(formdata=args).criteria(user)


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

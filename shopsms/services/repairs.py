"""« Fiches SAV »: find, create and follow repair tickets, record the workshop return,
and tell clients their repair is ready (the sending itself: services/repair_notices).

Staff act on their store's tickets; head office on every store's.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import CursorResult, Row, Select, and_, not_, or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.sql import ColumnElement

from .. import access, formats
from ..access import Person
from ..extensions import db
from ..models import (
    REPAIR_KINDS,
    Campaign,
    Client,
    DraftRecipient,
    Message,
    RepairTicket,
    Store,
    Workshop,
)
from ..sms import hours
from . import audit, automatic, campaigns, credits, eligibility, listings, repair_notices

log = logging.getLogger(__name__)

STATUS_FILTERS = ("ready", "open", "at_workshop", "collected", "cancelled", "all")
# The last SMS about a ticket ended so: the client was not told.
UNTOLD_STATES = ("failed", "expired", "skipped")
DATE_FIELDS = ("received_on", "sent_to_workshop_on", "returned_on", "collected_on")
CENT = Decimal("0.01")


class RepairError(ValueError):
    """A French message that says what to fix."""


@dataclass(frozen=True)
class Criteria:
    """The seed's « Critères de recherche » of the « Liste des fiches SAV »."""

    repairs: bool = True  # Rép., Garantie, Gratuit
    quotes: bool = False  # Devis
    status: str = "ready"  # « Disponibles » first: what the counter looks for
    number: str = ""
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    client_number: str = ""
    client_name: str = ""
    notified: str = ""
    sms: str = "all"
    # « Critères de recherche de la fiche »
    kind: str = ""
    workshop_id: int | None = None
    description: str = ""
    # « Critères de recherche sur les dates »
    date_field: str = "received_on"
    date_from: date | None = None
    date_to: date | None = None
    # Ready since that date or before, and not told since: the reminder.
    waiting_since: date | None = None
    # « Respecter les critères de sélection »: only the clients of this client selection
    # (a marketing draft's « Liste des destinataires », see current_selection).
    selection_id: int | None = None


def _told() -> ColumnElement[bool]:
    """« Prévenu par SMS »: an SMS went and its last one did not fail (needs the join on
    the ticket's last message)."""
    return and_(
        RepairTicket.notified_by == "sms",
        or_(Message.state.is_(None), Message.state.not_in(UNTOLD_STATES)),
    )


def _query(user: Person, c: Criteria) -> Select:
    query = (
        select(
            RepairTicket,
            Client.number.label("client_number"),
            Client.last_name,
            Client.first_name,
            Client.sms_number,
            Client.sms_refuses_all,
            Store.name.label("store_name"),
            Workshop.name.label("workshop_name"),
            Message.state.label("message_state"),
        )
        .join(Client, Client.id == RepairTicket.client_id)
        .join(Store, Store.id == RepairTicket.store_id)
        .outerjoin(Workshop, Workshop.id == RepairTicket.workshop_id)
        .outerjoin(Message, Message.id == RepairTicket.last_message_id)
        .order_by(RepairTicket.received_on.desc(), RepairTicket.id.desc())
    )
    kinds = []
    if c.repairs:
        kinds += ["repair", "warranty", "free"]
    if c.quotes:
        kinds.append("quote")
    if c.kind in REPAIR_KINDS:
        kinds = [k for k in kinds if k == c.kind]
    query = query.where(RepairTicket.kind.in_(kinds))
    if c.status in STATUS_FILTERS and c.status != "all":
        query = query.where(RepairTicket.status == c.status)
    number = c.number.replace(" ", "").strip()
    if number:
        query = query.where(listings.prefix(RepairTicket.number, number, cases=False))
    if c.amount_min is not None:
        query = query.where(RepairTicket.client_price >= c.amount_min)
    if c.amount_max is not None:
        query = query.where(RepairTicket.client_price <= c.amount_max)
    if c.client_number.strip():
        query = query.where(Client.number.in_(client_number_forms(c.client_number)))
    if c.selection_id is not None:
        # One probe of ix_draft_recipients_campaign_client per ticket the other criteria
        # keep: the selection's size does not matter.
        in_selection = select(DraftRecipient.id).where(
            DraftRecipient.campaign_id == c.selection_id,
            DraftRecipient.client_id == RepairTicket.client_id,
        )
        query = query.where(in_selection.exists())
    if c.client_name.strip():
        query = query.where(listings.prefix(Client.last_name, c.client_name.strip()))
    if c.notified == "sms":
        # The latest told first: what was just sent is at the top.
        query = (
            query.where(_told())
            .order_by(None)
            .order_by(RepairTicket.notified_at.desc(), RepairTicket.id.desc())
        )
    elif c.notified == "none":
        query = query.where(not_(_told()))
    if c.sms in ("with", "without"):
        reachable = eligibility.reachable("repair")
        query = query.where(reachable if c.sms == "with" else not_(reachable))
    if c.workshop_id:
        query = query.where(RepairTicket.workshop_id == c.workshop_id)
    if c.description.strip():
        words = f"%{c.description.strip()}%"
        query = query.where(
            or_(
                RepairTicket.item_description.ilike(words),
                RepairTicket.work_description.ilike(words),
            )
        )
    if c.date_field in DATE_FIELDS:
        column = getattr(RepairTicket, c.date_field)
        if c.date_from:
            query = query.where(column >= c.date_from)
        if c.date_to:
            query = query.where(column <= c.date_to)
    if c.waiting_since is not None:
        query = query.where(RepairTicket.status == "ready", _waiting(user, c.waiting_since))
    return access.scoped(query, RepairTicket.store_id, user)


# A client number is a string (« 0000888 »); people type it without its leading zeros.
_NUMBER_MAX = 20  # clients.number's length


def client_number_forms(typed: str) -> list[str]:
    """The client numbers that `typed` may stand for: itself and, for digits, the same
    number with any count of leading zeros (« 888 » finds « 0000888 », and the other way
    round). A short list of exact values: the unique index on the number serves it."""
    typed = typed.replace(" ", "").strip()[:_NUMBER_MAX]
    if not typed.isdigit():
        return [typed]
    core = typed.lstrip("0")
    if not core:
        return ["0" * n for n in range(1, _NUMBER_MAX + 1)]
    return [core.zfill(n) for n in range(len(core), _NUMBER_MAX + 1)]


def current_selection(user: Person) -> Campaign | None:
    """« Respecter les critères de sélection »: the person's current client selection, as
    the seed means it (the selection last run, its list of clients kept): their newest
    marketing draft, whose « Liste des destinataires » holds the clients its criteria
    found. None when they have none."""
    return db.session.scalars(
        select(Campaign)
        .where(
            Campaign.status == "draft",
            Campaign.kind == "marketing",
            Campaign.created_by_id == user.id,
        )
        .order_by(Campaign.id.desc())
        .limit(1)
    ).first()


def selection_for(user: Person, campaign_id: int) -> Campaign:
    """The client selection (a marketing draft) the list may be restricted to, or
    RepairError: it must still be a draft the person may see."""
    campaign = db.session.get(Campaign, campaign_id)
    if (
        campaign is None
        or campaign.kind != "marketing"
        or not access.may_see_store(user, campaign.store_id)
    ):
        raise RepairError(
            _l("Cette sélection de clients n'existe pas ou n'est pas de votre magasin.")
        )
    if campaign.status != "draft":
        raise RepairError(
            _l(
                "Cette sélection de clients a été envoyée ou supprimée : refaites une sélection "
                "(Campagnes) pour en respecter les critères."
            )
        )
    return campaign


def _waiting(user: Person, since: date) -> ColumnElement[bool]:
    """Ready since `since` or earlier and not told since. Head office sees every store:
    a store with its own delay (SAV tab) is reminded after that delay."""

    def waiting(cutoff: date) -> ColumnElement[bool]:
        return and_(
            RepairTicket.returned_on <= cutoff,
            or_(
                not_(_told()),
                RepairTicket.notified_at.is_(None),
                RepairTicket.notified_at < _paris_midnight_utc(cutoff),
            ),
        )

    own = repair_notices.store_reminder_cutoffs() if access.every_store(user) else {}
    if not own:
        return waiting(since)
    return or_(
        and_(RepairTicket.store_id.not_in(list(own)), waiting(since)),
        *(
            and_(RepairTicket.store_id == store_id, waiting(cutoff))
            for store_id, cutoff in own.items()
        ),
    )


def _paris_midnight_utc(day: date) -> datetime:
    """notified_at is naive UTC; the day starts at midnight in the shops' time."""
    moment = datetime.combine(day, time()).replace(tzinfo=hours.PARIS)
    return moment.astimezone(UTC).replace(tzinfo=None)


def search(
    user: Person, criteria: Criteria, *, page: int = 1, per_page: int = listings.PER_PAGE
) -> listings.Page:
    return listings.paginate(_query(user, criteria), page, per_page)


# A batch is one sending; beyond this a selection is a campaign, not a counter job.
BATCH_LIMIT = 2000


def matching_ids(user: Person, criteria: Criteria, *, limit: int = BATCH_LIMIT) -> list[int]:
    """The ids of every ticket of the result (« envoi d'un lot »), in the list's order."""
    ids_query = _query(user, criteria).with_only_columns(RepairTicket.id).limit(limit + 1)
    ids = list(db.session.scalars(ids_query))
    if len(ids) > limit:
        raise RepairError(
            _l(
                "Plus de %(limit)s fiches : affinez les critères avant d'envoyer un lot.",
                limit=limit,
            )
        )
    return ids


def reminder_count(user: Person, today: date | None = None) -> tuple[int, int, date]:
    """How many tickets wait for their client for longer than the SAV tab says."""
    store_id = access.store_scope(user)
    since, days = repair_notices.reminder_cutoff(store_id, today)
    criteria = Criteria(status="ready", quotes=True, waiting_since=since)
    total = listings.paginate(_query(user, criteria), 1, 1).total
    return total, days, since


# --- one ticket ---------------------------------------------------------------------------


def get(user: Person, ticket_id: int) -> RepairTicket | None:
    """The ticket if the person may act on it, else None."""
    ticket = db.session.get(RepairTicket, ticket_id)
    if ticket is None:
        return None
    if not access.may_see_store(user, ticket.store_id):
        return None
    return ticket


def messages(
    ticket: RepairTicket | None,
) -> Sequence[Row[int, str, int | None, datetime]]:
    """Every SMS about the ticket, newest first: its state (delivered, failed…), when, and
    its sending (campaign_id)."""
    if ticket is None:
        return []
    return db.session.execute(
        select(Message.id, Message.state, Message.campaign_id, Message.created_at)
        .where(Message.repair_ticket_id == ticket.id)
        .order_by(Message.id.desc())
    ).all()


def visible_ids(user: Person, ticket_ids: Iterable[int]) -> list[int]:
    """The given ids the person may act on, in the given order."""
    ids = [int(i) for i in ticket_ids]
    if not ids:
        return []
    query = access.scoped(
        select(RepairTicket.id).where(RepairTicket.id.in_(ids)), RepairTicket.store_id, user
    )
    allowed = set(db.session.scalars(query))
    return [i for i in dict.fromkeys(ids) if i in allowed]


def workshops() -> list[Workshop]:
    return list(db.session.scalars(select(Workshop).order_by(Workshop.code)))


def stores(user: Person) -> list[Store]:
    """Where a new ticket may be recorded: head office chooses among every store."""
    if not access.every_store(user):
        return []
    return list(db.session.scalars(select(Store).order_by(Store.name)))


@dataclass
class TicketForm:
    """What the ticket form posts, already parsed (the view turns text into values)."""

    number: str = ""
    client_number: str = ""
    kind: str = "repair"
    item_description: str = ""
    work_description: str = ""
    client_price: Decimal | None = None
    deposit: Decimal = Decimal("0")
    workshop_id: int | None = None
    interventions: str = ""
    store_id: int | None = None  # head office only; else the person's store
    errors: dict = field(default_factory=dict)


def _find_client(user: Person, number: str, errors: dict[str, str | LazyString]) -> Client | None:
    """The client of that number the person may see: their store's, any for head office."""
    query = access.scoped(select(Client).where(Client.number == number), Client.store_id, user)
    client = db.session.scalars(query.limit(1)).first()
    if client is None:
        errors["client_number"] = (
            _l("Aucun client n° %(number)s dans votre magasin : vérifiez le numéro.", number=number)
            if not access.every_store(user)
            else _l("Aucun client n° %(number)s.", number=number)
        )
    return client


def save(user: Person, form: TicketForm, ticket_id: int | None = None) -> RepairTicket:
    """Create a ticket (ticket_id None) or change one. Returns the ticket, or raises
    RepairError with form.errors filled (field → French message)."""
    errors = dict(form.errors)
    number = form.number.replace(" ", "").strip()
    if not number:
        errors["number"] = _l("Saisissez le numéro de la fiche.")
    ticket = None
    if ticket_id is not None:
        ticket = get(user, ticket_id)
        if ticket is None:
            raise RepairError(_l("Cette fiche n'existe pas ou n'est pas de votre magasin."))
    if number:
        clash = db.session.scalar(select(RepairTicket.id).where(RepairTicket.number == number))
        if clash is not None and (ticket is None or clash != ticket.id):
            errors["number"] = _l(
                "La fiche n° %(number)s existe déjà : choisissez un autre numéro.", number=number
            )
    client = None
    if not form.client_number.strip():
        errors["client_number"] = _l("Saisissez le numéro du client.")
    else:
        client = _find_client(user, form.client_number.strip(), errors)
    if form.kind not in REPAIR_KINDS:
        errors["kind"] = _l("Choisissez l'opération (réparation, garantie, gratuit ou devis).")
    if not form.item_description.strip():
        errors["item_description"] = _l("Décrivez l'article confié (descriptif).")
    if form.workshop_id and db.session.get(Workshop, form.workshop_id) is None:
        errors["workshop_id"] = _l("Cet atelier n'existe pas : choisissez-le dans la liste.")
    for name in ("client_price", "deposit"):
        value = getattr(form, name)
        if value is not None and value < 0:
            errors[name] = _l("Un montant ne peut pas être négatif.")
    store_id = None
    if ticket is None:
        if not access.every_store(user):
            store_id = user.store_id
        elif form.store_id is not None:
            if db.session.get(Store, form.store_id) is None:
                errors["store_id"] = _l("Ce magasin n'existe pas : choisissez-le dans la liste.")
            store_id = form.store_id
        elif client is not None:
            store_id = client.store_id
    if errors:
        form.errors = errors
        raise RepairError(_l("La fiche n'est pas enregistrée : corrigez les champs signalés."))
    assert client is not None  # else errors["client_number"] says why
    if ticket is None:
        ticket = RepairTicket(store_id=store_id, status="open")
        db.session.add(ticket)
    ticket.number = number
    ticket.client_id = client.id
    ticket.kind = form.kind
    ticket.item_description = form.item_description.strip()[:200]
    ticket.work_description = form.work_description.strip()[:200]
    ticket.client_price = form.client_price
    ticket.deposit = form.deposit or Decimal("0")
    ticket.workshop_id = form.workshop_id or None
    ticket.interventions = form.interventions.strip()
    db.session.flush()
    audit.record("repair.save", user=user, store_id=ticket.store_id, obj=ticket)
    db.session.commit()
    return ticket


def send_to_workshop(
    user: Person, ticket_id: int, workshop_id: int | None, on: date | None = None
) -> RepairTicket:
    ticket = _acting_on(user, ticket_id)
    if ticket.status not in ("open", "at_workshop"):
        raise RepairError(
            _l(
                "La fiche n° %(number)s n'est pas en magasin : elle ne peut pas partir.",
                number=ticket.number,
            )
        )
    if not workshop_id or db.session.get(Workshop, workshop_id) is None:
        raise RepairError(_l("Choisissez l'atelier."))
    ticket.workshop_id = workshop_id
    ticket.status = "at_workshop"
    ticket.sent_to_workshop_on = on or date.today()
    audit.record("repair.to_workshop", user=user, store_id=ticket.store_id, obj=ticket)
    db.session.commit()
    return ticket


def mark_collected(user: Person, ticket_id: int, on: date | None = None) -> RepairTicket:
    """« Sortie »: the client took the article back."""
    ticket = _acting_on(user, ticket_id)
    if ticket.status in ("collected", "cancelled"):
        raise RepairError(
            _l("La fiche n° %(number)s est déjà sortie ou annulée.", number=ticket.number)
        )
    ticket.status = "collected"
    ticket.collected_on = on or date.today()
    audit.record("repair.collect", user=user, store_id=ticket.store_id, obj=ticket)
    db.session.commit()
    return ticket


def cancel(user: Person, ticket_id: int) -> RepairTicket:
    """« Annuler la fiche »: recorded by mistake, or the client gave up the repair."""
    ticket = _acting_on(user, ticket_id)
    if ticket.status in ("collected", "cancelled"):
        raise RepairError(
            _l("La fiche n° %(number)s est déjà sortie ou annulée.", number=ticket.number)
        )
    ticket.status = "cancelled"
    audit.record("repair.cancel", user=user, store_id=ticket.store_id, obj=ticket)
    db.session.commit()
    return ticket


def _acting_on(user: Person, ticket_id: int) -> RepairTicket:
    ticket = get(user, ticket_id)
    if ticket is None:
        raise RepairError(_l("Cette fiche n'existe pas ou n'est pas de votre magasin."))
    return ticket


# --- « Retour atelier » -------------------------------------------------------------------


def _with_people() -> Select[RepairTicket]:
    return select(RepairTicket).options(
        joinedload(RepairTicket.client),
        joinedload(RepairTicket.store),
        joinedload(RepairTicket.workshop),
    )


class NotAtWorkshop(RepairError):
    """The ticket typed on the workshop return is not at a workshop. `can_notify_again`:
    it is already « Disponible », and the person may still ask to tell its client again."""

    def __init__(
        self, message: str | LazyString, ticket: RepairTicket, *, can_notify_again: bool = False
    ) -> None:
        super().__init__(message)
        self.ticket = ticket
        self.can_notify_again = can_notify_again


def _last_message_state(ticket: RepairTicket) -> str | None:
    if ticket.last_message_id is None:
        return None
    return db.session.scalar(select(Message.state).where(Message.id == ticket.last_message_id))


def return_refusal(ticket: RepairTicket) -> NotAtWorkshop | None:
    """Why this ticket cannot come back from the workshop (a French sentence that starts
    with its number), or None when it is at a workshop. A ticket already « Disponible »
    raises NotAtWorkshop with can_notify_again: its client was told, or should be."""
    number = ticket.number
    if ticket.status == "at_workshop":
        return None
    if ticket.status == "ready":
        state = _last_message_state(ticket)
        since = formats.day(ticket.returned_on)
        told = ticket.notified_at
        day, hour = formats.day(told), formats.hour(told)
        if ticket.notified_by == "sms" and told and state not in UNTOLD_STATES:
            reason = _l(
                "Fiche %(number)s : déjà disponible, prévenue le %(day)s à %(hour)s.",
                number=number,
                day=day,
                hour=hour,
            )
        elif ticket.notified_by == "sms" and told and since:
            reason = _l(
                "Fiche %(number)s : déjà disponible depuis le %(since)s, mais le SMS du "
                "%(day)s à %(hour)s n'est pas arrivé au client.",
                number=number,
                since=since,
                day=day,
                hour=hour,
            )
        elif ticket.notified_by == "sms" and told:
            reason = _l(
                "Fiche %(number)s : déjà disponible, mais le SMS du %(day)s à %(hour)s n'est "
                "pas arrivé au client.",
                number=number,
                day=day,
                hour=hour,
            )
        elif since:
            reason = _l(
                "Fiche %(number)s : déjà disponible depuis le %(since)s, le client n'a pas "
                "encore été prévenu.",
                number=number,
                since=since,
            )
        else:
            reason = _l(
                "Fiche %(number)s : déjà disponible, le client n'a pas encore été prévenu.",
                number=number,
            )
        return NotAtWorkshop(reason, ticket, can_notify_again=True)
    if ticket.status == "open":
        reason = _l(
            "Fiche %(number)s : en magasin, elle n'est pas partie à l'atelier. "
            "Enregistrez d'abord son envoi à l'atelier sur la fiche.",
            number=number,
        )
    elif ticket.status == "collected" and ticket.collected_on:
        reason = _l(
            "Fiche %(number)s : déjà rendue au client le %(day)s.",
            number=number,
            day=formats.day(ticket.collected_on),
        )
    elif ticket.status == "collected":
        reason = _l("Fiche %(number)s : déjà rendue au client.", number=number)
    elif ticket.status == "cancelled":
        reason = _l(
            "Fiche %(number)s : annulée, elle ne peut plus revenir de l'atelier.", number=number
        )
    else:
        reason = _l("Fiche %(number)s : elle n'est pas à l'atelier.", number=number)
    return NotAtWorkshop(reason, ticket)


def find_for_return(user: Person, number: str | None, *, again: bool = False) -> RepairTicket:
    """The ticket typed or scanned on the workshop-return screen, or RepairError. Only a
    ticket at a workshop comes back; one already « Disponible » only when the person
    asked to tell its client again (`again`)."""
    number = (number or "").replace(" ", "").strip()
    if not number:
        raise RepairError(_l("Saisissez ou scannez un numéro de fiche."))
    query = access.scoped(
        _with_people().where(RepairTicket.number == number), RepairTicket.store_id, user
    )
    ticket = db.session.scalars(query).first()
    if ticket is None:
        raise RepairError(_l("Aucune fiche n° %(number)s dans votre magasin.", number=number))
    refusal = return_refusal(ticket)
    if refusal is not None and not (again and refusal.can_notify_again):
        raise refusal
    return ticket


def tickets_for_return(user: Person, ticket_ids: Iterable[int]) -> list[RepairTicket]:
    """The posted lines' tickets the person may act on, with client, store and workshop,
    in one query; in the order posted."""
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        return []
    query = access.scoped(
        _with_people().where(RepairTicket.id.in_(ids)), RepairTicket.store_id, user
    )
    found = {ticket.id: ticket for ticket in db.session.scalars(query).unique()}
    return [found[i] for i in ids if i in found]


def client_price(
    workshop_price: Decimal | None, coefficient: Decimal | None, typed: Decimal | None = None
) -> Decimal | None:
    """Price to the client: typed, else workshop price × coefficient (seed 2.5)."""
    if typed is not None:
        return typed.quantize(CENT, ROUND_HALF_UP)
    if workshop_price is None or coefficient is None:
        return None
    return (workshop_price * coefficient).quantize(CENT, ROUND_HALF_UP)


@dataclass
class ReturnLine:
    ticket_id: int
    returned_on: date | None = None
    workshop_id: int | None = None
    workshop_comment: str = ""
    workshop_price: Decimal | None = None
    coefficient: Decimal | None = None
    client_price: Decimal | None = None  # typed; None: computed
    interventions: str = ""
    # Already « Disponible »: nothing to record, the person asked to tell the client again.
    again: bool = False


class ReturnErrors(RepairError):
    """Some lines of the return are wrong: `lines` maps ticket id → field → message."""

    def __init__(self, lines: Mapping[int, Mapping[str, str | LazyString]]) -> None:
        self.lines = lines
        super().__init__(_l("Corrigez les lignes signalées : rien n'est encore enregistré."))


AMOUNT_LABELS = {
    "workshop_price": _l("Prix atelier"),
    "coefficient": _l("Coefficient"),
    "client_price": _l("Prix client"),
}


def check_return(lines: Sequence[ReturnLine]) -> dict[int, dict[str, str | LazyString]]:
    """Per line, field → French message for what to fix (an empty dict: all is right)."""
    chosen = {line.workshop_id for line in lines if line.workshop_id}
    known = set()
    if chosen:
        known = set(db.session.scalars(select(Workshop.id).where(Workshop.id.in_(chosen))))
    problems = {}
    for line in lines:
        errors = {}
        if line.workshop_id and line.workshop_id not in known:
            errors["workshop_id"] = _l(
                "Atelier : cet atelier n'existe pas, choisissez-le dans la liste."
            )
        for name, label in AMOUNT_LABELS.items():
            value = getattr(line, name)
            if value is not None and value < 0:
                errors[name] = _l("%(label)s : un montant ne peut pas être négatif.", label=label)
        if errors:
            problems[line.ticket_id] = errors
    return problems


def record_return(user: Person, lines: Sequence[ReturnLine]) -> list[int]:
    """The workshop sent these tickets back: they become « Disponibles ». Returns their
    ids, in the order typed, with those to tell again (`again` lines, left as they are).
    Raises ReturnErrors (nothing recorded) when a line is wrong, NotAtWorkshop when a
    ticket is no longer at a workshop (another tab or person recorded it meanwhile)."""
    if not lines:
        raise RepairError(_l("Saisissez au moins un numéro de fiche retournée par l'atelier."))
    problems = check_return(lines)
    if problems:
        raise ReturnErrors(problems)
    tickets = {t.id: t for t in tickets_for_return(user, [line.ticket_id for line in lines])}
    done = []
    for line in lines:
        ticket = tickets.get(line.ticket_id)
        if ticket is None:
            db.session.rollback()
            raise RepairError(_l("Cette fiche n'existe pas ou n'est pas de votre magasin."))
        refusal = return_refusal(ticket)
        if line.again and refusal is not None and refusal.can_notify_again:
            done.append(ticket.id)
            continue
        # Claimed in the database: of two returns of one ticket at the same moment, one
        # records it, the other is refused (its client is told once).
        # An UPDATE's result is a CursorResult (rowcount); Session.execute is typed as Result.
        claimed = cast(
            CursorResult,
            db.session.execute(
                update(RepairTicket)
                .where(RepairTicket.id == ticket.id, RepairTicket.status == "at_workshop")
                .values(status="ready")
                .execution_options(synchronize_session=False)
            ),
        )
        if refusal is not None or claimed.rowcount != 1:
            db.session.rollback()
            db.session.refresh(ticket)
            raise return_refusal(ticket) or RepairError(
                _l("Fiche %(number)s : elle n'est plus à l'atelier.", number=ticket.number)
            )
        _apply_return(ticket, line)
        audit.record("repair.return", user=user, store_id=ticket.store_id, obj=ticket)
        done.append(ticket.id)
    db.session.commit()
    return done


def _apply_return(ticket: RepairTicket, line: ReturnLine) -> None:
    ticket.status = "ready"
    ticket.returned_on = line.returned_on or date.today()
    if line.workshop_id:
        ticket.workshop_id = line.workshop_id
    ticket.workshop_comment = line.workshop_comment.strip()
    ticket.workshop_price = line.workshop_price
    ticket.coefficient = line.coefficient
    price = client_price(line.workshop_price, line.coefficient, line.client_price)
    if price is not None:
        ticket.client_price = price
    if line.interventions.strip():
        ticket.interventions = line.interventions.strip()


def default_coefficient(ticket: RepairTicket) -> Decimal | None:
    if ticket.coefficient is not None:
        return ticket.coefficient
    if ticket.workshop is not None:
        return ticket.workshop.default_coefficient
    return None


# --- for the API (issue 9) -----------------------------------------------------------------


def ticket_ready(ticket_id: int, *, user_id: int | None = None) -> int | None:
    """The point of sale says the ticket is back from the workshop: mark it « Disponible »
    and, as its store's SAV tab says (workshop_return_mode), send the default message
    through the campaign pipeline. Returns the campaign id, or None when no SMS goes (mode
    "none", the client cannot receive one, or credits are short: the ticket then shows
    as not told in the list)."""
    ticket = db.session.get(RepairTicket, ticket_id)
    if ticket is None:
        raise RepairError(_l("Cette fiche n'existe pas."))
    if ticket.status in ("collected", "cancelled"):
        raise RepairError(
            _l("La fiche n° %(number)s est déjà sortie ou annulée.", number=ticket.number)
        )
    if ticket.status != "ready":
        ticket.status = "ready"
        ticket.returned_on = ticket.returned_on or date.today()
        audit.record("repair.ready", store_id=ticket.store_id, obj=ticket, by="api")
        db.session.commit()
    if automatic.ready_is_on(ticket.store_id):
        # « Réparation prête » is on: its notice, once, whichever path made it ready.
        return automatic.notify_ready([ticket.id]).get(ticket.id)
    mode, _message = repair_notices.workshop_return_default(ticket.store_id)
    if mode == "none":
        return None
    try:
        sent = repair_notices.notify([ticket.id], None, kind="workshop_return", user_id=user_id)
    except (credits.NotEnoughCredits, campaigns.CampaignError) as error:
        # The ticket stays « Disponible » and shows as not told in the list.
        log.warning("repair ticket %s ready, no SMS: %s", ticket.number, error)
        return None
    return sent[0].id if sent else None

"""The SMS that tell clients about their repair: one ticket, a batch, a workshop return or
a reminder. Service messages: never held by sending hours, STOP optional, sent to
clients who refused marketing SMS, never to a client who refuses every SMS (the one
rule of services/eligibility).

Which text goes is a store's rule (the SAV tab): the store holding the repair decides,
whoever sends, head office included."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from ..access import Person
from ..extensions import db
from ..models import Campaign, Client, Message, RepairTicket, Setting, Store, User, utcnow
from ..plurals import ngettext
from ..sms import cost, encoding, placeholders
from . import audit, campaigns, costing, credits, eligibility, settings
from .campaigns import Recipient

# Why a ticket's client gets no SMS (the screens label them): the one rule's, for a
# service message.
UNREACHABLE = eligibility.reasons("repair")
WORKSHOP_RETURN_MODES = ("none", "proposed", "imposed")
# What the person is sending: the campaign kind it becomes, and the setting of its text.
KINDS = {"repair": "repair", "workshop_return": "workshop_return", "reminder": "repair"}
# The SAV tab: values a store may hold for itself, like the chain's.
SAV_KEYS = (
    "workshop_return_mode",
    "workshop_return_message",
    "repair_reminder_days",
    "repair_reminder_message",
)


@dataclass(frozen=True)
class Target:
    """One ticket of a sending, with what its message needs and whether it can go."""

    ticket_id: int
    number: str
    client_id: int
    client_name: str
    phone: str | None
    store_id: int
    store_name: str
    reason: str | None  # one of UNREACHABLE, None when the SMS can go
    context: dict  # placeholder context: the client's, with the ticket's number and amount

    @property
    def reachable(self) -> bool:
        return self.reason is None


def targets(ticket_ids: Iterable[int]) -> list[Target]:
    """The tickets in the order given, each with its client's reachability: one query."""
    ids = list(dict.fromkeys(int(i) for i in ticket_ids))
    if not ids:
        return []
    rows = db.session.execute(
        select(
            RepairTicket.id,
            RepairTicket.number,
            RepairTicket.client_id,
            RepairTicket.store_id,
            RepairTicket.client_price,
            RepairTicket.deposit,
            Client.sms_number,
            Client.sms_refuses_all,
            Client.sms_consent,
            *costing.PLACEHOLDER_COLUMNS,
        )
        .join(Client, Client.id == RepairTicket.client_id)
        # <MAGASIN>: the store holding the repair, not the one where the client was created.
        .join(Store, Store.id == RepairTicket.store_id)
        .where(RepairTicket.id.in_(ids))
    )
    found = {}
    for row in rows:
        reason = eligibility.skip_reason("repair", row, row.sms_number, ())
        amount = (row.client_price or 0) - (row.deposit or 0)
        found[row.id] = Target(
            ticket_id=row.id,
            number=row.number,
            client_id=row.client_id,
            client_name=f"{row.last_name} {row.first_name}".strip(),
            phone=row.sms_number,
            store_id=row.store_id,
            store_name=row.store,
            reason=reason,
            context=costing.placeholder_context(row) | {"number": row.number, "amount": amount},
        )
    return [found[i] for i in ids if i in found]


# --- which text goes ------------------------------------------------------------------------


def workshop_return_default(store_id: int | None = None) -> tuple[str, str]:
    """(mode, message) of the SAV tab: what the workshop-return screen proposes."""
    values = settings.get_many(["workshop_return_mode", "workshop_return_message"], store_id)
    mode = values["workshop_return_mode"]
    if mode not in WORKSHOP_RETURN_MODES:
        mode = "proposed"
    return mode, values["workshop_return_message"]


def body_for(kind: str, store_id: int | None, posted: str | None = None) -> tuple[str, str]:
    """(mode, text) for a sending about `store_id`'s tickets. `posted` is what the person
    typed (None: nothing yet, the screen opens). A workshop return follows the SAV tab:
    an imposed message wins over whatever is posted; a proposed one is the starting text;
    "none" starts empty. A reminder starts from the SAV tab's reminder message."""
    if kind == "workshop_return":
        mode, default = workshop_return_default(store_id)
        if mode == "imposed":
            return mode, default
        if posted is not None:
            return mode, posted
        return mode, default if mode == "proposed" else ""
    if posted is not None:
        return "proposed", posted
    if kind == "reminder":
        return "proposed", settings.get("repair_reminder_message", store_id)
    return "proposed", ""


def screen_mode(kind: str, ticket_ids: Iterable[int]) -> tuple[str, str]:
    """(mode, text) the sending screen opens with. Head office may send about several
    stores' tickets: the text is only locked when every one of them imposes it."""
    stores: list[int | None] = list(dict.fromkeys(t.store_id for t in targets(ticket_ids)))
    modes = [body_for(kind, store_id) for store_id in stores or [None]]
    if all(mode == "imposed" for mode, _body in modes):
        return modes[0]
    first = next(((m, b) for m, b in modes if m != "imposed"), modes[0])
    return first


def _rules(store_id: int | None) -> tuple[str, int]:
    """(STOP short code, the store's max parts: costing.max_parts, the one limit)."""
    return str(settings.get("stop_short_code", store_id)), costing.max_parts(store_id)


@dataclass(frozen=True)
class Line:
    target: Target
    text: str  # the final text this client receives
    parts: int
    imposed: bool  # the store's imposed message, not what was typed
    over_by: int = 0  # characters beyond the store's limit (the one rule: cost.excess)


@dataclass(frozen=True)
class Recap:
    """The exact texts and cost of a repair sending, ticket by ticket."""

    lines: list[Line]
    unreachable: list[Target]
    credits: int
    over_limit: int  # texts longer than the store allows
    empty: bool  # some text is still to write
    available: int

    @property
    def missing(self) -> int:
        return max(0, self.credits - self.available)


def _by_store(found: Iterable[Target]) -> dict[int, list[Target]]:
    groups: dict[int, list[Target]] = {}
    for target in found:
        groups.setdefault(target.store_id, []).append(target)
    return groups


def recap(
    ticket_ids: Iterable[int], posted: str | None, *, kind: str = "repair", add_stop: bool = False
) -> Recap:
    """What each client would receive, with each store's rules (its imposed message, its
    STOP short code and its longest message)."""
    found = targets(ticket_ids)
    reachable = [t for t in found if t.reachable]
    lines, total, over_limit, empty = [], 0, 0, False
    for store_id, group in _by_store(reachable).items():
        mode, body = body_for(kind, store_id, posted)
        short_code, max_parts = _rules(store_id)
        if not (body or "").strip():
            empty = True
        for target in group:
            text = cost.final_text(
                body or "", target.context, add_stop=add_stop, short_code=short_code
            )
            encoding_name, units, parts = encoding.measure(text)
            total += parts
            over_by = cost.excess(encoding_name, units, parts, max_parts)
            over_limit += over_by > 0
            lines.append(
                Line(
                    target=target,
                    text=text,
                    parts=parts,
                    imposed=mode == "imposed",
                    over_by=over_by,
                )
            )
    order = {t.ticket_id: i for i, t in enumerate(reachable)}
    lines.sort(key=lambda line: order[line.target.ticket_id])
    return Recap(
        lines=lines,
        unreachable=[t for t in found if not t.reachable],
        credits=total,
        over_limit=over_limit,
        empty=empty or not lines,
        available=credits.balance(),
    )


def notify(
    ticket_ids: Iterable[int],
    posted: str | None,
    *,
    kind: str = "repair",
    user_id: int | None = None,
    add_stop: bool = False,
    name: str | None = None,
) -> list[Campaign]:
    """Send about each ticket to its client, one sending per store (its sender id, its
    « Activer le module SMS », its imposed message), and mark the tickets « Prévenu par
    SMS ». Returns the campaigns, [] when no client can receive an SMS. Raises
    campaigns.CampaignError (empty or too long text, SMS module off) or
    credits.NotEnoughCredits before anything is sent: nothing stays half-done. `name`:
    the campaigns' name in the reports (default: the tickets' numbers)."""
    reachable = [t for t in targets(ticket_ids) if t.reachable]
    if not reachable:
        return []
    groups = []
    needed = 0
    for store_id, group in _by_store(reachable).items():
        _mode, body = body_for(kind, store_id, posted)
        if not (body or "").strip():
            raise campaigns.CampaignError(_l("Le message est vide : écrivez le texte du SMS."))
        if not settings.sms_enabled(store_id):
            raise campaigns.CampaignError(f"{group[0].store_name} : {settings.SMS_DISABLED}")
        short_code, max_parts = _rules(store_id)
        estimate = cost.estimate(
            body,
            [t.context for t in group],
            add_stop=add_stop,
            short_code=short_code,
            max_parts=max_parts,
        )
        if estimate.over_limit:
            # The one refusal every sending gives (campaigns.draft would say the same).
            overflow = cost.Overflow(max_parts)
            for target in group:
                overflow.add(
                    encoding.measure(
                        cost.final_text(
                            body, target.context, add_stop=add_stop, short_code=short_code
                        )
                    )
                )
            raise campaigns.CampaignError(
                campaigns.too_long(overflow, add_stop=add_stop, short_code=short_code)
            )
        needed += estimate.credits
        groups.append((store_id, body, group))
    available = credits.balance()
    if needed > available:
        raise credits.NotEnoughCredits(needed, available)
    sent = []
    for store_id, body, group in groups:
        campaign = campaigns.draft(
            KINDS.get(kind, "repair"),
            body=body,
            recipients=[
                Recipient(client_id=t.client_id, repair_ticket_id=t.ticket_id) for t in group
            ],
            store_id=store_id,
            user_id=user_id,
            add_stop=add_stop,
            name=name or _name(group),
        )
        try:
            campaigns.queue_now(campaign.id, user_id=user_id)
        except credits.NotEnoughCredits:
            db.session.rollback()
            campaigns.cancel(campaign.id, user_id=user_id)
            raise
        _mark_notified(campaign.id, user_id)
        sent.append(campaign)
    return sent


def _name(reachable: Sequence[Target]) -> str:
    numbers = [t.number for t in reachable]
    if len(numbers) == 1:
        return f"SAV fiche {numbers[0]}"
    return f"SAV {len(numbers)} fiches ({', '.join(numbers[:3])}{'…' if len(numbers) > 3 else ''})"


def _mark_notified(campaign_id: int, user_id: int | None = None) -> None:
    user = db.session.get(User, user_id) if user_id else None
    now = utcnow()
    rows = db.session.execute(
        select(Message.id, Message.repair_ticket_id).where(
            Message.campaign_id == campaign_id,
            Message.repair_ticket_id.is_not(None),
            Message.state != "skipped",
        )
    ).all()
    tickets = {
        t.id: t
        for t in db.session.scalars(
            select(RepairTicket).where(RepairTicket.id.in_([r.repair_ticket_id for r in rows]))
        )
    }
    for row in rows:
        ticket = tickets[row.repair_ticket_id]
        ticket.notified_by = "sms"
        ticket.notified_at = now
        ticket.last_message_id = row.id
        audit.record(
            "repair.notify", user=user, store_id=ticket.store_id, obj=ticket, campaign=campaign_id
        )
    db.session.commit()


def reminder_cutoff(store_id: int | None = None, today: date | None = None) -> tuple[date, int]:
    """Tickets ready since this date (or earlier) and not told since are « à relancer »."""
    days = max(1, int(settings.get("repair_reminder_days", store_id)))
    return (today or date.today()) - timedelta(days=days), days


def store_reminder_cutoffs(today: date | None = None) -> dict[int, date]:
    """{store id: cutoff} for the stores with their own reminder delay."""
    rows = db.session.execute(
        select(Setting.store_id, Setting.value).where(
            Setting.key == "repair_reminder_days", Setting.store_id.is_not(None)
        )
    )
    today = today or date.today()
    return {row.store_id: today - timedelta(days=max(1, int(row.value))) for row in rows}


# --- the SAV tab --------------------------------------------------------------------------


def check_message(body: str, store_id: int | None = None) -> str | LazyString:
    """What is wrong with a message the SAV tab keeps, or "": expressions that would stay
    as typed, or a text longer than the store allows (on an example client and ticket)."""
    unknown = placeholders.unknown(body)
    if unknown:
        return _l(
            "Expression inconnue : %(tags)s. Choisissez-la dans la liste.", tags=", ".join(unknown)
        )
    short_code, max_parts = _rules(store_id)
    example = costing.example_context(store_id) | {
        "number": "1234567890",
        "amount": Decimal("1234.56"),
    }
    estimate = cost.estimate(
        body, [example], add_stop=False, short_code=short_code, max_parts=max_parts
    )
    if estimate.over_limit:
        return ngettext(
            "Le message dépasse %(parts)d SMS de %(num)d caractère : raccourcissez-le.",
            "Le message dépasse %(parts)d SMS de %(num)d caractères : raccourcissez-le.",
            estimate.over_by,
            parts=max_parts,
        )
    return ""


def current_settings(store_id: int | None = None) -> dict[str, Any]:
    return settings.get_many(SAV_KEYS, store_id)


def clean_settings(
    form: Mapping[str, Any], store_id: int | None = None
) -> tuple[dict[str, Any], dict[str, str | LazyString]]:
    """(values, errors) for what the SAV tab posts: the values to keep, and field → French
    message for what to fix."""
    values = {
        "workshop_return_mode": (form.get("workshop_return_mode") or "").strip(),
        "workshop_return_message": (form.get("workshop_return_message") or "")
        .replace("\r\n", "\n")
        .strip(),
        "repair_reminder_days": (form.get("repair_reminder_days") or "").strip(),
        "repair_reminder_message": (form.get("repair_reminder_message") or "")
        .replace("\r\n", "\n")
        .strip(),
    }
    errors = {}
    if values["workshop_return_mode"] not in WORKSHOP_RETURN_MODES:
        errors["workshop_return_mode"] = _l(
            "Choisissez comment prévenir les clients des retours atelier."
        )
    message = values["workshop_return_message"]
    if not message and values["workshop_return_mode"] != "none":
        errors["workshop_return_message"] = _l(
            "Écrivez le message des retours atelier ou choisissez « Pas de message par défaut »."
        )
    elif message and (problem := check_message(message, store_id)):
        errors["workshop_return_message"] = _l(
            "Message des retours atelier : %(problem)s", problem=problem
        )
    days, error = settings.clean("repair_reminder_days", values["repair_reminder_days"])
    if error:
        errors["repair_reminder_days"] = _l("Relance : tapez un nombre de jours entre 1 et 365.")
    else:
        values["repair_reminder_days"] = days
    reminder = values["repair_reminder_message"]
    if not reminder:
        errors["repair_reminder_message"] = _l("Écrivez le message de relance.")
    elif problem := check_message(reminder, store_id):
        errors["repair_reminder_message"] = _l("Message de relance : %(problem)s", problem=problem)
    return values, errors


def save_settings(
    values: Mapping[str, Any], *, user: Person | None = None, store_id: int | None = None
) -> int:
    """Keep only what changed: a store keeps following the chain for every value it left
    as it was. Returns how many values changed."""
    current = current_settings(store_id)
    changed = 0
    for key in SAV_KEYS:
        if values[key] != current[key]:
            changed += settings.put(key, values[key], user=user, store_id=store_id, commit=False)
    db.session.commit()
    return changed

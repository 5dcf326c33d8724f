"""« Envois automatiques »: birthdays, absent clients, repairs ready, repairs not collected,
sent by ShopSMS itself with the rules of a hand sending.

- A daily kind (birthday, absent, repair_reminder) runs once a day per store at its time:
  the run is claimed by inserting its (store, kind, day) row, so that two workers, a
  restart or a Redis flush never run it twice. The sweep (worker.sweep, every few seconds)
  runs what is due today and only today: a run missed while the server was down runs when
  it is back the same day, never the next day for yesterday.
- Each run is ONE campaign made by the campaign services (services.campaigns: the same
  eligibility, consent, opt-out, duplicates, pressure cap, sending hours, exact cost and
  STOP as a hand sending; services.repair_notices for the repair reminders).
- « Réparation prête »: a ticket that becomes « Disponible » by any path (workshop return,
  API, import, edit) is found by the sweep from the database itself (status ready, client
  not told, no automatic notice yet), and its client gets the store's SAV message at once,
  as a service message. The notice's unique row keeps it to once.
- Credits: a run that would take the balance under the low-credit threshold does not
  start; the run keeps why, for the screens.
"""

import calendar
import logging
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import (
    CursorResult,
    Row,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Campaign, Client, Purchase, RepairTicket, Store, utcnow
from ..models.automatic import (
    AUTOMATIC_KINDS,
    AutomaticPause,
    AutomaticRun,
    AutomaticSend,
    AutomaticSkip,
    AutomaticTicketNotice,
)
from ..plurals import ngettext
from ..sms import cost, hours, placeholders
from ..sms.said import N_, readable
from . import audit, campaigns, costing, credits, pressure, repair_notices, settings, workers
from .campaigns import MARKETING, CampaignError, Recipient

log = logging.getLogger(__name__)

KINDS = AUTOMATIC_KINDS
DAILY_KINDS = ("birthday", "absent", "repair_reminder")
MARKETING_KINDS = ("birthday", "absent")
TICKET_KINDS = ("repair_ready", "repair_reminder")

# What a store starts from (its card shows them until it saves its own).
DEFAULTS = {
    "birthday": {
        "body": "Joyeux anniversaire <PRENOM> ! Toute l'équipe de <MAGASIN> vous souhaite une "
        "belle journée.",
        "send_time": "10:00",
        "days": 0,
        "repeat_max": 1,
        "repeat_every": 1,
    },
    "absent": {
        "body": "Bonjour <PRENOM>, cela fait longtemps ! Toute l'équipe de <MAGASIN> sera "
        "heureuse de vous revoir.",
        "send_time": "10:00",
        "days": 180,
        "repeat_max": 1,
        "repeat_every": 1,
    },
    "repair_ready": {"body": "", "send_time": "", "days": 0, "repeat_max": 1, "repeat_every": 1},
    "repair_reminder": {
        "body": "",
        "send_time": "10:00",
        "days": 15,
        "repeat_max": 2,
        "repeat_every": 7,
    },
}

# The run's campaign, named for the reports: « Anniversaire — 12/03 ».
RUN_NAMES = {
    "birthday": "Anniversaire",
    "absent": "Relance des absents",
    "repair_reminder": "Réparation non retirée",
    "repair_ready": "Réparation prête",
}
# Bounds of the numbers a card holds: (lowest, highest).
BOUNDS = {
    "birthday": {"days": (0, 30)},
    "absent": {"days": (7, 3650)},
    "repair_reminder": {"days": (1, 365), "repeat_max": (1, 10), "repeat_every": (1, 90)},
}


# A recipient row as campaigns.plan makes them (client_id, phone, parts, state, skip_reason
# …), or as a repair reminder's recap gives them (with the ticket_number).
PlannedRow = dict[str, Any]


class AutomaticError(ValueError):
    """A French message that says what to change."""


# --- time ---------------------------------------------------------------------------------


def local_now(now: datetime | None = None) -> datetime:
    """Now in Europe/Paris (aware), from naive UTC."""
    return (now or utcnow()).replace(tzinfo=UTC).astimezone(hours.PARIS)


def today(now: datetime | None = None) -> date:
    return local_now(now).date()


def _moment(day: date, send_time: str) -> datetime:
    """The naive UTC instant of `send_time` (HH:MM, Paris) on `day`."""
    hour, minute = (int(x) for x in send_time.split(":"))
    local = datetime.combine(day, time(hour, minute), tzinfo=hours.PARIS)
    return local.astimezone(UTC).replace(tzinfo=None)


# --- settings -----------------------------------------------------------------------------


def card(store_id: int, kind: str) -> AutomaticSend:
    """The store's setting of a kind, or an unsaved one with the defaults."""
    found = db.session.scalar(
        select(AutomaticSend).where(AutomaticSend.store_id == store_id, AutomaticSend.kind == kind)
    )
    if found is not None:
        return found
    values = dict(DEFAULTS[kind])
    if kind == "repair_reminder":
        values["body"] = settings.get("repair_reminder_message", store_id)
        values["days"] = int(settings.get("repair_reminder_days", store_id))
    return AutomaticSend(store_id=store_id, kind=kind, enabled=False, paused=False, **values)


def cards(store_id: int) -> dict[str, AutomaticSend]:
    return {kind: card(store_id, kind) for kind in KINDS}


def chain_paused() -> set[str]:
    """The kinds head office paused for the whole chain."""
    return set(db.session.scalars(select(AutomaticPause.kind)))


def active(setting: AutomaticSend, paused: Container[str] | None = None) -> bool:
    paused = chain_paused() if paused is None else paused
    return bool(setting.enabled and not setting.paused and setting.kind not in paused)


def sav_message(store_id: int) -> tuple[str, str]:
    """(mode, text) of the SAV tab that « Réparation prête » sends: nothing with mode none."""
    return repair_notices.workshop_return_default(store_id)


def clean(
    kind: str, form: Mapping[str, Any], store_id: int
) -> tuple[dict[str, Any], dict[str, str | LazyString]]:
    """(values, errors) for a card's posted fields (strings): field → French message."""
    if kind not in KINDS:
        raise AutomaticError(_l("Cet envoi automatique n'existe pas."))
    values: dict[str, Any] = {}
    errors: dict[str, str | LazyString] = {}
    values["enabled"] = bool(form.get("enabled"))
    body = (form.get("body") or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if kind != "repair_ready":
        values["body"] = body[:2000]
        if values["enabled"] and not body:
            errors["body"] = _l("Écrivez le texte du SMS avant d'activer cet envoi.")
        elif body:
            problem = check_text(kind, body, store_id)
            if problem:
                errors["body"] = problem
        raw = (form.get("send_time") or "").strip()
        try:
            parsed = datetime.strptime(raw, "%H:%M")
            values["send_time"] = f"{parsed:%H:%M}"
        except ValueError:
            errors["send_time"] = _l("Heure d'envoi : tapez une heure, par exemple 10:00.")
    elif values["enabled"] and sav_message(store_id)[0] == "none":
        errors["enabled"] = _l(
            "Les Paramètres SAV n'ont pas de message par défaut pour les retours atelier : "
            "choisissez-en un avant d'activer cet envoi."
        )
    for name, (lowest, highest) in BOUNDS.get(kind, {}).items():
        raw = (form.get(name) or "").strip()
        if not raw.isdigit() or not lowest <= int(raw) <= highest:
            errors[name] = _l(
                "Tapez un nombre entre %(lowest)s et %(highest)s.",
                lowest=lowest,
                highest=highest,
            )
        else:
            values[name] = int(raw)
    return values, errors


def check_text(kind: str, body: str, store_id: int) -> str | LazyString:
    """What is wrong with a card's text, or "": unknown expressions, a text over the
    store's limit on the example client (STOP added for marketing)."""
    unknown = placeholders.unknown(body)
    if unknown:
        return _l(
            "Expression inconnue : %(tags)s. Choisissez-la dans la liste.", tags=", ".join(unknown)
        )
    if kind not in MARKETING_KINDS:
        return repair_notices.check_message(body, store_id)
    estimate = cost.estimate(
        body,
        [costing.example_context(store_id)],
        add_stop=True,
        short_code=str(settings.get("stop_short_code", store_id)),
        max_parts=costing.max_parts(store_id),
    )
    if estimate.over_limit:
        return ngettext(
            "Le message dépasse %(parts)d SMS de %(num)d caractère avec la mention STOP : "
            "raccourcissez-le.",
            "Le message dépasse %(parts)d SMS de %(num)d caractères avec la mention STOP : "
            "raccourcissez-le.",
            estimate.over_by,
            parts=estimate.max_parts,
        )
    return ""


def save(user: Person | None, store_id: int, kind: str, values: Mapping[str, Any]) -> AutomaticSend:
    """Keep a card. Turning « Réparation prête » on makes the tickets already
    « Disponible » history: only those that become ready from now on are texted."""
    setting = card(store_id, kind)
    was_active = active(setting)
    if setting.id is None:
        db.session.add(setting)
    for name, value in values.items():
        setattr(setting, name, value)
    setting.updated_by_id = getattr(user, "id", None)
    if setting.enabled and not was_active:
        setting.enabled_at = utcnow()
    db.session.flush()
    if kind == "repair_ready" and active(setting) and not was_active:
        _ready_before(store_id)
    audit.record("automatic.save", user=user, store_id=store_id, kind=kind, enabled=setting.enabled)
    db.session.commit()
    return setting


def set_store_pause(user: Person | None, store_id: int, kind: str, paused: bool) -> None:
    setting = card(store_id, kind)
    if setting.id is None:
        db.session.add(setting)
    was_active = active(setting)
    setting.paused = bool(paused)
    db.session.flush()
    if kind == "repair_ready" and active(setting) and not was_active:
        _ready_before(store_id)
    audit.record("automatic.pause", user=user, store_id=store_id, kind=kind, paused=paused)
    db.session.commit()


def set_chain_pause(user: Person | None, kind: str, paused: bool) -> None:
    """Head office pauses (or resumes) a kind in every store."""
    if kind not in KINDS:
        raise AutomaticError(_l("Cet envoi automatique n'existe pas."))
    found = db.session.get(AutomaticPause, kind)
    if paused and found is None:
        db.session.add(AutomaticPause(kind=kind, paused_by_id=getattr(user, "id", None)))
    elif not paused and found is not None:
        db.session.delete(found)
        if kind == "repair_ready":
            _ready_before(None)
    audit.record("automatic.chain_pause", user=user, kind=kind, paused=paused)
    db.session.commit()


def _ready_before(store_id: int | None) -> None:
    """Tickets « Disponibles » and not told while « Réparation prête » was off or paused:
    marked « before », never texted by it (the list shows them as not told)."""
    ticket = RepairTicket
    told = exists().where(
        AutomaticTicketNotice.ticket_id == ticket.id, AutomaticTicketNotice.kind == "repair_ready"
    )
    conditions = [ticket.status == "ready", ticket.notified_at.is_(None), ~told]
    if store_id is not None:
        conditions.append(ticket.store_id == store_id)
    rows = select(
        ticket.id,
        literal("repair_ready"),
        literal(0),
        literal(today()),
        literal("before"),
        literal(""),
        literal(utcnow()),
    ).where(*conditions)
    columns = ["ticket_id", "kind", "seq", "day", "state", "note", "created_at"]
    db.session.execute(
        insert(AutomaticTicketNotice).from_select(columns, rows, include_defaults=False)
    )


# --- who a run texts ----------------------------------------------------------------------


def birthdays_on(day: date) -> list[int]:
    """The birthday_md values whose birthday falls on `day`: 29 February's on 28 February
    in a common year."""
    values = [day.month * 100 + day.day]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        values.append(229)
    return values


def _skipped(store_id: int, kind: str, day: date) -> Select[int]:
    return select(AutomaticSkip.client_id).where(
        AutomaticSkip.store_id == store_id, AutomaticSkip.kind == kind, AutomaticSkip.day == day
    )


def candidates(setting: AutomaticSend, day: date) -> list[int]:
    """Ids the run of `day` is about, in order: clients (birthday, absent) or repair
    tickets (repair_reminder), without the clients skipped for that run."""
    store_id, kind = setting.store_id, setting.kind
    skipped = _skipped(store_id, kind, day)
    if kind == "birthday":
        target = day + timedelta(days=setting.days or 0)
        query = select(Client.id).where(
            Client.store_id == store_id,
            Client.birthday_md.in_(birthdays_on(target)),
            Client.id.not_in(skipped),
        )
        return list(db.session.scalars(query.order_by(Client.id)))
    if kind == "absent":
        # The last purchase, whatever the store, was exactly N days ago: each absence
        # meets that day once; a client who comes back and leaves again meets it again.
        last = day - timedelta(days=setting.days)
        later = aliased(Purchase)
        stores = list(db.session.scalars(select(Store.id)))
        query = (
            select(Purchase.client_id)
            .join(Client, Client.id == Purchase.client_id)
            .where(
                Purchase.store_id.in_(stores),  # the (store, date) index, store by store
                Purchase.date == last,
                Client.store_id == store_id,
                Client.id.not_in(skipped),
                ~exists().where(later.client_id == Purchase.client_id, later.date > last),
            )
            .distinct()
        )
        return sorted(db.session.scalars(query))
    if kind == "repair_reminder":
        return reminder_tickets(setting, day)
    return []


def reminder_tickets(setting: AutomaticSend, day: date) -> list[int]:
    """Tickets « Disponibles » for N days or more, reminded fewer than M times, the last
    time P days ago or more."""
    notice = AutomaticTicketNotice
    mine = and_(
        notice.ticket_id == RepairTicket.id,
        notice.kind == "repair_reminder",
        notice.state == "sent",
    )
    sent = select(func.count(notice.id)).where(mine).scalar_subquery()
    last = select(func.max(notice.day)).where(mine).scalar_subquery()
    since = func.coalesce(RepairTicket.returned_on, RepairTicket.received_on)
    query = (
        select(RepairTicket.id)
        .where(
            RepairTicket.store_id == setting.store_id,
            RepairTicket.status == "ready",
            since <= day - timedelta(days=setting.days),
            sent < setting.repeat_max,
            or_(last.is_(None), last <= day - timedelta(days=setting.repeat_every)),
            RepairTicket.client_id.not_in(_skipped(setting.store_id, setting.kind, day)),
        )
        .order_by(RepairTicket.id)
    )
    return list(db.session.scalars(query))


def _pressure(rows: list[PlannedRow], now: datetime) -> list[PlannedRow]:
    """Marketing rows of clients over the « pression marketing » cap: skipped with the
    campaigns' reason (the cap is checked again at send time)."""
    pending = [row["client_id"] for row in rows if row["state"] == "pending"]
    over = pressure.over_pressure(pending, now=now) if pending else {}
    for row in rows:
        if row["state"] == "pending" and row["client_id"] in over:
            row["state"] = "skipped"
            row["skip_reason"] = pressure.pressure_reason(*over[row["client_id"]])
    return rows


@dataclass
class Preview:
    """A run before it happens: who, what it costs, what would stop it."""

    kind: str
    day: date
    at: datetime | None  # naive UTC
    rows: list = field(default_factory=list)  # dicts: client, name, phone, parts, reason
    recipients: int = 0  # SMS that would leave
    skipped: int = 0
    cost: int = 0
    error: str = ""  # the text cannot go (empty, too long, SMS module off)
    credit_problem: str = ""


def _marketing_rows(setting: AutomaticSend, ids: Sequence[int], now: datetime) -> list[PlannedRow]:
    recipients = [Recipient(client_id=i) for i in ids]
    rows = campaigns.plan(
        MARKETING,
        body=setting.body,
        recipients=recipients,
        store_id=setting.store_id,
        add_stop=True,
    )
    return _pressure(rows, now)


def preview(
    setting: AutomaticSend, day: date, *, now: datetime | None = None, limit: int = 200
) -> Preview:
    """What the run of `day` would send now (the card's « Prochain envoi »)."""
    now = now or utcnow()
    at = _moment(day, setting.send_time) if setting.send_time else None
    result = Preview(kind=setting.kind, day=day, at=at)
    ids = candidates(setting, day)
    if not ids:
        return result
    try:
        if setting.kind in MARKETING_KINDS:
            rows = _marketing_rows(setting, ids, now)
        else:
            rows = _reminder_rows(setting, ids)
    except CampaignError as error:
        result.error = str(error)
        return result
    result.recipients = sum(1 for row in rows if row["state"] == "pending")
    result.skipped = len(rows) - result.recipients
    result.cost = sum(row["parts"] for row in rows if row["state"] == "pending")
    result.credit_problem = credit_refusal(result.cost, ahead=True)
    names = {
        row.id: row
        for row in db.session.execute(
            select(Client.id, Client.number, Client.last_name, Client.first_name).where(
                Client.id.in_([row["client_id"] for row in rows[:limit]])
            )
        )
    }
    for row in rows[:limit]:
        who = names.get(row["client_id"])
        result.rows.append(
            {
                "client_id": row["client_id"],
                "number": who.number if who else "",
                "name": f"{who.last_name} {who.first_name}".strip() if who else "",
                "phone": row["phone"],
                "parts": row["parts"],
                "reason": row["skip_reason"] if row["state"] == "skipped" else "",
                "ticket": row.get("ticket_number", ""),
            }
        )
    return result


def _reminder_rows(setting: AutomaticSend, ticket_ids: Sequence[int]) -> list[PlannedRow]:
    recap = repair_notices.recap(ticket_ids, setting.body, kind="reminder")
    if recap.empty and recap.lines:
        raise CampaignError(_l("Le message est vide : écrivez le texte du SMS."))
    rows = [
        {
            "client_id": line.target.client_id,
            "phone": line.target.phone or "",
            "parts": line.parts,
            "state": "pending",
            "skip_reason": "",
            "ticket_number": line.target.number,
        }
        for line in recap.lines
    ]
    rows += [
        {
            "client_id": target.client_id,
            "phone": "",
            "parts": 0,
            "state": "skipped",
            "skip_reason": target.reason,
            "ticket_number": target.number,
        }
        for target in recap.unreachable
    ]
    return rows


# A run's note and a ticket's, kept as their French words (the column is too short for
# a catalogue entry and its values); the page says them in the reader's language
# (formats.said reads them again).
LOW_CREDITS = N_(
    "Crédits bas : cet envoi en coûte %(needed)s, il en reste %(left)s et le seuil d'alerte "
    "est de %(threshold)s. Il n'est pas parti : rechargez le compte."
)
LOW_CREDITS_AHEAD = N_(
    "Crédits bas : cet envoi en coûte %(needed)s, il en reste %(left)s et le seuil d'alerte "
    "est de %(threshold)s. Il ne partira pas si le compte n'est pas rechargé d'ici là."
)
UNEXPECTED = N_("Erreur inattendue : l'envoi n'est pas parti.")
NOBODY = N_("Aucun client joignable par SMS.")
NO_SAV_MESSAGE = N_("Pas de message par défaut dans les Paramètres SAV : client non prévenu.")
readable(LOW_CREDITS, LOW_CREDITS_AHEAD, UNEXPECTED, NOBODY, NO_SAV_MESSAGE)


def credit_refusal(needed: int, *, ahead: bool = False) -> str:
    """Why a run costing `needed` credits must not start, or "": it would take the balance
    under the low-credit threshold (or below zero). `ahead`: said of a run to come."""
    if needed <= 0:
        return ""
    left = credits.balance()
    threshold = max(0, int(settings.get("low_credit_threshold") or 0))
    if left - needed >= threshold:
        return ""
    sentence = LOW_CREDITS_AHEAD if ahead else LOW_CREDITS
    return N_(sentence, needed=needed, left=left, threshold=threshold)


def next_run(setting: AutomaticSend, now: datetime | None = None) -> date:
    """The day of the next run: today if its time is still to come and it has not run,
    else tomorrow."""
    local = local_now(now)
    day = local.date()
    if not setting.send_time or f"{local:%H:%M}" >= setting.send_time:
        return day + timedelta(days=1)
    done = db.session.scalar(
        select(AutomaticRun.id).where(
            AutomaticRun.store_id == setting.store_id,
            AutomaticRun.kind == setting.kind,
            AutomaticRun.day == day,
        )
    )
    return day + timedelta(days=1) if done else day


def skip_client(user: Person | None, store_id: int, kind: str, day: date, client_id: int) -> None:
    """« Pas cette fois »: the client is left out of that day's run only. A client of the
    store, or of one of its repair tickets."""
    client = db.session.get(Client, client_id)
    has_ticket = db.session.scalar(
        select(RepairTicket.id)
        .where(RepairTicket.client_id == client_id, RepairTicket.store_id == store_id)
        .limit(1)
    )
    if client is None or (client.store_id != store_id and has_ticket is None):
        raise AutomaticError(_l("Ce client n'est pas un client du magasin."))
    db.session.add(
        AutomaticSkip(
            store_id=store_id,
            kind=kind,
            day=day,
            client_id=client_id,
            created_by_id=getattr(user, "id", None),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # skipped already: nothing to do


def unskip_client(store_id: int, kind: str, day: date, client_id: int) -> None:
    db.session.execute(
        delete(AutomaticSkip).where(
            AutomaticSkip.store_id == store_id,
            AutomaticSkip.kind == kind,
            AutomaticSkip.day == day,
            AutomaticSkip.client_id == client_id,
        )
    )
    db.session.commit()


def skipped_clients(store_id: int, kind: str, day: date) -> list[Row[int, str, str, str]]:
    return list(
        db.session.execute(
            select(Client.id, Client.number, Client.last_name, Client.first_name)
            .join(AutomaticSkip, AutomaticSkip.client_id == Client.id)
            .where(
                AutomaticSkip.store_id == store_id,
                AutomaticSkip.kind == kind,
                AutomaticSkip.day == day,
            )
            .order_by(Client.last_name, Client.first_name)
        )
    )


def last_runs(store_id: int, kind: str | None = None, limit: int = 5) -> list[AutomaticRun]:
    query = select(AutomaticRun).where(AutomaticRun.store_id == store_id)
    if kind is not None:
        query = query.where(AutomaticRun.kind == kind)
    query = query.order_by(AutomaticRun.day.desc(), AutomaticRun.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def ready_notices(store_id: int, limit: int = 5) -> list[Row[AutomaticTicketNotice, str]]:
    """The latest « Réparation prête » SMS of the store, with their campaigns."""
    return list(
        db.session.execute(
            select(AutomaticTicketNotice, RepairTicket.number)
            .join(RepairTicket, RepairTicket.id == AutomaticTicketNotice.ticket_id)
            .where(
                RepairTicket.store_id == store_id,
                AutomaticTicketNotice.kind == "repair_ready",
                AutomaticTicketNotice.state != "before",
            )
            .order_by(AutomaticTicketNotice.id.desc())
            .limit(limit)
        )
    )


def upcoming(store_id: int, now: datetime | None = None) -> dict[str, Preview]:
    """{kind: Preview} of the store's next run of each active daily kind, for the home
    page: « Demain : 9 anniversaires, 3 relances »."""
    paused = chain_paused()
    found = {}
    for kind in DAILY_KINDS:
        setting = card(store_id, kind)
        if setting.id is None or not active(setting, paused):
            continue
        found[kind] = preview(setting, next_run(setting, now), now=now, limit=0)
    return found


# --- running ------------------------------------------------------------------------------


def run_name(kind: str, day: date) -> str:
    return f"{RUN_NAMES[kind]} — {day:%d/%m}"


def _claim(setting: AutomaticSend, day: date, worker: str) -> AutomaticRun | None:
    """The run's row, or None when this (store, kind, day) already has one."""
    run = AutomaticRun(store_id=setting.store_id, kind=setting.kind, day=day, worker=worker)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return run


def _finish(run: AutomaticRun, status: str, **values: Any) -> str:
    db.session.execute(
        update(AutomaticRun)
        .where(AutomaticRun.id == run.id)
        .values(status=status, finished_at=utcnow(), **values)
    )
    db.session.commit()
    return status


def run_once(
    setting: AutomaticSend, day: date, *, now: datetime | None = None, worker: str = ""
) -> str | None:
    """The run of (store, kind, day), if nobody ran it yet. Returns its status, or None."""
    run = _claim(setting, day, worker)
    if run is None:
        return None
    return _perform(run, setting, now or utcnow())


def _adopted(run: AutomaticRun) -> Campaign | None:
    """The campaign a run made before its worker died, if any (no user, its name)."""
    return db.session.scalar(
        select(Campaign)
        .where(
            Campaign.store_id == run.store_id,
            Campaign.name == run_name(run.kind, run.day),
            Campaign.created_by_id.is_(None),
            Campaign.created_at >= run.started_at,
        )
        .order_by(Campaign.id)
        .limit(1)
    )


def _perform(run: AutomaticRun, setting: AutomaticSend, now: datetime) -> str:
    try:
        campaign = _adopted(run) if run.kind in MARKETING_KINDS else None
        if campaign is not None:
            return _queue(run, campaign, now)
        ids = candidates(setting, run.day)
        if not ids:
            return _finish(run, "empty")
        if run.kind in MARKETING_KINDS:
            return _run_marketing(run, setting, ids, now)
        return _run_reminders(run, setting, ids, now)
    except (CampaignError, credits.NotEnoughCredits) as error:
        db.session.rollback()
        status = "no_credits" if isinstance(error, credits.NotEnoughCredits) else "failed"
        return _finish(run, status, note=str(error)[:300])
    except Exception:
        db.session.rollback()
        log.exception("automatic run %s failed", run.id)
        return _finish(run, "failed", note=UNEXPECTED)


def _run_marketing(
    run: AutomaticRun, setting: AutomaticSend, ids: Sequence[int], now: datetime
) -> str:
    rows = _marketing_rows(setting, ids, now)
    needed = sum(row["parts"] for row in rows if row["state"] == "pending")
    refusal = credit_refusal(needed)
    if refusal:
        return _finish(
            run,
            "no_credits",
            note=refusal[:300],
            cost=needed,
            recipients=sum(row["state"] == "pending" for row in rows),
        )
    campaign = campaigns.draft(
        MARKETING,
        body=setting.body,
        recipients=[Recipient(client_id=i) for i in ids],
        store_id=setting.store_id,
        add_stop=True,
        name=run_name(run.kind, run.day),
        planned=rows,
    )
    return _queue(run, campaign, now)


def _queue(run: AutomaticRun, campaign: Campaign, now: datetime) -> str:
    if campaign.status == "draft":
        try:
            campaigns.queue_now(campaign.id, now=now, accept_next_window=True)
        except credits.NotEnoughCredits as error:
            db.session.rollback()
            needed = campaigns.cost(campaign.id)
            campaigns.cancel(campaign.id)
            return _finish(
                run, "no_credits", note=str(error)[:300], campaign_id=campaign.id, cost=needed
            )
    pending = campaigns.cost(campaign.id)
    counts = campaigns.progress(campaign.id)
    return _finish(
        run,
        "sent",
        campaign_id=campaign.id,
        cost=pending,
        recipients=sum(counts.values()) - counts["skipped"],
    )


def _run_reminders(
    run: AutomaticRun, setting: AutomaticSend, ticket_ids: Sequence[int], now: datetime
) -> str:
    recap = repair_notices.recap(ticket_ids, setting.body, kind="reminder")
    refusal = credit_refusal(recap.credits)
    if refusal:
        return _finish(
            run, "no_credits", note=refusal[:300], cost=recap.credits, recipients=len(recap.lines)
        )
    told = [line.target.ticket_id for line in recap.lines]
    if not told:
        return _finish(run, "empty", note=NOBODY)
    sent_before = dict(
        db.session.execute(
            select(AutomaticTicketNotice.ticket_id, func.count())
            .where(
                AutomaticTicketNotice.ticket_id.in_(told),
                AutomaticTicketNotice.kind == "repair_reminder",
            )
            .group_by(AutomaticTicketNotice.ticket_id)
        ).all()
    )
    # In the session before notify(): they commit with its campaign, or not at all.
    notices = [
        AutomaticTicketNotice(
            ticket_id=ticket_id,
            kind="repair_reminder",
            seq=sent_before.get(ticket_id, 0) + 1,
            day=run.day,
        )
        for ticket_id in told
    ]
    db.session.add_all(notices)
    sent = repair_notices.notify(
        told, setting.body, kind="reminder", name=run_name(run.kind, run.day)
    )
    if not sent:
        db.session.rollback()
        return _finish(run, "empty", note=NOBODY)
    campaign = sent[0]
    db.session.execute(
        update(AutomaticTicketNotice)
        .where(
            AutomaticTicketNotice.ticket_id.in_(told),
            AutomaticTicketNotice.kind == "repair_reminder",
            AutomaticTicketNotice.day == run.day,
        )
        .values(campaign_id=campaign.id)
    )
    return _finish(run, "sent", campaign_id=campaign.id, cost=recap.credits, recipients=len(told))


def run_due(now: datetime | None = None, *, worker: str = "") -> dict[tuple[int, str], str | None]:
    """Every daily run whose time has come today and that has not run: today's only."""
    now = now or utcnow()
    local = local_now(now)
    day, clock = local.date(), f"{local:%H:%M}"
    paused = chain_paused()
    due = db.session.scalars(
        select(AutomaticSend)
        .where(
            AutomaticSend.enabled.is_(True),
            AutomaticSend.paused.is_(False),
            AutomaticSend.kind.in_([k for k in DAILY_KINDS if k not in paused]),
            AutomaticSend.send_time <= clock,
            ~exists().where(
                AutomaticRun.store_id == AutomaticSend.store_id,
                AutomaticRun.kind == AutomaticSend.kind,
                AutomaticRun.day == day,
            ),
        )
        .order_by(AutomaticSend.store_id, AutomaticSend.kind)
    ).all()
    done = {}
    for setting in due:
        done[(setting.store_id, setting.kind)] = run_once(setting, day, now=now, worker=worker)
    return done


def retry_held(now: datetime | None = None, *, worker: str = "") -> list[int]:
    """Today's runs held back for credits that the balance now covers (a top-up since):
    run by one worker (the row is taken back from « no_credits »), never yesterday's."""
    now = now or utcnow()
    paused = chain_paused()
    held = db.session.scalars(
        select(AutomaticRun).where(
            AutomaticRun.day == today(now), AutomaticRun.status == "no_credits"
        )
    ).all()
    retried = []
    for run in held:
        setting = card(run.store_id, run.kind)
        # A run whose cost was not known when held stays held: never retried blind.
        if not active(setting, paused) or run.cost <= 0 or credit_refusal(run.cost):
            continue
        # started_at is the real clock, as a campaign's created_at: the campaign cancelled
        # when the run was held is not adopted again.
        # An UPDATE's result is a CursorResult (rowcount); Session.execute is typed as Result.
        taken = cast(
            CursorResult,
            db.session.execute(
                update(AutomaticRun)
                .where(AutomaticRun.id == run.id, AutomaticRun.status == "no_credits")
                .values(
                    status="started",
                    started_at=utcnow(),
                    finished_at=None,
                    worker=worker,
                    note="",
                    campaign_id=None,
                )
            ),
        )
        db.session.commit()
        if taken.rowcount != 1:
            continue
        db.session.refresh(run)
        _perform(run, setting, now)
        retried.append(run.id)
    return retried


def resume_stale(now: datetime | None = None) -> list[int]:
    """Runs left « started » by a worker that died: finished by this one (the campaign
    it made is found again and queued; none made, the run is made)."""
    now = now or utcnow()
    limit = now - timedelta(seconds=current_app.config["CLAIM_STALE_SECONDS"])
    stale = db.session.scalars(
        select(AutomaticRun).where(
            AutomaticRun.status == "started", AutomaticRun.started_at < limit
        )
    ).all()
    if not stale:
        return []
    alive = workers.alive(now)
    resumed = []
    for run in stale:
        if run.worker in alive:
            continue
        taken = cast(
            CursorResult,
            db.session.execute(
                update(AutomaticRun)
                .where(
                    AutomaticRun.id == run.id,
                    AutomaticRun.status == "started",
                    AutomaticRun.worker == run.worker,
                )
                .values(worker=f"{run.worker}>resumed")
            ),
        )
        db.session.commit()
        if taken.rowcount != 1:
            continue
        setting = card(run.store_id, run.kind)
        _perform(run, setting, now)
        resumed.append(run.id)
    return resumed


# --- « Réparation prête » ---------------------------------------------------------------


def ready_to_tell(
    ticket_ids: Iterable[int] | None = None, *, limit: int = 500
) -> Sequence[Row[int, int]]:
    """Tickets « Disponibles » whose client was not told, with no automatic notice, in
    stores where « Réparation prête » is on: [(ticket id, store id)]."""
    if "repair_ready" in chain_paused():
        return []
    told = exists().where(
        AutomaticTicketNotice.ticket_id == RepairTicket.id,
        AutomaticTicketNotice.kind == "repair_ready",
    )
    query = (
        select(RepairTicket.id, RepairTicket.store_id)
        .join(
            AutomaticSend,
            and_(
                AutomaticSend.store_id == RepairTicket.store_id,
                AutomaticSend.kind == "repair_ready",
            ),
        )
        .where(
            AutomaticSend.enabled.is_(True),
            AutomaticSend.paused.is_(False),
            RepairTicket.status == "ready",
            RepairTicket.notified_at.is_(None),
            ~told,
        )
        .order_by(RepairTicket.id)
        .limit(limit)
    )
    if ticket_ids is not None:
        query = query.where(RepairTicket.id.in_(list(ticket_ids)))
    return db.session.execute(query).all()


def notify_ready(
    ticket_ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> dict[int, int | None]:
    """Text the clients of the tickets that became « Disponibles » (the given ones, or
    every one the sweep finds): the store's SAV message, a service message, once per
    ticket (its notice row, written with the campaign). Returns {ticket id: campaign id
    or None}."""
    now = now or utcnow()
    by_store: dict[int, list[int]] = {}
    for ticket_id, store_id in ready_to_tell(ticket_ids):
        by_store.setdefault(store_id, []).append(ticket_id)
    told = {}
    for store_id, ids in by_store.items():
        told.update(_notify_store_ready(store_id, ids, now))
    return told


def _notify_store_ready(store_id: int, ids: Sequence[int], now: datetime) -> dict[int, int | None]:
    day = today(now)
    notices = [AutomaticTicketNotice(ticket_id=i, kind="repair_ready", seq=0, day=day) for i in ids]
    db.session.add_all(notices)
    try:
        db.session.flush()  # another path told them this instant: it is theirs
    except IntegrityError:
        db.session.rollback()
        return {}
    mode, _text = sav_message(store_id)
    name = (
        f"{RUN_NAMES['repair_ready']} — {day:%d/%m}"
        if len(ids) > 1
        else f"{RUN_NAMES['repair_ready']} — fiche "
        + db.session.execute(
            select(RepairTicket.number).where(RepairTicket.id == ids[0])
        ).scalar_one()
    )
    error = ""
    sent = []
    if mode == "none":
        error = NO_SAV_MESSAGE
    else:
        try:
            sent = repair_notices.notify(ids, None, kind="workshop_return", name=name)
        except (CampaignError, credits.NotEnoughCredits) as exc:
            error = str(exc)
    if error or not sent:
        db.session.rollback()
        state = "failed" if error else "unreachable"
        rows = [
            {
                "ticket_id": i,
                "kind": "repair_ready",
                "seq": 0,
                "day": day,
                "state": state,
                "note": error[:300],
                "created_at": utcnow(),
            }
            for i in ids
        ]
        db.session.execute(insert(AutomaticTicketNotice), rows)
        db.session.commit()
        if error:
            log.warning("repair ready, no SMS for tickets %s: %s", ids, error)
        return dict.fromkeys(ids)
    campaign_id = sent[0].id
    db.session.execute(
        update(AutomaticTicketNotice)
        .where(
            AutomaticTicketNotice.ticket_id.in_(ids), AutomaticTicketNotice.kind == "repair_ready"
        )
        .values(campaign_id=campaign_id)
    )
    db.session.commit()
    return dict.fromkeys(ids, campaign_id)


def ready_is_on(store_id: int) -> bool:
    setting = card(store_id, "repair_ready")
    return setting.id is not None and active(setting)


# --- the sweep ----------------------------------------------------------------------------


def tick(now: datetime | None = None, *, worker: str = "") -> dict[str, object]:
    """What the sweep does for automatic sends, each part on its own (a failure in one
    does not stop the others)."""
    now = now or utcnow()
    done: dict[str, object] = {}
    for name, step in (
        ("ready", lambda: notify_ready(now=now)),
        ("runs", lambda: run_due(now, worker=worker)),
        ("retried", lambda: retry_held(now, worker=worker)),
        ("resumed", lambda: resume_stale(now)),
    ):
        try:
            done[name] = step()
        except Exception:
            db.session.rollback()
            log.exception("automatic sends: %s failed", name)
            done[name] = None
    return done


def store_choices(user: Person) -> list[Row[int, str]]:
    """The stores whose automatic sends the person may see: their own, every one for
    head office."""
    query = select(Store.id, Store.name).order_by(Store.name)
    return list(db.session.execute(access.scoped(query, Store.id, user)))


def held_for_credits(
    store_id: int | None = None, *, now: datetime | None = None
) -> list[Row[AutomaticRun, str]]:
    """Today's runs that did not start for want of credits (a store's, or the chain's
    when store_id is None), with their store's name and the credits each needed: the
    home page's banner and head office's supervision say why."""
    query = (
        select(AutomaticRun, Store.name)
        .join(Store, Store.id == AutomaticRun.store_id)
        .where(AutomaticRun.day == today(now), AutomaticRun.status == "no_credits")
        .order_by(Store.name, AutomaticRun.kind)
    )
    if store_id is not None:
        query = query.where(AutomaticRun.store_id == store_id)
    return list(db.session.execute(query))

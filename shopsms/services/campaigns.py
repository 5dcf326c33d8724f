"""A sending's life: drafted (recipients frozen as message rows; a marketing
campaign's as the rows of its recipient list, which become messages when it starts),
then queued now or scheduled, sent by the workers, possibly cancelled or moved before
it starts."""

from dataclasses import dataclass
from datetime import UTC, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy import text as sql

from .. import access
from ..extensions import db
from ..models import (
    Campaign,
    CampaignCount,
    Client,
    DraftRecipient,
    MarketingPressure,
    Message,
    PressureBasis,
    RepairTicket,
    Store,
    User,
    utcnow,
)
from ..models.base import bulk_insert
from ..sms import encoding, hours, stop
from ..sms.cost import Overflow, final_text
from . import audit, background, costing, credits, settings
from .eligibility import DUPLICATE, MARKETING, opted_out_numbers, skip_reason

# What a campaign's status means to a person (lists, the campaign page, its errors).
STATUS_LABELS = {
    "draft": _l("Brouillon"),
    "preparing": _l("En préparation"),
    "scheduled": _l("Programmé"),
    "queued": _l("En file"),
    "sending": _l("En cours"),
    "sent": _l("Envoyé"),
    "cancelled": _l("Annulé"),
}


class CampaignError(ValueError):
    """A message that says what to change, in the person's language (a lazy string)."""


class OutsideSendingHours(CampaignError):
    def __init__(self, next_allowed):
        self.next_allowed = next_allowed  # aware, Europe/Paris
        super().__init__(
            _l(
                "Les SMS publicitaires partent du lundi au samedi aux heures d'envoi, jamais "
                "un jour férié. Prochain créneau : %(day)s à %(hour)s.",
                day=f"{next_allowed:%d/%m/%Y}",
                hour=f"{next_allowed:%H:%M}",
            )
        )


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to: a client (their SMS number), or a bare number (a test SMS)."""

    client_id: int | None = None
    phone: str | None = None  # E.164; overrides the client's number
    repair_ticket_id: int | None = None
    # Placeholder values without a client (a campaign's test SMS, rendered as its first
    # recipient will read it but filed under no client).
    context: dict | None = None


def sending_window(store_id=None, values=None):
    """The store's sending hours; `values`: its settings when the caller read them
    already (sending_days, sending_start, sending_end)."""
    if values is None:
        values = settings.get_many(("sending_days", "sending_start", "sending_end"), store_id)
    return hours.Window.from_settings(
        values["sending_days"], values["sending_start"], values["sending_end"]
    )


def sending_moment(campaign, *, now=None):
    """When « Envoyer » would send this draft, as naive UTC, and whether that is now:
    now, or for marketing outside the sending hours the next allowed minute (None when
    the window never opens)."""
    now = now or utcnow()
    if campaign.kind == MARKETING:
        window = sending_window(campaign.store_id)
        if not hours.is_allowed(now, window):
            try:
                moment = hours.next_allowed(now, window)
            except ValueError:
                return None, False
            return moment.astimezone(UTC).replace(tzinfo=None), False
    return now, True


def _contexts(client_ids, ticket_ids):
    """Placeholder contexts and reachability facts, in two queries whatever the size."""
    clients = {}
    for start in range(0, len(client_ids), 5000):
        chunk = client_ids[start : start + 5000]
        rows = db.session.execute(
            select(
                Client.id,
                Client.sms_number,
                Client.sms_consent,
                Client.sms_refuses_all,
                Client.store_id,
                *costing.PLACEHOLDER_COLUMNS,
            )
            .join(Store, Store.id == Client.store_id)
            .where(Client.id.in_(chunk))
        )
        clients.update({row.id: row for row in rows})
    tickets = {}
    if ticket_ids:
        rows = db.session.scalars(select(RepairTicket).where(RepairTicket.id.in_(ticket_ids)))
        tickets = {ticket.id: ticket for ticket in rows}
    return clients, tickets


# --- « Pression marketing »: at most N marketing SMS per client in D days, every store ---

PRESSURE = "pressure"
# What counts as an SMS the client received: handed to the operator, or delivered.
SENT_STATES = ("submitting", "submitted", "delivered")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def pressure_cap(most=None, days=None):
    """(N, D) of the chain's setting, or None when the cap is off (N = 0). `most`,
    `days`: the settings' values when the caller read them already."""
    if most is None:
        values = settings.get_many(("pressure_max", "pressure_days"))
        most, days = values["pressure_max"], values["pressure_days"]
    most, days = int(most), int(days)
    return (most, days) if most > 0 else None


def over_pressure(client_ids, *, now=None, except_campaign=None, cap=False):
    """{client id: (marketing SMS received, first of them, naive UTC)} for the clients of
    `client_ids` (ids, or a SELECT of ids) who already had the cap's number of marketing
    SMS in its days, whatever the store that sent them. Service messages do not count.
    `cap`: pressure_cap() when the caller has it."""
    cap = pressure_cap() if cap is False else cap
    if cap is None:
        return {}
    query = _over_pressure(cap, now).where(Message.client_id.in_(client_ids))
    if except_campaign is not None:
        query = query.where(Message.campaign_id != except_campaign)
    return {client_id: (sent, first) for client_id, sent, first in db.session.execute(query)}


def _over_pressure(cap, now=None):
    """Every client who had the cap's number of marketing SMS in its days, with how many
    and the first (over_pressure narrows it to some clients)."""
    most, days = cap
    since = (now or utcnow()) - timedelta(days=days)
    return (
        select(Message.client_id, func.count(), func.min(Message.created_at))
        .join(Campaign, Campaign.id == Message.campaign_id)
        .where(
            Message.created_at >= since,
            Message.state.in_(SENT_STATES),
            Campaign.kind == MARKETING,
        )
        .group_by(Message.client_id)
        .having(func.count() >= most)
    )


def count_over_pressure(client_ids, *, cap):
    """How many clients of `client_ids` (a SELECT of ids) over_pressure would give, for
    the selection screen's live count. On PostgreSQL, from what the triggers keep
    (models.MarketingPressure) when it is kept for this cap's number: the clients whose
    SMS that reaches the cap is within its days, along ix_marketing_pressure_nth (a
    handful), then looked up in the selection. Else (SQLite, or a cap set outside the
    settings) the period's marketing SMS are gathered first (MATERIALIZED: the planner
    may not push the selection into them), then their clients looked up in the
    selection: that grouped 100,000 SMS after a chain campaign (issue 15)."""
    most, days = cap
    if db.session.connection().dialect.name == "postgresql":
        kept_for = db.session.scalar(select(PressureBasis.most).where(PressureBasis.id == 1))
        if kept_for == most:
            since = utcnow() - timedelta(days=days)
            return db.session.scalar(
                select(func.count()).where(
                    MarketingPressure.nth >= since, MarketingPressure.client_id.in_(client_ids)
                )
            )
    over = _over_pressure(cap).cte("over_pressure").prefix_with("MATERIALIZED")
    return db.session.scalar(
        select(func.count()).select_from(over).where(over.c.client_id.in_(client_ids))
    )


def pressure_reason(sent, first):
    """The skip reason stored on the row (20 characters at most): « pressure:2:20260303 »."""
    return f"{PRESSURE}:{min(sent, 99)}:{hours._paris(first):%Y%m%d}"


def pressure_text(reason, *, capital=False):
    """« pression marketing : déjà 2 SMS depuis le 3 mars » for a stored reason (with a
    capital P to start a sentence)."""
    text = _pressure_text(reason)
    return text[0].upper() + text[1:] if capital else text


def _pressure_text(reason):
    try:
        _, sent, day = reason.split(":")
        month, day_of_month = int(day[4:6]), int(day[6:8])
        when = f"{day_of_month}{'er' if day_of_month == 1 else ''} {_MONTHS[month - 1]}"
        return f"pression marketing : déjà {int(sent)} SMS depuis le {when}"
    except (ValueError, IndexError):
        return "pression marketing"


def skip_pressure(model, row_ids, over, *, state="pending", **values):
    """Skip the rows (of `model`, Message or DraftRecipient, in `state`) whose client is
    over the cap, each with its own reason; `row_ids` maps client id → row ids. Returns
    the row ids skipped."""
    by_reason = {}
    for client_id, (sent, first) in over.items():
        for row_id in row_ids.get(client_id, ()):
            by_reason.setdefault(pressure_reason(sent, first), []).append(row_id)
    skipped = set()
    for reason, ids in by_reason.items():
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            skipped.update(
                db.session.scalars(
                    update(model)
                    .where(model.id.in_(chunk), model.state == state)
                    .values(state="skipped", skip_reason=reason, **values)
                    .returning(model.id)
                    .execution_options(synchronize_session=False)
                )
            )
    return skipped


def plan(kind, *, body, recipients, store_id=None, user_id=None, add_stop=None, gsm_names=False):
    """The message rows a sending would freeze (dicts: client, ticket, phone, final text,
    parts, state, skip reason), computed and checked without writing anything: draft()
    writes them; an automatic send's next run shows them with their cost. Raises
    CampaignError (empty text, SMS module off, a text over the store's limit)."""
    if not body.strip():
        raise CampaignError(_l("Le message est vide : écrivez le texte du SMS."))
    if not settings.sms_enabled(store_id):  # « Activer le module SMS » (issue 8)
        raise CampaignError(settings.SMS_DISABLED)
    add_stop = stop.applies(kind, add_stop)
    short_code = settings.get("stop_short_code", store_id)

    client_ids = [r.client_id for r in recipients if r.client_id]
    ticket_ids = [r.repair_ticket_id for r in recipients if r.repair_ticket_id]
    clients, tickets = _contexts(client_ids, ticket_ids)
    _check_allowed(user_id, recipients, clients, tickets)
    phones = {r.phone or getattr(clients.get(r.client_id), "sms_number", None) for r in recipients}
    opted_out = opted_out_numbers(phones) if kind == MARKETING else set()
    seen, rows = set(), []
    measured = {}
    overflow = Overflow(costing.max_parts(store_id))
    for recipient in recipients:
        client = clients.get(recipient.client_id)
        ticket = tickets.get(recipient.repair_ticket_id)
        phone = recipient.phone or (client.sms_number if client else None)
        if client is not None:
            context = costing.placeholder_context(client)
        else:
            context = dict(recipient.context or {})
        if ticket is not None:
            # <MAGASIN> of a repair SMS: the store holding the repair, not the client's.
            context |= {
                "number": ticket.number,
                "amount": ticket.amount_due,
                "store": ticket.store.name,
            }
        text = final_text(
            body, context, add_stop=add_stop, short_code=short_code, gsm_names=gsm_names
        )
        if text not in measured:
            measured[text] = encoding.measure(text)
        reason = skip_reason(kind, client, phone, opted_out)
        # One SMS per number, but each repair ticket of a client gets its own (its <NUM>).
        key = (phone, recipient.repair_ticket_id)
        if reason is None and key in seen:
            reason = DUPLICATE
        if reason is None:
            seen.add(key)
            overflow.add(measured[text])
        rows.append(
            {
                "client_id": recipient.client_id,
                "repair_ticket_id": recipient.repair_ticket_id,
                "phone": phone or "",
                "text": text,
                "parts": measured[text][2],
                "state": "skipped" if reason else "pending",
                "skip_reason": reason or "",
            }
        )
    if overflow.over_limit:
        raise CampaignError(too_long(overflow, add_stop=add_stop, short_code=short_code))
    return rows


def draft(
    kind,
    *,
    body,
    recipients,
    store_id=None,
    user_id=None,
    add_stop=None,
    sender_id=None,
    name="",
    gsm_names=False,
    planned=None,
):
    """Freeze a sending: one message row per recipient, with its final text and parts.
    A text longer than the store allows is refused before anything is written (the
    composer's counter says the same words: costing.too_long_message). `planned`: the
    rows plan() gave for these same arguments, if the caller has them already."""
    add_stop = stop.applies(kind, add_stop)
    rows = planned
    if rows is None:
        rows = plan(
            kind,
            body=body,
            recipients=recipients,
            store_id=store_id,
            user_id=user_id,
            add_stop=add_stop,
            gsm_names=gsm_names,
        )
    rows = [dict(row) for row in rows]
    campaign = Campaign(
        kind=kind,
        name=name,
        store_id=store_id,
        created_by_id=user_id,
        body=body,
        add_stop=add_stop,
        sender_id=sender_id or settings.get("sender_id", store_id),
    )
    db.session.add(campaign)
    db.session.flush()
    for row in rows:
        row["campaign_id"] = campaign.id
    bulk_insert(Message, rows)
    campaign.recipients_count = len(rows)
    db.session.commit()
    return campaign


def too_long(overflow, *, add_stop, short_code):
    """The refusal of texts over the store's limit, as the composer words it."""
    return costing.too_long_message(
        over_limit=overflow.over_limit,
        over_by=overflow.over_by,
        recipients=overflow.recipients,
        limit=overflow.limit,
        max_parts=overflow.max_parts,
        stop_units=stop.room(stop.stop_mention(short_code)) if add_stop else 0,
    )


def _check_allowed(user_id, recipients, clients, tickets):
    """Staff and managers text their store's clients only (or the clients of their
    store's repair tickets), whatever ids a screen posts; head office, anyone."""
    user = db.session.get(User, user_id) if user_id else None
    if user is None or access.every_store(user):
        return
    for recipient in recipients:
        client = clients.get(recipient.client_id)
        ticket = tickets.get(recipient.repair_ticket_id)
        if recipient.client_id and client is None:
            raise CampaignError(_l("Ce client n'existe pas."))
        if client is None or client.store_id == user.store_id:
            continue
        if ticket is not None and ticket.store_id == user.store_id:
            continue
        raise CampaignError(
            _l(
                "Le client « %(last_name)s %(first_name)s » n'est pas un client de votre "
                "magasin : il ne peut pas recevoir ce message.",
                last_name=client.last_name,
                first_name=client.first_name,
            )
        )


def cost(campaign_id):
    """Credits the campaign's pending messages need (a marketing campaign's are still
    rows of its recipient list until it starts)."""
    total = 0
    for table in (Message, DraftRecipient):
        total += (
            db.session.scalar(
                select(func.coalesce(func.sum(table.parts), 0)).where(
                    table.campaign_id == campaign_id, table.state == "pending"
                )
            )
            or 0
        )
    return total


def _editable(campaign_id, *statuses):
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(_l("Cet envoi n'existe pas."))
    if campaign.status not in statuses:
        raise CampaignError(
            _l(
                "Cet envoi est déjà « %(status)s » : il ne peut plus changer.",
                status=STATUS_LABELS.get(campaign.status, campaign.status),
            )
        )
    return campaign


def claim_status(campaign_id, from_statuses, to_status, *, also=(), **values):
    """Move a campaign from one of `from_statuses` to `to_status` in one conditional
    UPDATE: of two requests (or a request and a worker) racing, only one wins. Says
    whether this one did; the loaded Campaign is brought up to date. `also`: further
    conditions the row must still meet."""
    changed = db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(from_statuses), *also)
        .values(status=to_status, **values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return False
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is not None:
        campaign.status = to_status
        for name, value in values.items():
            setattr(campaign, name, value)
    return True


ALREADY_GONE = _l("Cette campagne est déjà partie ou programmée : elle ne peut plus changer.")


def queue_now(
    campaign_id, *, user_id=None, now=None, accept_next_window=False, from_status="draft"
):
    """Send as soon as a worker takes it. Marketing outside sending hours raises
    OutsideSendingHours (the screen offers the next allowed time) unless accepted.
    `from_status`: "preparing" when the job that prepared it queues it."""
    campaign = _editable(campaign_id, from_status)
    now = now or utcnow()
    not_before = None
    note = ""
    if campaign.kind == MARKETING:
        window = sending_window(campaign.store_id)
        if not hours.is_allowed(now, window):
            next_time = hours.next_allowed(now, window)
            if not accept_next_window:
                raise OutsideSendingHours(next_time)
            not_before = next_time.astimezone(UTC).replace(tzinfo=None)
            note = f"En attente des heures d'envoi : départ le {next_time:%d/%m/%Y à %H:%M}."
    # The claim comes before the reservation: a second click finds the campaign gone
    # and reserves nothing.
    if not claim_status(
        campaign.id, (from_status,), "queued", not_before=not_before, status_note=note
    ):
        raise CampaignError(ALREADY_GONE)
    credits.reserve(campaign.id, cost(campaign.id), store_id=campaign.store_id, user_id=user_id)
    _audit("campaign.queue", campaign, user_id=user_id)
    db.session.commit()
    _enqueue(campaign)
    return campaign


def _audit(action, campaign, user=None, user_id=None):
    if user is None and user_id:
        user = db.session.get(User, user_id)
    audit.record(action, user=user, store_id=campaign.store_id, obj=campaign)


def schedule(campaign_id, when_utc, *, user_id=None, now=None, user=None, from_status="draft"):
    """« Envoi différé »: at `when_utc` (naive UTC), in the future and, for marketing,
    within sending hours."""
    campaign = _editable(campaign_id, from_status)
    _check_when(campaign, when_utc, now or utcnow())
    if not claim_status(
        campaign.id, (from_status,), "scheduled", scheduled_at=when_utc, not_before=when_utc
    ):
        raise CampaignError(ALREADY_GONE)
    credits.reserve(
        campaign.id,
        cost(campaign.id),
        store_id=campaign.store_id,
        user_id=user_id or getattr(user, "id", None),
    )
    _audit("campaign.schedule", campaign, user, user_id)
    db.session.commit()
    _enqueue(campaign)
    return campaign


def reschedule(campaign_id, when_utc, *, now=None, user=None):
    """A scheduled campaign moves to another time; its reservation stays as it is (the
    recipients and text are frozen, so the cost cannot change)."""
    campaign = _editable(campaign_id, "scheduled")
    _check_when(campaign, when_utc, now or utcnow())
    if not claim_status(
        campaign.id, ("scheduled",), "scheduled", scheduled_at=when_utc, not_before=when_utc
    ):
        raise CampaignError(ALREADY_GONE)
    _audit("campaign.reschedule", campaign, user)
    db.session.commit()
    _enqueue(campaign)
    return campaign


def unschedule(campaign_id, *, user_id=None, user=None):
    """« Annuler la programmation »: a scheduled campaign goes back to draft and its
    reserved credits come back at once; it can be sent or scheduled again."""
    campaign = _editable(campaign_id, "scheduled")
    user_id = user_id or getattr(user, "id", None)
    # Under the ledger's lock, and only if this request moved the campaign (not a
    # second click, not the worker starting it): the credits come back once.
    credits._lock_ledger()
    if not claim_status(
        campaign.id, ("scheduled",), "draft", scheduled_at=None, not_before=None, status_note=""
    ):
        raise CampaignError(
            _l("Cette campagne n'est plus programmée (déjà partie ou déjà annulée).")
        )
    credits.release(campaign.id, store_id=campaign.store_id, user_id=user_id)
    _audit("campaign.unschedule", campaign, user, user_id)
    db.session.commit()
    return campaign


def _check_when(campaign, when_utc, now):
    if when_utc <= now:
        raise CampaignError(
            _l("La date d'envoi différé est passée : choisissez un moment à venir.")
        )
    if campaign.kind == MARKETING:
        window = sending_window(campaign.store_id)
        if not hours.is_allowed(when_utc, window):
            raise OutsideSendingHours(hours.next_allowed(when_utc, window))


def cancel(campaign_id, *, user_id=None, user=None):
    """Stop what has not gone out yet; the credits not spent come back."""
    campaign = _editable(campaign_id, "draft", "scheduled", "queued", "sending")
    # Conditional, like every change of status: a second click finds it cancelled.
    if not claim_status(
        campaign.id, ("draft", "scheduled", "queued", "sending"), "cancelled", finished_at=utcnow()
    ):
        # Nothing changed: the caller's other work in this transaction stands.
        raise CampaignError(_l("Cet envoi est déjà terminé ou annulé."))
    from .recipients import materialize

    materialize(campaign.id, cancelled=True)  # a list not yet sent shows in the report
    db.session.execute(
        update(Message)
        .where(Message.campaign_id == campaign.id, Message.state == "pending")
        .values(state="skipped", skip_reason="cancelled", done_at=utcnow())
    )
    _audit("campaign.cancel", campaign, user, user_id)
    from .sending import in_flight

    if not in_flight(campaign.id):  # else the worker holding a batch settles it
        credits.settle(campaign.id)
    db.session.commit()
    return campaign


def progress(campaign_id):
    """Counts per message state (its recipient list's, before it starts), for progress
    bars and reports: read from the counts the database keeps (CampaignCount)."""
    rows = db.session.execute(
        select(CampaignCount.state, func.sum(CampaignCount.messages))
        .where(CampaignCount.campaign_id == campaign_id)
        .group_by(CampaignCount.state)
    )
    counts = dict.fromkeys(
        (
            "pending",
            "submitting",
            "submitted",
            "delivered",
            "failed",
            "expired",
            "skipped",
            "no_receipt",
        ),
        0,
    )
    counts.update({state: int(number) for state, number in rows if number})
    return counts


def compact_counts():
    """Fold the rows that PostgreSQL's triggers append (one per statement and state) into
    one per campaign and state, so that reading a campaign's counts stays a few rows. One
    statement: rows appended meanwhile are not seen, so not lost. Returns rows removed."""
    if db.session.connection().dialect.name != "postgresql":
        return 0  # SQLite's triggers update their row in place
    removed = db.session.execute(
        sql(
            """
            WITH folded AS (
              DELETE FROM campaign_counts
              WHERE (campaign_id, state, variant) IN (
                SELECT campaign_id, state, variant FROM campaign_counts
                GROUP BY campaign_id, state, variant HAVING count(*) > 1)
              RETURNING campaign_id, state, variant, messages, parts),
            written AS (
              INSERT INTO campaign_counts (campaign_id, state, variant, messages, parts)
              SELECT campaign_id, state, variant, sum(messages), sum(parts) FROM folded
              GROUP BY campaign_id, state, variant
              HAVING sum(messages) <> 0 OR sum(parts) <> 0  -- a state left: no row
              RETURNING 1)
            SELECT (SELECT count(*) FROM folded) - (SELECT count(*) FROM written)
            """
        )
    ).scalar()
    db.session.commit()
    return removed


# A gateway keeps trying a message for up to 48 hours; past that, a report that never came
# will not come, and the live page stops asking.
REPORTS_AWAITED_FOR = timedelta(hours=72)


@dataclass(frozen=True)
class FollowUp:
    """What the live send page still waits for."""

    to_send: int  # rows not handed to the gateway yet: « Arrêter l'envoi » can stop them
    reports_awaited: int  # handed over, their delivery report not in yet
    polling: bool  # the page keeps asking for news
    all_delivered: bool  # « tous reçus »


def follow_up(campaign, counts, *, now=None):
    """From progress(): a sending is followed until every delivery report is in, not
    only until the last SMS left (« Envoyé » with half the reports still to come)."""
    to_send = counts["pending"] + counts["submitting"]
    awaited = counts["submitted"] + counts["submitting"]
    going = campaign.status in ("queued", "sending")
    recent = campaign.finished_at is None or (
        (now or utcnow()) - campaign.finished_at < REPORTS_AWAITED_FOR
    )
    preparing = campaign.status == "preparing"
    polling = going or preparing or (campaign.status == "sent" and awaited > 0 and recent)
    sent = sum(counts[s] for s in ("submitted", "delivered", "failed", "expired", "no_receipt"))
    all_delivered = (
        campaign.status == "sent" and sent > 0 and counts["delivered"] == sent and not to_send
    )
    return FollowUp(
        to_send=to_send if going else 0,
        reports_awaited=awaited,
        polling=polling,
        all_delivered=all_delivered,
    )


def _enqueue(campaign):
    """Hand the campaign to the queue. With Redis down it stays queued in the database
    and the sweep sends it when Redis is back: `campaign.queue_down` tells the screen."""
    campaign.queue_down = background.send_campaign(campaign.id, campaign.not_before) is None


NO_SUCH_TIME = _l("Cette heure n'existe pas ce jour-là (changement d'heure).")


def to_utc(local_naive):
    """A date and time typed in Europe/Paris, as the naive UTC the database stores. A
    time the clocks skip (spring) or pass twice (autumn) is refused rather than guessed."""
    if local_naive.tzinfo is not None:
        return local_naive.astimezone(UTC).replace(tzinfo=None)
    first = local_naive.replace(tzinfo=hours.PARIS, fold=0)
    second = local_naive.replace(tzinfo=hours.PARIS, fold=1)
    utc = first.astimezone(UTC)
    if utc != second.astimezone(UTC):
        raise CampaignError(NO_SUCH_TIME)
    if utc.astimezone(hours.PARIS).replace(tzinfo=None) != local_naive:
        raise CampaignError(NO_SUCH_TIME)
    return utc.replace(tzinfo=None)

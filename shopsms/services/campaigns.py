"""A sending's life: drafted (recipients frozen as message rows; a marketing
campaign's as the rows of its recipient list, which become messages when it starts),
then queued now or scheduled, sent by the workers, possibly cancelled or moved before
it starts."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, func, select, update
from sqlalchemy import text as sql

from .. import access, formats
from ..access import Person
from ..extensions import db
from ..models import (
    MESSAGE_STATES,
    Campaign,
    CampaignCount,
    Client,
    DraftRecipient,
    Message,
    RepairTicket,
    Store,
    User,
    utcnow,
)
from ..models.base import bulk_insert
from ..sms import encoding, hours, stop
from ..sms.cost import Overflow, final_text
from ..sms.said import N_
from . import audit, background, costing, credits, settings
from .campaign_status import ALREADY_GONE, STATUS_LABELS, CampaignError, claim_status
from .draft_list import materialize
from .eligibility import DUPLICATE, MARKETING, opted_out_numbers, skip_reason
from .sending_hours import OutsideSendingHours, check_when, sending_window
from .workers import in_flight


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to: a client (their SMS number), or a bare number (a test SMS)."""

    client_id: int | None = None
    phone: str | None = None  # E.164; overrides the client's number
    repair_ticket_id: int | None = None
    # Placeholder values without a client (a campaign's test SMS, rendered as its first
    # recipient will read it but filed under no client).
    context: dict[str, Any] | None = None


def _contexts(
    client_ids: Sequence[int], ticket_ids: Sequence[int]
) -> tuple[dict[int | None, Row], dict[int | None, RepairTicket]]:
    """Placeholder contexts and reachability facts, in two queries whatever the size;
    keyed by id, looked up with a recipient's (None when it has no client, no ticket)."""
    clients: dict[int | None, Row] = {}
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
    tickets: dict[int | None, RepairTicket] = {}
    if ticket_ids:
        found = db.session.scalars(select(RepairTicket).where(RepairTicket.id.in_(ticket_ids)))
        tickets = {ticket.id: ticket for ticket in found}
    return clients, tickets


def plan(
    kind: str,
    *,
    body: str,
    recipients: Sequence[Recipient],
    store_id: int | None = None,
    user_id: int | None = None,
    add_stop: bool | None = None,
    gsm_names: bool = False,
) -> list[dict[str, Any]]:
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
    seen: set[tuple[str | None, int | None]] = set()
    rows: list[dict[str, Any]] = []
    measured: dict[str, tuple[str, int, int]] = {}
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
    kind: str,
    *,
    body: str,
    recipients: Sequence[Recipient],
    store_id: int | None = None,
    user_id: int | None = None,
    add_stop: bool | None = None,
    sender_id: str | None = None,
    name: str = "",
    gsm_names: bool = False,
    planned: Sequence[Mapping[str, Any]] | None = None,
) -> Campaign:
    """Freeze a sending: one message row per recipient, with its final text and parts.
    A text longer than the store allows is refused before anything is written (the
    composer's counter says the same words: costing.too_long_message). `planned`: the
    rows plan() gave for these same arguments, if the caller has them already."""
    add_stop = stop.applies(kind, add_stop)
    rows: Sequence[Mapping[str, Any]] | None = planned
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
    written = [dict(row) for row in rows]
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
    for row in written:
        row["campaign_id"] = campaign.id
    bulk_insert(Message, written)
    campaign.recipients_count = len(written)
    db.session.commit()
    return campaign


def too_long(overflow: Overflow, *, add_stop: bool, short_code: str) -> str:
    """The refusal of texts over the store's limit, as the composer words it."""
    return costing.too_long_message(
        over_limit=overflow.over_limit,
        over_by=overflow.over_by,
        recipients=overflow.recipients,
        limit=overflow.limit,
        max_parts=overflow.max_parts,
        stop_units=stop.room(stop.stop_mention(short_code)) if add_stop else 0,
    )


def _check_allowed(
    user_id: int | None,
    recipients: Sequence[Recipient],
    clients: Mapping[int | None, Row],
    tickets: Mapping[int | None, RepairTicket],
) -> None:
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


def cost(campaign_id: int) -> int:
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


def _editable(campaign_id: int, *statuses: str) -> Campaign:
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


def queue_now(
    campaign_id: int,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
    accept_next_window: bool = False,
    from_status: str = "draft",
) -> Campaign:
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
            note = formats.keep(
                N_("En attente des heures d'envoi : départ le %(when)s.", when=next_time)
            )
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


def _audit(
    action: str, campaign: Campaign, user: Person | None = None, user_id: int | None = None
) -> None:
    if user is None and user_id:
        user = db.session.get(User, user_id)
    audit.record(action, user=user, store_id=campaign.store_id, obj=campaign)


def schedule(
    campaign_id: int,
    when_utc: datetime,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
    user: Person | None = None,
    from_status: str = "draft",
) -> Campaign:
    """« Envoi différé »: at `when_utc` (naive UTC), in the future and, for marketing,
    within sending hours."""
    campaign = _editable(campaign_id, from_status)
    check_when(campaign, when_utc, now or utcnow())
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


def reschedule(
    campaign_id: int,
    when_utc: datetime,
    *,
    now: datetime | None = None,
    user: Person | None = None,
) -> Campaign:
    """A scheduled campaign moves to another time; its reservation stays as it is (the
    recipients and text are frozen, so the cost cannot change)."""
    campaign = _editable(campaign_id, "scheduled")
    check_when(campaign, when_utc, now or utcnow())
    if not claim_status(
        campaign.id, ("scheduled",), "scheduled", scheduled_at=when_utc, not_before=when_utc
    ):
        raise CampaignError(ALREADY_GONE)
    _audit("campaign.reschedule", campaign, user)
    db.session.commit()
    _enqueue(campaign)
    return campaign


def unschedule(
    campaign_id: int, *, user_id: int | None = None, user: Person | None = None
) -> Campaign:
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


def cancel(campaign_id: int, *, user_id: int | None = None, user: Person | None = None) -> Campaign:
    """Stop what has not gone out yet; the credits not spent come back."""
    campaign = _editable(campaign_id, "draft", "scheduled", "queued", "sending")
    # Conditional, like every change of status: a second click finds it cancelled.
    if not claim_status(
        campaign.id, ("draft", "scheduled", "queued", "sending"), "cancelled", finished_at=utcnow()
    ):
        # Nothing changed: the caller's other work in this transaction stands.
        raise CampaignError(_l("Cet envoi est déjà terminé ou annulé."))
    materialize(campaign.id, cancelled=True)  # a list not yet sent shows in the report
    db.session.execute(
        update(Message)
        .where(Message.campaign_id == campaign.id, Message.state == "pending")
        .values(state="skipped", skip_reason="cancelled", done_at=utcnow())
    )
    _audit("campaign.cancel", campaign, user, user_id)
    if not in_flight(campaign.id):  # else the worker holding a batch settles it
        credits.settle(campaign.id)
    db.session.commit()
    return campaign


def progress(campaign_id: int) -> dict[str, int]:
    """Counts per message state (its recipient list's, before it starts), for progress
    bars and reports: read from the counts the database keeps (CampaignCount)."""
    rows = db.session.execute(
        select(CampaignCount.state, func.sum(CampaignCount.messages))
        .where(CampaignCount.campaign_id == campaign_id)
        .group_by(CampaignCount.state)
    )
    counts = dict.fromkeys(MESSAGE_STATES, 0)
    counts.update({state: int(number) for state, number in rows if number})
    return counts


def compact_counts() -> int:
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
    return removed or 0  # a count: never None


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


def follow_up(
    campaign: Campaign, counts: Mapping[str, int], *, now: datetime | None = None
) -> FollowUp:
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


def _enqueue(campaign: Campaign) -> None:
    """Hand the campaign to the queue. With Redis down it stays queued in the database
    and the sweep sends it when Redis is back: `campaign.queue_down` tells the screen."""
    campaign.queue_down = background.send_campaign(campaign.id, campaign.not_before) is None

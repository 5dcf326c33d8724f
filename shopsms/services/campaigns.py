"""A sending's life: drafted (recipients frozen as message rows), then queued now or
scheduled, sent by the workers, possibly cancelled or moved before it starts."""

from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Campaign, Client, Message, OptOut, RepairTicket, Store, utcnow
from ..models.base import bulk_insert
from ..sms import encoding, hours
from ..sms.cost import final_text
from . import audit, costing, credits, settings

MARKETING = "marketing"


class CampaignError(ValueError):
    """A French message that says what to change."""


class OutsideSendingHours(CampaignError):
    def __init__(self, next_allowed):
        self.next_allowed = next_allowed  # aware, Europe/Paris
        super().__init__(
            "Les SMS publicitaires partent du lundi au samedi aux heures d'envoi, jamais un "
            f"jour férié. Prochain créneau : {next_allowed:%d/%m/%Y à %H:%M}."
        )


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to: a client (their SMS number), or a bare number (a test SMS)."""

    client_id: int | None = None
    phone: str | None = None  # E.164; overrides the client's number
    repair_ticket_id: int | None = None


def sending_window(store_id=None):
    return hours.Window.from_settings(
        settings.get("sending_days", store_id),
        settings.get("sending_start", store_id),
        settings.get("sending_end", store_id),
    )


def _contexts(client_ids, ticket_ids):
    """Placeholder contexts and reachability facts, in two queries whatever the size."""
    clients = {}
    for start in range(0, len(client_ids), 5000):
        chunk = client_ids[start : start + 5000]
        rows = db.session.execute(
            select(
                Client.id, Client.sms_number, Client.sms_consent, Client.sms_refuses_all,
                *costing.PLACEHOLDER_COLUMNS,
            )
            .join(Store, Store.id == Client.store_id)
            .where(Client.id.in_(chunk))
        )  # fmt: skip
        clients.update({row.id: row for row in rows})
    tickets = {}
    if ticket_ids:
        rows = db.session.scalars(select(RepairTicket).where(RepairTicket.id.in_(ticket_ids)))
        tickets = {ticket.id: ticket for ticket in rows}
    return clients, tickets


def _opted_out(phones):
    found = set()
    phones = list(phones)
    for start in range(0, len(phones), 5000):
        chunk = phones[start : start + 5000]
        found.update(db.session.scalars(select(OptOut.phone).where(OptOut.phone.in_(chunk))))
    return found


def skip_reason(kind, client, phone, opted_out):
    """Why a recipient gets no message, or None. Checked at draft and again at send."""
    if client is not None and client.sms_refuses_all:
        return "refuses_all"
    if not phone:
        return "no_mobile"
    if kind == MARKETING:
        if client is not None and client.sms_consent != "accepted":
            return "no_consent"
        if phone in opted_out:
            return "optout"
    return None


def draft(kind, *, body, recipients, store_id=None, user_id=None, add_stop=None,
          sender_id=None, name=""):  # fmt: skip
    """Freeze a sending: one message row per recipient, with its final text and parts."""
    if not body.strip():
        raise CampaignError("Le message est vide : écrivez le texte du SMS.")
    add_stop = True if kind == MARKETING else bool(add_stop)  # the law, for marketing
    short_code = settings.get("stop_short_code", store_id)
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

    client_ids = [r.client_id for r in recipients if r.client_id]
    ticket_ids = [r.repair_ticket_id for r in recipients if r.repair_ticket_id]
    clients, tickets = _contexts(client_ids, ticket_ids)
    phones = {r.phone or getattr(clients.get(r.client_id), "sms_number", None) for r in recipients}
    opted_out = _opted_out(p for p in phones if p) if kind == MARKETING else set()
    seen, rows = set(), []
    measured = {}
    for recipient in recipients:
        client = clients.get(recipient.client_id)
        ticket = tickets.get(recipient.repair_ticket_id)
        phone = recipient.phone or (client.sms_number if client else None)
        context = costing.placeholder_context(client) if client is not None else {}
        if ticket is not None:
            context |= {"number": ticket.number, "amount": ticket.amount_due}
        text = final_text(body, context, add_stop=add_stop, short_code=short_code)
        if text not in measured:
            measured[text] = encoding.measure(text)[2]
        reason = skip_reason(kind, client, phone, opted_out)
        if reason is None and phone in seen:
            reason = "duplicate"
        if reason is None:
            seen.add(phone)
        rows.append(
            {
                "campaign_id": campaign.id,
                "client_id": recipient.client_id,
                "repair_ticket_id": recipient.repair_ticket_id,
                "phone": phone or "",
                "text": text,
                "parts": measured[text],
                "state": "skipped" if reason else "pending",
                "skip_reason": reason or "",
            }
        )
    bulk_insert(Message, rows)
    campaign.recipients_count = len(rows)
    db.session.commit()
    return campaign


def cost(campaign_id):
    """Credits the campaign's pending messages need."""
    return (
        db.session.scalar(
            select(func.coalesce(func.sum(Message.parts), 0)).where(
                Message.campaign_id == campaign_id, Message.state == "pending"
            )
        )
        or 0
    )


def _editable(campaign_id, *statuses):
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError("Cet envoi n'existe pas.")
    if campaign.status not in statuses:
        raise CampaignError(f"Cet envoi est déjà « {campaign.status} » : il ne peut plus changer.")
    return campaign


def queue_now(campaign_id, *, user_id=None, now=None, accept_next_window=False):
    """Send as soon as a worker takes it. Marketing outside sending hours raises
    OutsideSendingHours (the screen offers the next allowed time) unless accepted."""
    campaign = _editable(campaign_id, "draft")
    now = now or utcnow()
    not_before = None
    if campaign.kind == MARKETING:
        window = sending_window(campaign.store_id)
        if not hours.is_allowed(now, window):
            next_time = hours.next_allowed(now, window)
            if not accept_next_window:
                raise OutsideSendingHours(next_time)
            not_before = next_time.astimezone(UTC).replace(tzinfo=None)
            campaign.status_note = (
                f"En attente des heures d'envoi : départ le {next_time:%d/%m/%Y à %H:%M}."
            )
    credits.reserve(campaign.id, cost(campaign.id), store_id=campaign.store_id, user_id=user_id)
    campaign.status = "queued"
    campaign.not_before = not_before
    audit.record("campaign.queue", store_id=campaign.store_id, obj=campaign)
    db.session.commit()
    _enqueue(campaign)
    return campaign


def schedule(campaign_id, when_utc, *, user_id=None, now=None):
    """« Envoi différé »: at `when_utc` (naive UTC), in the future and, for marketing,
    within sending hours."""
    campaign = _editable(campaign_id, "draft")
    _check_when(campaign, when_utc, now or utcnow())
    credits.reserve(campaign.id, cost(campaign.id), store_id=campaign.store_id, user_id=user_id)
    campaign.status = "scheduled"
    campaign.scheduled_at = campaign.not_before = when_utc
    audit.record("campaign.schedule", store_id=campaign.store_id, obj=campaign)
    db.session.commit()
    _enqueue(campaign)
    return campaign


def reschedule(campaign_id, when_utc, *, now=None):
    campaign = _editable(campaign_id, "scheduled")
    _check_when(campaign, when_utc, now or utcnow())
    campaign.scheduled_at = campaign.not_before = when_utc
    audit.record("campaign.reschedule", store_id=campaign.store_id, obj=campaign)
    db.session.commit()
    _enqueue(campaign)
    return campaign


def _check_when(campaign, when_utc, now):
    if when_utc <= now:
        raise CampaignError("La date d'envoi différé est passée : choisissez un moment à venir.")
    if campaign.kind == MARKETING:
        window = sending_window(campaign.store_id)
        if not hours.is_allowed(when_utc, window):
            raise OutsideSendingHours(hours.next_allowed(when_utc, window))


def cancel(campaign_id, *, user_id=None):
    """Stop what has not gone out yet; the credits not spent come back."""
    campaign = _editable(campaign_id, "draft", "scheduled", "queued", "sending")
    db.session.execute(
        update(Message)
        .where(Message.campaign_id == campaign.id, Message.state == "pending")
        .values(state="skipped", skip_reason="cancelled", done_at=utcnow())
    )
    campaign.status = "cancelled"
    campaign.finished_at = utcnow()
    audit.record("campaign.cancel", store_id=campaign.store_id, obj=campaign)
    from .sending import in_flight

    if not in_flight(campaign.id):  # else the worker holding a batch settles it
        credits.settle(campaign.id)
    db.session.commit()
    return campaign


def progress(campaign_id):
    """Counts per message state, for progress bars and reports."""
    rows = db.session.execute(
        select(Message.state, func.count())
        .where(Message.campaign_id == campaign_id)
        .group_by(Message.state)
    )
    counts = dict.fromkeys(
        ("pending", "submitting", "submitted", "delivered", "failed", "expired", "skipped"), 0
    )
    counts.update(dict(rows.all()))
    return counts


def _enqueue(campaign):
    from ..jobs import enqueue_campaign

    enqueue_campaign(campaign.id, campaign.not_before)


def to_utc(local_naive):
    """A date and time typed in Europe/Paris, as the naive UTC the database stores."""
    aware = local_naive.replace(tzinfo=hours.PARIS) if local_naive.tzinfo is None else local_naive
    return aware.astimezone(UTC).replace(tzinfo=None)

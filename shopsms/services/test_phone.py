"""The « Téléphone de test »: what the simulation gateway's phones received."""

from sqlalchemy import func, select

from ..extensions import db
from ..models import InboundMessage, Message, OutboxMessage


def numbers(limit=100):
    """Phones that received something, the most recent first, each with its last text and
    how many SMS it holds (counted in the same grouping that finds the last one)."""
    last = (
        select(
            OutboxMessage.phone,
            func.max(OutboxMessage.id).label("last_id"),
            func.count(OutboxMessage.id).label("received"),
        )
        .group_by(OutboxMessage.phone)
        .subquery()
    )
    rows = db.session.execute(
        select(OutboxMessage, last.c.received)
        .join(last, last.c.last_id == OutboxMessage.id)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [(message, count) for message, count in rows]


def conversation(phone, limit=50):
    """What this phone received (with each message's delivery state) and sent back."""
    received = db.session.execute(
        select(OutboxMessage, Message.state, Message.error)
        .join(Message, Message.id == OutboxMessage.message_id)
        .where(OutboxMessage.phone == phone)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    sent = db.session.scalars(
        select(InboundMessage)
        .where(InboundMessage.phone == phone)
        .order_by(InboundMessage.id.desc())
        .limit(limit)
    ).all()
    items = [("in", row.OutboxMessage.received_at, row) for row in received]
    items += [("out", message.received_at, message) for message in sent]
    return sorted(items, key=lambda item: item[1])


def waiting_for_reports(items):
    return any(kind == "in" and row.state in ("submitting", "submitted") for kind, _, row in items)

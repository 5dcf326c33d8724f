"""The « Téléphone de test »: what the simulation gateway's phones received."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, or_, select

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Campaign, Client, InboundMessage, Message, OutboxMessage


def _visible(query: Select, user: Person | None) -> Select:
    """A store sees what went to its clients or from its own sendings (a test SMS to a
    colleague's phone has no client); head office sees the chain. `query` selects from
    OutboxMessage."""
    if user is None or access.every_store(user):
        return query
    return (
        query.join(Message, Message.id == OutboxMessage.message_id)
        .join(Campaign, Campaign.id == Message.campaign_id)
        .outerjoin(Client, Client.id == Message.client_id)
        .where(or_(Client.store_id == user.store_id, Campaign.store_id == user.store_id))
    )


def may_see(phone: str, user: Person) -> bool:
    """Whether this person may open this phone's thread (and answer from it)."""
    if access.every_store(user):
        return True
    query = _visible(select(OutboxMessage.id).where(OutboxMessage.phone == phone), user)
    if db.session.scalar(query.limit(1)) is not None:
        return True
    # A client of the store who has texted without having received anything yet.
    return (
        db.session.scalar(
            select(Client.id)
            .where(Client.sms_number == phone, Client.store_id == user.store_id)
            .limit(1)
        )
        is not None
    )


def numbers(user: Person | None = None, limit: int = 100) -> list[tuple[OutboxMessage, int]]:
    """Phones that received something, the most recent first, each with its last text and
    how many SMS it holds (counted in the same grouping that finds the last one); for a
    store, its own clients' phones only."""
    last = (
        _visible(
            select(
                OutboxMessage.phone,
                func.max(OutboxMessage.id).label("last_id"),
                func.count(OutboxMessage.id).label("received"),
            ),
            user,
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


def conversation(
    phone: str, limit: int = 50
) -> list[tuple[str, datetime, Row[OutboxMessage, str, str] | InboundMessage]]:
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
    items: list[tuple[str, datetime, Row[OutboxMessage, str, str] | InboundMessage]] = [
        ("in", row.OutboxMessage.received_at, row) for row in received
    ]
    items += [("out", message.received_at, message) for message in sent]
    return sorted(items, key=lambda item: item[1])


def waiting_for_reports(items: Sequence[tuple[str, datetime, Any]]) -> bool:
    return any(kind == "in" and row.state in ("submitting", "submitted") for kind, _, row in items)

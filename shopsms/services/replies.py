"""« Réponses des clients »: what clients texted back, for staff to read."""

from collections.abc import Sequence

from sqlalchemy import CursorResult, Row, Select, func, select, update

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Client, InboundMessage, utcnow


def _scoped(query: Select, user: Person) -> Select:
    # A store sees its clients' replies; head office also sees unknown numbers.
    return access.scoped(query, Client.store_id, user)


def recent(user: Person, *, limit: int = 100) -> Sequence[Row]:
    query = (
        select(InboundMessage, Client)
        .outerjoin(Client, Client.id == InboundMessage.client_id)
        .order_by(InboundMessage.id.desc())
        .limit(limit)
    )
    return db.session.execute(_scoped(query, user)).all()


def unread_count(user: Person) -> int:
    query = (
        select(func.count(InboundMessage.id))
        .outerjoin(Client, Client.id == InboundMessage.client_id)
        .where(InboundMessage.read_at.is_(None))
    )
    return db.session.scalar(_scoped(query, user)) or 0


def mark_read(user: Person, message_id: int) -> bool:
    """Only a reply the user may see; returns whether one was marked."""
    visible = _scoped(
        select(InboundMessage.id)
        .outerjoin(Client, Client.id == InboundMessage.client_id)
        .where(InboundMessage.id == message_id),
        user,
    )
    result: CursorResult = db.session.execute(  # type: ignore[assignment]
        update(InboundMessage)
        .where(InboundMessage.id.in_(visible.scalar_subquery()), InboundMessage.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1

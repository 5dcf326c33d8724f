"""A marketing draft's « Liste des destinataires » (draft_recipients, a lean table without
foreign keys: see DraftRecipient) becoming the campaign's messages, once: when a worker
starts the campaign, or when it is cancelled, for its report.

Below campaigns (cancel), sending (the workers' start) and recipients (a dropped draft
that once held credits), which all call it."""

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, case, delete, insert, literal, select

from ..extensions import db
from ..models import DraftGroup, DraftRecipient, Message, utcnow


def materialize(campaign_id: int, *, cancelled: bool = False) -> int:
    """The list's rows become the campaign's messages, in list order, and leave the
    list: when the campaign starts sending, or when it is cancelled (its pending rows
    then skipped, « cancelled »), so that its report shows everyone. Rows are moved by
    one DELETE … RETURNING feeding one INSERT on PostgreSQL, so that two callers could
    never both move the same row. (Workers sending side by side on PostgreSQL take the
    list batch by batch instead: sending._claim_from_list.) Returns how many rows moved."""
    now = utcnow()
    # The list's groups go first, with the list: so its triggers have none to recount
    # (on PostgreSQL a probe per group that, on a list just made, is planned over the
    # whole list: 9 s for 20,000 rows).
    drop_groups(campaign_id)
    columns = [
        "campaign_id",
        "client_id",
        "phone",
        "text",
        "parts",
        "state",
        "skip_reason",
        "variant",
        "error",
        "gateway",
        "created_at",
    ]
    mine = DraftRecipient.campaign_id == campaign_id
    if db.session.connection().dialect.name == "postgresql":
        moved = (
            delete(DraftRecipient)
            .where(mine)
            .returning(*(getattr(DraftRecipient, name) for name in ["id", *columns[:8]]))
            .cte("moved")
        )
        source = moved.c
    else:  # one writer at a time: the DELETE below runs in the same transaction
        moved, source = None, DraftRecipient.__table__.c
    state: Any = source.state
    reason: Any = source.skip_reason
    if cancelled:
        state = case((source.state == "pending", "skipped"), else_=source.state)
        reason = case((source.state == "pending", "cancelled"), else_=source.skip_reason)
    rows = select(
        source.campaign_id,
        source.client_id,
        source.phone,
        source.text,
        source.parts,
        state,
        reason,
        source.variant,
        literal(""),
        literal(""),
        literal(now),
    ).order_by(source.id)
    if moved is None:
        rows = rows.where(source.campaign_id == campaign_id)
    moved_ids = db.session.scalars(
        insert(Message).from_select(columns, rows, include_defaults=False).returning(Message.id)
    ).all()
    if moved is None:
        db.session.execute(delete(DraftRecipient).where(mine))
    return len(moved_ids)


def drop_groups(campaign_id: int) -> None:
    """The list's groups (what the composer costs) once it is no longer a draft."""
    db.session.execute(delete(DraftGroup).where(DraftGroup.campaign_id == campaign_id))


@contextlib.contextmanager
def groups_stand_aside(connection: Connection) -> Iterator[None]:
    """PostgreSQL: around statements that delete rows of a list whose groups need no
    recount (migration 0030): rows written back as they were (same client, group,
    variant and state: the preparation), or rows of a list no longer a draft, its groups
    dropped (drop_groups: a worker taking the list batch by batch). The triggers would
    recount and probe every group a batch touches (a group per name shape and store:
    6-10 ms per 1,000 rows sent) and connections working on one list side by side would
    wait on each other's groups. Only for the statements inside: the rest of the
    transaction keeps its triggers."""
    connection.exec_driver_sql("SET LOCAL shopsms.same_groups = 'on'")
    try:
        yield
    finally:
        connection.exec_driver_sql("SET LOCAL shopsms.same_groups = 'off'")

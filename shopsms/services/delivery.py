"""Delivery reports, whichever gateway brings them: one way to move a message on."""

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from ..extensions import db
from ..gateways import Report
from ..gateways.outbox import outcome
from ..models import Campaign, EarlyReceipt, Message, MessagePart, OutboxMessage, utcnow
from ..sms.said import N_, readable
from . import settings

FINAL_STATES = ("delivered", "failed", "expired")
# Not heard of: a receipt that comes after all still says what became of the message.
OPEN_STATES = ("submitting", "submitted", "no_receipt")
NO_RECEIPT_ERROR = N_("Aucun accusé de réception de l'opérateur en %(hours)s h")
# A concatenated SMS that failed or expired with one of its parts.
PART_FAILED = N_("Partie %(seq)s/%(total)s : %(error)s")
PART_NOT_DELIVERED = N_("Partie %(seq)s/%(total)s non délivrée")
# A message's reason is kept as its French words (the exports, the API and the rule
# below read them); the screens say it in the reader's language (formats.said).
readable(NO_RECEIPT_ERROR, PART_FAILED, PART_NOT_DELIVERED)

# A failure that a corrected client card would avoid: the number itself is wrong (it does
# not exist, is invalid, is a landline or unknown to the operator). Anything else (the
# phone off, the operator's own trouble, « Abonné absent ») is no reason to fix the card.
# The gateways word their reasons in French (gateways/*); the SMPP names are kept too.
_NUMBER_FAILURE = re.compile(
    r"num[ée]ro[^.;]*\b(inexistant|invalide|inconnu|non attribu[ée]|fixe)"
    r"|abonn[ée] inconnu|ESME_RINVDSTADR|RINVDSTADR|ESME_RINVDSTTON|RINVDSTTON",
    re.IGNORECASE,
)


def is_number_failure(error: str) -> bool:
    """Whether a failed message's reason says the number is wrong (see _NUMBER_FAILURE)."""
    return bool(error) and _NUMBER_FAILURE.search(error) is not None


def record(gateway_name: str, reports: Sequence[Report], *, now: datetime | None = None) -> int:
    """Apply reports; a message only moves forward, and only for the gateway that has it.
    A report naming a part of a concatenated SMS moves the part, and the message as its
    worst part says; one naming a reference not committed yet is kept (EarlyReceipt)
    and applied when it lands. Returns how many messages changed."""
    now = now or utcnow()
    changed = _record_ids(gateway_name, [r for r in reports if r.message_id is not None], now)
    changed += _record_refs(gateway_name, [r for r in reports if r.message_id is None], now)
    db.session.commit()
    return changed


def _record_ids(gateway_name: str, reports: Iterable[Report], now: datetime) -> int:
    groups = defaultdict(list)
    for report in reports:
        key = ("id", report.message_id) if report.message_id is not None else ("ref", report.ref)
        groups[(report.state, report.error[:200])].append(key)
    changed = 0
    for (state, error), keys in groups.items():
        ids = [value for kind, value in keys if kind == "id"]
        refs = [value for kind, value in keys if kind == "ref"]
        for column, values in ((Message.id, ids), (Message.gateway_ref, refs)):
            for start in range(0, len(values), 1000):
                changed += _apply(
                    gateway_name, column, values[start : start + 1000], state, error, now
                )
    return changed


def _record_refs(
    gateway_name: str, reports: Iterable[Report], now: datetime, *, keep_unknown: bool = True
) -> int:
    reports = [r for r in reports if r.ref]
    if not reports:
        return 0
    refs = list({r.ref for r in reports})
    parts = {
        part.gateway_ref: part
        for part in db.session.scalars(
            select(MessagePart).where(
                MessagePart.gateway == gateway_name, MessagePart.gateway_ref.in_(refs)
            )
        )
    }
    whole = [r for r in reports if r.ref not in parts]
    known = set(
        db.session.scalars(
            select(Message.gateway_ref).where(
                Message.gateway == gateway_name,
                Message.gateway_ref.in_([r.ref for r in whole]),
            )
        )
    )
    changed = _record_ids(gateway_name, [r for r in whole if r.ref in known], now)
    for report in whole:
        if report.ref not in known and keep_unknown and report.state in FINAL_STATES:
            assert report.ref is not None  # the reports without one were left out above
            db.session.add(
                EarlyReceipt(
                    gateway=gateway_name,
                    gateway_ref=report.ref[:64],
                    state=report.state,
                    error=report.error[:200],
                    received_at=now,
                )
            )
    for report in reports:
        if report.ref in parts:
            changed += _apply_part(parts[report.ref], report, now)
    return changed


def _apply_part(part: MessagePart, report: Report, now: datetime) -> int:
    """One part's receipt: the message fails or expires with the first part that does
    (the report says which), and is delivered when every part is."""
    if report.state not in FINAL_STATES or part.state in FINAL_STATES:
        return 0
    part.state, part.error, part.done_at = report.state, report.error[:200], now
    db.session.flush()
    message = update(Message).where(Message.id == part.message_id, Message.state.in_(OPEN_STATES))
    if report.state != "delivered":
        total = db.session.scalar(select(Message.parts).where(Message.id == part.message_id))
        error = (
            N_(PART_FAILED, seq=part.seq, total=total, error=report.error)
            if report.error
            else N_(PART_NOT_DELIVERED, seq=part.seq, total=total)
        )
        statement = message.values(state=report.state, error=error[:200])
    else:
        waiting = db.session.scalar(
            select(func.count(MessagePart.id)).where(
                MessagePart.message_id == part.message_id, MessagePart.state != "delivered"
            )
        )
        if waiting:
            return 0
        statement = message.values(state="delivered", error="")
    statement = statement.values(done_at=now, submitted_at=func.coalesce(Message.submitted_at, now))
    return _rowcount(statement.execution_options(synchronize_session=False))


def _rowcount(statement: Executable) -> int:
    """Run an UPDATE; how many rows it changed."""
    # Session.execute is typed as returning Result; an UPDATE's is a CursorResult.
    return cast(CursorResult, db.session.execute(statement)).rowcount


def apply_early(
    gateway_name: str, refs: Iterable[str | None], *, now: datetime | None = None
) -> int:
    """Receipts that came before these references were recorded: apply them now (in the
    caller's transaction, which has just written the references)."""
    refs = [ref for ref in refs if ref]
    if not refs:
        return 0
    early = db.session.scalars(
        select(EarlyReceipt).where(
            EarlyReceipt.gateway == gateway_name, EarlyReceipt.gateway_ref.in_(refs)
        )
    ).all()
    if not early:
        return 0
    reports = [Report(state=e.state, ref=e.gateway_ref, error=e.error) for e in early]
    for receipt in early:
        db.session.delete(receipt)
    db.session.flush()
    return _record_refs(gateway_name, reports, now or utcnow(), keep_unknown=False)


def _apply(
    gateway_name: str,
    column: InstrumentedAttribute[Any],
    values: Sequence[int | str | None],
    state: str,
    error: str,
    now: datetime,
) -> int:
    if not values:
        return 0
    statement = update(Message).where(column.in_(values), Message.gateway == gateway_name)
    if state == "submitted":
        statement = statement.where(Message.state == "submitting").values(
            state="submitted", submitted_at=func.coalesce(Message.submitted_at, now)
        )
    elif state in FINAL_STATES:
        statement = statement.where(Message.state.in_(OPEN_STATES)).values(
            state=state,
            error=error,
            done_at=now,
            submitted_at=func.coalesce(Message.submitted_at, now),
        )
    else:
        raise ValueError(f"unknown delivery state {state!r}")
    return _rowcount(statement.execution_options(synchronize_session=False))


def outbox_reports(message_ids: Iterable[int]) -> list[Report]:
    """What the simulated operator says about messages on the test phone."""
    rows = db.session.execute(
        select(OutboxMessage.message_id, OutboxMessage.phone).where(
            OutboxMessage.message_id.in_(message_ids)
        )
    )
    reports = []
    for message_id, phone in rows:
        state, reason = outcome(phone)
        reports.append(Report(state=state, message_id=message_id, error=reason))
    return reports


def outbox_report(message_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """The simulated operator's reports for these messages, recorded once: the report
    due in the database is cleared in the same transaction."""
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(OutboxMessage.message_id).where(
                OutboxMessage.message_id.in_(message_ids), OutboxMessage.report_due_at.is_not(None)
            )
        )
    )
    if not due:
        return 0
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.message_id.in_(due))
        .values(report_due_at=None)
        .execution_options(synchronize_session=False)
    )
    return record("outbox", outbox_reports(due), now=now)


def overdue_outbox_reports(
    *, late_by: float = 5, limit: int = 5000, now: datetime | None = None
) -> int:
    """Simulated reports whose job was lost (a worker killed, Redis stopped or flushed):
    made now. Returns how many messages moved."""
    now = now or utcnow()
    moved = 0
    while True:
        ids = list(
            db.session.scalars(
                select(OutboxMessage.message_id)
                .where(OutboxMessage.report_due_at < now - timedelta(seconds=late_by))
                .order_by(OutboxMessage.report_due_at)
                .limit(1000)
            )
        )
        if not ids:
            return moved
        moved += outbox_report(ids, now=now)
        limit -= len(ids)
        if limit <= 0:
            return moved


def outbox_reports_waiting() -> int:
    """How many simulated delivery reports are still due (« Supervision »)."""
    return (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.report_due_at.is_not(None))
        )
        or 0
    )


# Campaigns whose messages may still be waiting for a receipt: started within this long
# before the validity period ended (the sweep runs every minute; a month covers any stop).
AGE_OUT_LOOKBACK = timedelta(days=30)


def age_out(*, now: datetime | None = None) -> int:
    """« Sans accusé de réception »: submitted messages whose receipt has not come within
    the validity period (setting receipt_wait_hours, 48 h) end in a state of their own,
    not « Envoyé » for ever. Campaign by campaign, through the index of their states,
    so the sweep's cost does not grow with the history. Early receipts never matched in
    that time go too. Returns how many messages were aged out."""
    now = now or utcnow()
    hours = int(settings.get("receipt_wait_hours"))
    cutoff = now - timedelta(hours=hours)
    candidates = db.session.scalars(
        select(Campaign.id).where(
            Campaign.status.in_(("sending", "sent", "cancelled")),
            Campaign.started_at < cutoff,
            Campaign.started_at >= cutoff - AGE_OUT_LOOKBACK,
        )
    ).all()
    aged = 0
    for campaign_id in candidates:
        aged += _rowcount(
            update(Message)
            .where(
                Message.campaign_id == campaign_id,
                Message.state == "submitted",
                Message.submitted_at < cutoff,
            )
            .values(state="no_receipt", done_at=now, error=N_(NO_RECEIPT_ERROR, hours=hours))
            .execution_options(synchronize_session=False)
        )
    db.session.execute(delete(EarlyReceipt).where(EarlyReceipt.received_at < cutoff))
    db.session.commit()
    return aged

"""Delivery reports, whichever gateway brings them: one way to move a message on."""

import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Message, OutboxMessage, utcnow

FINAL_STATES = ("delivered", "failed", "expired")

# A failure that a corrected client card would avoid: the number itself is wrong (it does
# not exist, is invalid, is a landline or unknown to the operator). Anything else (the
# phone off, the operator's own trouble, « Abonné absent ») is no reason to fix the card.
# The gateways word their reasons in French (gateways/*); the SMPP names are kept too.
_NUMBER_FAILURE = re.compile(
    r"num[ée]ro[^.;]*\b(inexistant|invalide|inconnu|non attribu[ée]|fixe)"
    r"|abonn[ée] inconnu|ESME_RINVDSTADR|RINVDSTADR|ESME_RINVDSTTON|RINVDSTTON",
    re.IGNORECASE,
)


def is_number_failure(error):
    """Whether a failed message's reason says the number is wrong (see _NUMBER_FAILURE)."""
    return bool(error) and _NUMBER_FAILURE.search(error) is not None


@dataclass(frozen=True)
class Report:
    state: str  # submitted (reached the operator), delivered, failed or expired
    message_id: int | None = None  # our id, when the gateway echoes it (outbox, Kannel)
    ref: str | None = None  # the gateway's id, when it names messages its own way (SMPP)
    error: str = ""


def record(gateway_name, reports, *, now=None):
    """Apply reports; a message only moves forward, and only for the gateway that has it.
    Returns how many messages changed."""
    now = now or utcnow()
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
                changed += _apply(gateway_name, column, values[start : start + 1000], state,
                                  error, now)  # fmt: skip
    db.session.commit()
    return changed


def _apply(gateway_name, column, values, state, error, now):
    if not values:
        return 0
    statement = update(Message).where(column.in_(values), Message.gateway == gateway_name)
    if state == "submitted":
        statement = statement.where(Message.state == "submitting").values(
            state="submitted", submitted_at=func.coalesce(Message.submitted_at, now)
        )
    elif state in FINAL_STATES:
        statement = statement.where(Message.state.in_(("submitting", "submitted"))).values(
            state=state,
            error=error,
            done_at=now,
            submitted_at=func.coalesce(Message.submitted_at, now),
        )
    else:
        raise ValueError(f"unknown delivery state {state!r}")
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


def outbox_reports(message_ids):
    """What the simulated operator says about messages on the test phone."""
    from ..gateways.outbox import outcome

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

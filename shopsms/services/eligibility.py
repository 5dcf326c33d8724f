"""Who can receive which kind of SMS, and why not: the one rule.

A service message (a single SMS from the card, a repair notice, a workshop return, an
automatic send) needs a mobile number and a client who does not refuse every SMS. A
marketing SMS needs, besides, the client's marketing consent and a number not on the
opt-out list (a STOP). The reasons are checked in the order of RULES; a number already
given to an earlier client of the same sending is a « duplicate ».

Each reason is written once, in RULES, as its SQL condition and its Python test side by
side. The SQL form serves every query (the live count of a selection, the freeze of a
recipient list, the send-time check, the repair lists); the Python form serves one row
at a time (a single SMS, a repair notice, a row restored by hand). The Python test
follows SQL's reading of NULL (no client: no consent to lack, nothing refused), and
tests/services/test_eligibility.py checks on generated clients that both forms give the
same reason. The « pression marketing » cap, which reads the client's past SMS, is
applied after this rule (services/campaigns).
"""

from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import Case, Over

from ..extensions import db
from ..models import Client, OptOut

MARKETING = "marketing"
S = TypeVar("S", bound=Select)
DUPLICATE = "duplicate"


class Columns(NamedTuple):
    """The SQL columns the rule reads: the client's, the number the SMS goes to, and the
    id of that number's opt-out entry (outer-joined: see join_optouts)."""

    refuses_all: Any = Client.sms_refuses_all
    phone: Any = Client.sms_number
    consent: Any = Client.sms_consent
    optout: Any = OptOut.id


CLIENT = Columns()  # a query on clients, their SMS number's opt-out outer-joined


class Facts(NamedTuple):
    """The same facts in Python: None where SQL would read NULL (no client)."""

    refuses_all: bool | None
    phone: str | None
    consent: str | None
    opted_out: bool


@dataclass(frozen=True)
class Rule:
    reason: str
    marketing_only: bool
    sql: Callable[[Columns], ColumnElement]
    test: Callable[[Facts], bool]


RULES = (
    Rule("refuses_all", False, lambda c: c.refuses_all.is_(True), lambda f: f.refuses_all is True),
    Rule("no_mobile", False, lambda c: or_(c.phone.is_(None), c.phone == ""),
         lambda f: not f.phone),
    Rule("no_consent", True, lambda c: c.consent != "accepted",
         lambda f: f.consent is not None and f.consent != "accepted"),
    Rule("optout", True, lambda c: c.optout.is_not(None), lambda f: f.opted_out),
)  # fmt: skip
# Why a found client gets no marketing SMS, in the order they are checked.
REASONS = tuple(rule.reason for rule in RULES)
# A row skipped for one of these may go once its number is corrected by hand.
NUMBER_REASONS = ("no_mobile", "optout", DUPLICATE)
EXCLUSIONS = (*REASONS, DUPLICATE)


def is_marketing(kind: str) -> bool:
    return kind == MARKETING


def rules(kind: str) -> list[Rule]:
    marketing = is_marketing(kind)
    return [rule for rule in RULES if marketing or not rule.marketing_only]


def reasons(kind: str) -> tuple[str, ...]:
    """Why a client gets no SMS of this kind, in the order checked (before duplicates)."""
    return tuple(rule.reason for rule in rules(kind))


# --- SQL -------------------------------------------------------------------------------


def conditions(kind: str, columns: Columns = CLIENT) -> list[tuple[str, ColumnElement]]:
    """[(reason, SQL condition)] for a sending of this kind, in the order checked."""
    return [(rule.reason, rule.sql(columns)) for rule in rules(kind)]


def reason_case(kind: str, columns: Columns = CLIENT, *, else_: str | None = None) -> Case:
    """CASE giving the first reason that applies, else `else_` (a marketing query needs
    join_optouts)."""
    return case(*((cond, reason) for reason, cond in conditions(kind, columns)), else_=else_)


def reachable(kind: str, columns: Columns = CLIENT) -> ColumnElement[bool]:
    """The condition of a client (row) who can receive this kind of SMS (before
    duplicates)."""
    return and_(*(not_(cond) for _reason, cond in conditions(kind, columns)))


def join_optouts(query: S, phone: Any = Client.sms_number) -> S:
    """`query` outer-joined to the opt-out entry of `phone` (Columns.optout)."""
    return query.outerjoin(OptOut, OptOut.phone == phone)


def duplicate_rank(
    ok: ColumnElement[bool], phone: Any = Client.sms_number, order_by: Any = Client.id
) -> Over:
    """Rank of a row among the rows `ok` (reachable) with the same number: above 1, the
    number went to an earlier row (by `order_by`) and this one is a DUPLICATE."""
    return func.row_number().over(partition_by=(case((ok, 1), else_=0), phone), order_by=order_by)


# --- Python ----------------------------------------------------------------------------


def reason(kind: str, facts: Facts) -> str | None:
    """The first reason that applies to these Facts, or None."""
    for rule in rules(kind):
        if rule.test(facts):
            return rule.reason
    return None


def skip_reason(kind: str, client: Any, phone: str | None, opted_out: Container[str]) -> str | None:
    """Why `client` (a row with the client's columns, or None for a bare number) gets no
    message of this kind at `phone`, or None. `opted_out`: the opted-out numbers among
    those looked at (opted_out_numbers)."""
    facts = Facts(
        refuses_all=bool(client.sms_refuses_all) if client is not None else None,
        phone=phone,
        consent=client.sms_consent if client is not None else None,
        opted_out=bool(phone) and phone in opted_out,
    )
    return reason(kind, facts)


def opted_out_numbers(phones: Iterable[str | None]) -> set[str]:
    """The numbers of `phones` on the opt-out list (a STOP), 5,000 per query."""
    found: set[str] = set()
    numbers = [p for p in phones if p]
    for start in range(0, len(numbers), 5000):
        chunk = numbers[start : start + 5000]
        found.update(db.session.scalars(select(OptOut.phone).where(OptOut.phone.in_(chunk))))
    return found

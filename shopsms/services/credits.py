"""The « Crédits SMS » ledger: the balance is always the sum of its lines.

A campaign reserves its exact cost when it is queued or scheduled, is charged the
parts actually submitted when it ends, and gets the rest back. The reservation is
one conditional INSERT, serialised on PostgreSQL by an advisory lock (SQLite runs
one writer at a time), so two campaigns racing for the last credits can never take
the balance below zero.
"""

from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import quote, urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, case, func, insert, literal, select, text, update

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Campaign, CreditEntry, Message, Store, utcnow
from ..plurals import lazy_ngettext
from ..sms import hours
from . import audit, settings

# Any constant shared by every process of the deployment: it names the ledger's lock.
_LEDGER_LOCK = 734_501


class NotEnoughCredits(Exception):
    def __init__(self, needed: int, available: int) -> None:
        self.needed, self.available = needed, available
        super().__init__(
            lazy_ngettext(
                "Crédits insuffisants : cet envoi coûte %(num)d crédit et il en reste "
                "%(available)d. Rechargez le compte ou réduisez la sélection.",
                "Crédits insuffisants : cet envoi coûte %(num)d crédits et il en reste "
                "%(available)d. Rechargez le compte ou réduisez la sélection.",
                needed,
                available=available,
            )
        )


def balance() -> int:
    """Credits left for the chain (one deployment serves one chain)."""
    return db.session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0))) or 0


def _lock_ledger() -> None:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LEDGER_LOCK})


def reserve(
    campaign_id: int, amount: int, *, store_id: int | None = None, user_id: int | None = None
) -> None:
    """Take `amount` credits for a campaign, or raise NotEnoughCredits. Does not commit:
    the caller commits the reservation with the campaign's change of state."""
    if amount <= 0:
        return
    _lock_ledger()
    current = select(func.coalesce(func.sum(CreditEntry.amount), 0)).scalar_subquery()
    values = select(
        literal("reservation"),
        literal(-amount),
        literal(campaign_id),
        literal(store_id),
        literal(user_id),
        literal(""),
        literal(utcnow()),
    ).where(current >= amount)
    columns = ["kind", "amount", "campaign_id", "store_id", "user_id", "reference", "created_at"]
    # RETURNING says plainly whether the row went in (rowcount does not, with psycopg).
    statement = insert(CreditEntry).from_select(columns, values).returning(CreditEntry.id)
    if db.session.execute(statement).first() is None:
        raise NotEnoughCredits(amount, balance())


def _held(campaign_id: int) -> int:
    """Credits the campaign holds: its reservations less what was released."""
    return -(
        db.session.scalar(
            select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
                CreditEntry.campaign_id == campaign_id,
                CreditEntry.kind.in_(("reservation", "release")),
            )
        )
        or 0
    )


def release(campaign_id: int, *, store_id: int | None = None, user_id: int | None = None) -> int:
    """Give back everything the campaign holds (« Annuler la programmation »), as a
    "release" line. The caller holds the ledger's lock and has moved the campaign out
    of "scheduled" in the same transaction, so this happens once. Does not commit."""
    held = _held(campaign_id)
    if held > 0:
        db.session.add(
            CreditEntry(
                kind="release",
                amount=held,
                campaign_id=campaign_id,
                store_id=store_id,
                user_id=user_id,
                reference="Programmation annulée",
            )
        )
    return held


def settle(campaign_id: int) -> None:
    """Charge the parts submitted and refund the rest of the reservation, once."""
    # An UPDATE's result is a CursorResult (rowcount); Session.execute is typed as Result.
    claimed = cast(
        CursorResult,
        db.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.settled_at.is_(None))
            .values(settled_at=utcnow())
        ),
    )
    if claimed.rowcount != 1:
        return  # another worker settled it
    campaign = db.session.get_one(Campaign, campaign_id)  # the UPDATE above found it
    reserved = _held(campaign_id)
    charged = (
        db.session.scalar(
            select(func.coalesce(func.sum(Message.parts), 0)).where(
                Message.campaign_id == campaign_id, Message.submitted_at.is_not(None)
            )
        )
        or 0
    )
    # A charge stands for parts already taken by the reservation: it moves no credit.
    db.session.add(
        CreditEntry(
            kind="charge",
            amount=0,
            parts=charged,
            campaign_id=campaign_id,
            store_id=campaign.store_id,
        )
    )
    if reserved > charged:
        db.session.add(
            CreditEntry(
                kind="refund",
                amount=reserved - charged,
                campaign_id=campaign_id,
                store_id=campaign.store_id,
            )
        )


def top_up(amount: int, *, reference: str = "", user: Person | None = None) -> CreditEntry:
    if amount <= 0:
        raise ValueError(_l("Le montant d'une recharge doit être positif."))
    entry = CreditEntry(kind="topup", amount=amount, reference=reference, user_id=user and user.id)
    db.session.add(entry)
    audit.record("credits.topup", user=user, amount=amount, reference=reference)
    db.session.commit()
    return entry


# --- what the « Crédits SMS » page shows beyond the ledger --------------------------------


def _month_starts(now: datetime, months: int) -> tuple[list[str], list[datetime]]:
    """The first instants (naive UTC) of the last `months` Paris months and of the next
    one, oldest first, with their labels ("2026-01")."""
    local = now.replace(tzinfo=UTC).astimezone(hours.PARIS)
    year, month = local.year, local.month
    starts = []
    for _ in range(months + 1):
        starts.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    starts.reverse()
    starts = starts[1:] + [(local.year + (local.month == 12), local.month % 12 + 1)]
    bounds = [
        datetime(y, m, 1, tzinfo=hours.PARIS).astimezone(UTC).replace(tzinfo=None)
        for y, m in starts
    ]
    labels = [f"{y:04d}-{m:02d}" for y, m in starts[:-1]]
    return labels, bounds


def monthly_consumption(
    user: Person, *, months: int = 12, now: datetime | None = None
) -> dict[str, Any]:
    """Credits spent per month and per store over the last `months` Paris months, oldest
    first: {"months": ["2026-01", …], "stores": [(name, [parts per month])], "max": n}.
    Summed by the database: the month of each line is a CASE over the months' first
    instants, the same SQL on SQLite and PostgreSQL."""
    labels, bounds = _month_starts(now or utcnow(), months)
    month = case(
        *((CreditEntry.created_at < bounds[i + 1], i) for i in range(len(labels))),
        else_=None,
    )
    query = (
        select(Store.name, month.label("month"), func.sum(CreditEntry.parts))
        .outerjoin(Store, Store.id == CreditEntry.store_id)
        .where(
            CreditEntry.kind == "charge",
            CreditEntry.created_at >= bounds[0],
            CreditEntry.created_at < bounds[-1],
        )
        .group_by(Store.name, month)
    )
    totals: dict[str, list[int]] = {}
    for store_name, index, parts in db.session.execute(
        access.scoped(query, CreditEntry.store_id, user)
    ):
        if index is None:
            continue
        per_store = totals.setdefault(store_name or str(_l("Siège")), [0] * len(labels))
        per_store[index] += parts or 0
    stores = sorted(totals.items())
    top = max((sum(values[i] for _, values in stores) for i in range(len(labels))), default=0)
    return {"months": labels, "stores": stores, "max": top}


def low_balance(left: int | None = None) -> tuple[int, int] | None:
    """(balance, threshold) once the balance has reached the alert threshold, else None.
    The threshold comes with the page's other settings (one read per request)."""
    threshold = int(settings.page_values()["low_credit_threshold"] or 0)
    if threshold <= 0:
        return None
    left = balance() if left is None else left
    return (left, threshold) if left <= threshold else None


MAX_TOP_UP = 10_000_000


def parse_amount(raw: str | None) -> int | None:
    """A whole, positive number of credits as typed ("5 000"), else None."""
    try:
        amount = int((raw or "").replace(" ", "").replace("\u202f", "").strip())
    except ValueError:
        return None
    return amount if amount > 0 else None


def validate_top_up(
    raw_amount: str | None, reference: str | None
) -> tuple[int | None, dict[str, str]]:
    """(amount, {field: what is wrong}) for what head office typed; the screen words the
    problems: "invalid", "too_high", "missing", "too_long"."""
    errors = {}
    amount = parse_amount(raw_amount)
    if amount is None:
        errors["amount"] = "invalid"
    elif amount > MAX_TOP_UP:
        errors["amount"] = "too_high"
    if not reference:
        errors["reference"] = "missing"
    elif len(reference) > 120:
        errors["reference"] = "too_long"
    return amount, errors


def topup_request_mailto(
    *, email: str, store_name: str, left: int, requested: int | None = None, who: str = ""
) -> str:
    """« Demander une recharge »: the seed's "faites la demande en envoyant un mail",
    prepared: a mailto: link with the subject and body written for the person."""
    subject = f"Recharge de crédits SMS — {store_name}"
    lines = [
        "Bonjour,",
        "",
        f"Le magasin {store_name} demande une recharge du compte SMS.",
        f"Solde actuel : {left} crédits.",
    ]
    if requested:
        lines.append(f"Recharge souhaitée : {requested} crédits.")
    lines += ["", "Merci,", who]
    query = urlencode({"subject": subject, "body": "\n".join(lines).rstrip()}, quote_via=quote)
    return f"mailto:{quote(email, safe='@')}?{query}"

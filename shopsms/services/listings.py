"""What the areas' first pages list, scoped to what the person's role lets them see.

Each list is one SELECT: the rows of the page, what they show of other tables (joins
or correlated counts on indexed columns), and the total number of matches through a
window function, so that no list costs a query per row or a second COUNT query.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    ScalarSelect,
    Select,
    and_,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased

from .. import access
from ..access import Person
from ..extensions import db
from ..models import (
    CAMPAIGN_STATUSES,
    Campaign,
    CampaignCount,
    CreditEntry,
    Store,
    User,
)
from ..sms import hours

PER_PAGE = 50


@dataclass(frozen=True)
class Page:
    rows: Sequence[Any]
    number: int  # 1-based
    per_page: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(query: Select, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Run `query` (an ordered select) for one page, with the total, in one query."""
    page = max(1, page)
    counted = query.add_columns(func.count().over().label("total_matches"))
    rows = db.session.execute(counted.limit(per_page).offset((page - 1) * per_page)).all()
    if rows:
        total = rows[0].total_matches
    elif page > 1:  # past the end of a list that shrank: say how many there are
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    else:
        total = 0
    return Page(rows=rows, number=page, per_page=per_page, total=total)


def page_number(value: str | int | None) -> int:
    """The ?page= argument: a positive integer, 1 when absent or mistyped."""
    try:
        return max(1, min(int(value or 1), 100_000))
    except ValueError:
        return 1


def place(value: str | int | None) -> int | None:
    """A place in a list's order (« depuis », « avant »): a positive integer, None when
    absent or mistyped."""
    try:
        number = int(value or 0)
    except ValueError:
        return None
    return number if 0 < number <= 2**31 - 1 else None


def paris(moment_utc: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A naive UTC datetime from the database, written in Europe/Paris time."""
    if moment_utc is None:
        return ""
    return moment_utc.replace(tzinfo=UTC).astimezone(hours.PARIS).strftime(fmt)


def _count(
    campaign: type[Campaign], *states: str, column: InstrumentedAttribute[int] | None = None
) -> ScalarSelect[int]:
    """Rows of the campaign (messages, or its recipient list not sent yet) in these
    states, from the counts the database keeps (CampaignCount): a few index rows per
    campaign, evaluated inside the list's query, whatever the campaign's size."""
    column = CampaignCount.messages if column is None else column
    return (
        select(cast(func.coalesce(func.sum(column), 0), BigInteger))  # not numeric
        .where(CampaignCount.campaign_id == campaign.id, CampaignCount.state.in_(states))
        .scalar_subquery()
    )


# The states whose parts were handed to a gateway: what the campaign was charged.
CHARGED_STATES = ("submitting", "submitted", "delivered", "failed", "expired", "no_receipt")


def _campaign_columns() -> tuple[type[User], tuple[Any, ...]]:
    author = aliased(User)
    columns = (
        Campaign,
        Store.name.label("store_name"),
        func.coalesce(func.nullif(author.full_name, ""), author.username).label("author"),
        _count(Campaign, "pending", "submitting").label("pending"),
        _count(Campaign, "submitted").label("submitted"),
        _count(Campaign, "delivered").label("delivered"),
        _count(Campaign, "failed").label("failed"),
        _count(Campaign, "expired").label("expired"),
        _count(Campaign, "skipped").label("skipped"),
        _count(Campaign, "no_receipt").label("no_receipt"),
        _count(Campaign, *CHARGED_STATES, column=CampaignCount.parts).label("credits"),
    )
    return author, columns


# --- Campagnes --------------------------------------------------------------------------

CAMPAIGN_STATUS_FILTERS = CAMPAIGN_STATUSES  # every status is a filter of the list
ACTIVE_STATUSES = ("preparing", "queued", "sending")


def campaigns(user: Person, *, status: str = "", page: int = 1, per_page: int = 25) -> Page:
    author, columns = _campaign_columns()
    query = (
        select(*columns)
        .outerjoin(Store, Store.id == Campaign.store_id)
        .outerjoin(author, author.id == Campaign.created_by_id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )
    if status in CAMPAIGN_STATUS_FILTERS:
        query = query.where(Campaign.status == status)
    return paginate(access.scoped(query, Campaign.store_id, user), page, per_page)


def done_share(row: Row) -> tuple[int, int]:
    """(messages handed to the gateway or finished, messages meant to go out)."""
    done = row.submitted + row.delivered + row.failed + row.expired + row.no_receipt
    return done, max(0, row.Campaign.recipients_count - row.skipped)


# --- Rapports d'envoi non traités --------------------------------------------------------


def finished() -> ColumnElement[bool]:
    """The one meaning of « terminé » for a report: the sending was sent out or cancelled
    (both set finished_at). Only a finished report may be closed."""
    return Campaign.finished_at.is_not(None)


def is_finished(campaign: Campaign) -> bool:
    return campaign.finished_at is not None


def open_reports(user: Person, *, page: int = 1, per_page: int = 25) -> Page:
    author, columns = _campaign_columns()
    query = (
        select(*columns)
        .outerjoin(Store, Store.id == Campaign.store_id)
        .outerjoin(author, author.id == Campaign.created_by_id)
        .where(finished(), Campaign.closed_at.is_(None))
        .order_by(Campaign.finished_at.desc(), Campaign.id.desc())
    )
    return paginate(access.scoped(query, Campaign.store_id, user), page, per_page)


@dataclass(frozen=True)
class ReportCriteria:
    """The search among closed reports: finished between two Paris days, a store, a kind."""

    date_from: date | None = None
    date_to: date | None = None
    store_id: int | None = None
    kind: str = ""


def _paris_midnight_utc(day: date) -> datetime:
    moment = datetime.combine(day, time()).replace(tzinfo=hours.PARIS)
    return moment.astimezone(UTC).replace(tzinfo=None)


def closed_reports(
    user: Person, criteria: ReportCriteria, *, page: int = 1, per_page: int = 25
) -> Page:
    author, columns = _campaign_columns()
    query = (
        select(*columns)
        .outerjoin(Store, Store.id == Campaign.store_id)
        .outerjoin(author, author.id == Campaign.created_by_id)
        .where(Campaign.closed_at.is_not(None))
        .order_by(Campaign.finished_at.desc(), Campaign.id.desc())
    )
    if criteria.date_from:
        query = query.where(Campaign.finished_at >= _paris_midnight_utc(criteria.date_from))
    if criteria.date_to:
        end = _paris_midnight_utc(criteria.date_to + timedelta(days=1))
        query = query.where(Campaign.finished_at < end)
    if access.requested_store(user, criteria.store_id):
        query = query.where(Campaign.store_id == criteria.store_id)
    if criteria.kind:
        query = query.where(Campaign.kind == criteria.kind)
    return paginate(access.scoped(query, Campaign.store_id, user), page, per_page)


# --- Crédits SMS -------------------------------------------------------------------------


def ledger(user: Person, *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Newest first. A store sees its own lines and the chain's top-ups, never another
    store's nor head office's own sendings; head office sees every line."""
    query = (
        select(
            CreditEntry,
            Campaign.name.label("campaign_name"),
            Campaign.kind.label("campaign_kind"),
            Store.name.label("store_name"),
        )
        .outerjoin(Campaign, Campaign.id == CreditEntry.campaign_id)
        .outerjoin(Store, Store.id == CreditEntry.store_id)
        .order_by(CreditEntry.created_at.desc(), CreditEntry.id.desc())
    )
    if not access.every_store(user):
        query = query.where(or_(CreditEntry.store_id == user.store_id, CreditEntry.kind == "topup"))
    return paginate(query, page, per_page)


# --- Paramètres: the stores a person may see ----------------------------------------------


def stores(user: Person) -> list[Store]:
    return list(
        db.session.scalars(access.scoped(select(Store).order_by(Store.code), Store.id, user))
    )


# --- shared ---------------------------------------------------------------------------------


def bump(text: str) -> str:
    """The smallest string above every string that starts with `text`."""
    return text[:-1] + chr(ord(text[-1]) + 1)


def prefix(
    column: InstrumentedAttribute[str], text: str, *, cases: bool = True
) -> ColumnElement[bool]:
    """`column` starts with `text`, as btree range scans (`>= 'Dup' AND < 'Duq'`), which
    SQLite and PostgreSQL both serve from an index whatever the collation, unlike LIKE.
    Client files hold names in capitals or in proper case: both are tried, and as typed."""
    variants = {text}
    if cases:
        variants |= {text.upper(), text.capitalize(), text.lower()}
    return or_(*(and_(column >= v, column < bump(v)) for v in sorted(variants) if v))

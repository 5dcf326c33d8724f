"""« Rapports d'envoi »: what became of each recipient of a sending, and closing it.

A report is a campaign seen after the fact. Managers and head office close
(« clôturer ») finished reports once read; closing one whose failures come from the
client cards can leave « fiches à corriger » (services/followups.py). The exports are in
services/report_export.py.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Row, Select, func, select, union_all, update
from sqlalchemy.orm import aliased

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Campaign, CampaignCount, Client, DraftRecipient, Message, Store, utcnow
from . import audit, listings, skip_reasons
from .pressure import PRESSURE, pressure_text
from .skip_reasons import N_

# The filters of a report's detail: what a manager asks ("who did not get it?").
STATE_GROUPS = {
    "delivered": ("delivered",),
    "failed": ("failed", "expired"),
    "pending": ("pending", "submitting", "submitted"),
    "skipped": ("skipped",),
    "no_receipt": ("no_receipt",),
}


# Why a recipient was not sent to (the operator's own reasons for failures arrive in
# French from the gateways and are shown as they are).
SKIP_REASON_LABELS = skip_reasons.LABELS

STATE_TEXT = {
    "pending": N_("En attente"),
    "submitting": N_("En cours d'envoi"),
    "submitted": N_("Envoyé"),
    "delivered": N_("Délivré"),
    "failed": N_("Échec"),
    "expired": N_("Expiré"),
    "skipped": N_("Non envoyé"),
    "no_receipt": N_("Sans accusé de réception"),
}

is_finished = listings.is_finished
# Where a report's rows are: its messages, or its recipient list read under that name.
ReportTable: TypeAlias = type[Message] | type[DraftRecipient]


class ReportError(ValueError):
    pass


def visible(user: Person, campaign_id: int) -> Row | None:
    """The report's row (campaign and its counts) if this person may read it, else None."""
    author, columns = listings._campaign_columns()
    query = (
        select(*columns)
        .outerjoin(Store, Store.id == Campaign.store_id)
        .outerjoin(author, author.id == Campaign.created_by_id)
        .where(Campaign.id == campaign_id, Campaign.status != "draft")
    )
    return db.session.execute(access.scoped(query, Campaign.store_id, user)).first()


def counts(row: Row) -> dict[str, int]:
    """The figures a manager reads, from a report row."""
    return {
        "delivered": row.delivered,
        "failed": row.failed + row.expired,
        "pending": row.pending + row.submitted,
        "skipped": row.skipped,
        "no_receipt": row.no_receipt,
    }


def rows_count(row: Row, state: str = "") -> int:
    """How many rows the report (or one of its filters) has, from a report row."""
    if state in STATE_GROUPS:
        return counts(row)[state]
    return sum(counts(row).values())


def delivery_rate(row: Row) -> int | None:
    """Delivered among the SMS that went out, in %; None when none went out."""
    sent = row.Campaign.recipients_count - row.skipped
    return round(100 * row.delivered / sent) if sent > 0 else None


# What went out to the operator, whatever came of it.
SENT_STATES = ("submitted", "delivered", "failed", "expired", "no_receipt")


@dataclass(frozen=True)
class VariantFigures:
    """One text of an A/B campaign, in its report: its recipients (not skipped), the SMS
    sent and delivered, and the credits their parts cost."""

    variant: str
    recipients: int
    sent: int
    delivered: int
    failed: int
    credits: int

    @property
    def rate(self) -> int | None:
        return round(100 * self.delivered / self.sent) if self.sent else None


def variant_figures(campaign_id: int) -> list[VariantFigures]:
    """[A, B] for an A/B campaign (else []), from the counts the database keeps per
    variant (CampaignCount): a few rows, whatever the campaign's size."""
    rows = db.session.execute(
        select(
            CampaignCount.variant,
            CampaignCount.state,
            func.sum(CampaignCount.messages),
            func.sum(CampaignCount.parts),
        )
        .where(CampaignCount.campaign_id == campaign_id, CampaignCount.variant != "")
        .group_by(CampaignCount.variant, CampaignCount.state)
    ).all()
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for variant, state, messages, parts in rows:
        found.setdefault(variant, {})[state] = (int(messages or 0), int(parts or 0))
    figures = []
    for variant in sorted(found):
        states = found[variant]

        def total(
            names: Iterable[str], index: int = 0, states: Mapping[str, tuple[int, int]] = states
        ) -> int:
            return sum(states.get(name, (0, 0))[index] for name in names)

        figures.append(
            VariantFigures(
                variant=variant,
                recipients=total([s for s in states if s != "skipped"]),
                sent=total(SENT_STATES),
                delivered=total(("delivered",)),
                failed=total(("failed", "expired")),
                credits=total(SENT_STATES, 1),
            )
        )
    return figures


# A campaign still holds its recipient list (not messages) until a worker starts it or it
# is cancelled; both change its status in the transaction that moves the list.
LISTED_STATUSES = ("draft", "scheduled", "queued")


def report_table(campaign_id: int) -> ReportTable:
    """Message, or, for a campaign scheduled or queued and not started yet, its recipient
    list under the same name, so that the page and the exports show who will get the
    SMS. The list is probed only then: once moved, its rows leave dead index entries
    behind (until PostgreSQL's vacuum) that a probe would have to walk."""
    status = db.session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
    if status in LISTED_STATUSES:
        listed = select(DraftRecipient.id).where(DraftRecipient.campaign_id == campaign_id)
        if db.session.scalar(listed.limit(1)) is not None:
            return aliased(DraftRecipient, name="Message")
    return Message


def messages_query(
    campaign_id: int, state: str = "", *, table: ReportTable | None = None
) -> Select:
    """The report's rows, in list order, with their clients' names."""
    table = report_table(campaign_id) if table is None else table
    query = (
        select(
            table,
            Client.number.label("client_number"),
            Client.civility,
            Client.first_name,
            Client.last_name,
        )
        .outerjoin(Client, Client.id == table.client_id)
        .where(table.campaign_id == campaign_id)
        .order_by(table.id)
    )
    if state in STATE_GROUPS:
        query = query.where(table.state.in_(STATE_GROUPS[state]))
    return query


@dataclass(frozen=True)
class KeysetPage:
    """One page of a report's detail, found from the id it starts after (or ends before),
    so that page 1,000 costs what page 1 costs; the total comes from the kept counts."""

    rows: Sequence[Row]
    number: int  # 1-based, as carried by the links (the page a person reached)
    per_page: int
    total: int
    next_after: int | None  # the « Suivant » link's id, when there is a next page
    previous_before: int | None  # the « Précédent » link's id, when there is one

    @property
    def has_previous(self) -> bool:
        return self.previous_before is not None

    @property
    def has_next(self) -> bool:
        return self.next_after is not None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _page_ids(
    table: ReportTable,
    campaign_id: int,
    states: Iterable[str],
    *,
    after: int | None,
    before: int | None,
    limit: int,
) -> list[int]:
    """The ids of a page: per state, the `limit` next ids from the campaign's
    (campaign_id, state, id) index, merged: a few index probes per page, whatever the
    filter and however deep the page, and no index more on messages."""
    backwards = before is not None
    branches = []
    for state in states:
        query = select(table.id.label("id")).where(
            table.campaign_id == campaign_id, table.state == state
        )
        if backwards:
            query = query.where(table.id < before).order_by(table.id.desc())
        else:
            if after is not None:
                query = query.where(table.id > after)
            query = query.order_by(table.id)
        branches.append(select(query.limit(limit).subquery()))
    merged = union_all(*branches).subquery()
    order = merged.c.id.desc() if backwards else merged.c.id
    ids = list(db.session.scalars(select(merged.c.id).order_by(order).limit(limit)))
    return sorted(ids)


def messages(
    campaign_id: int,
    *,
    state: str = "",
    total: int | None = None,
    number: int = 1,
    after: int | None = None,
    before: int | None = None,
    per_page: int = listings.PER_PAGE,
) -> KeysetPage:
    """A page of the report's rows in list order, by keyset: after the id `after`, or
    before the id `before` (« Précédent »), else the first page."""
    table = report_table(campaign_id)
    states: Sequence[str]
    if state in STATE_GROUPS:
        states = STATE_GROUPS[state]
    else:  # every state the campaign has rows in, new ones included
        states = sorted(
            set(
                db.session.scalars(
                    select(CampaignCount.state)
                    .where(CampaignCount.campaign_id == campaign_id)
                    .group_by(CampaignCount.state)
                    .having(func.sum(CampaignCount.messages) > 0)
                )
            )
        )
    if total is None:  # the kept counts of those states
        total = db.session.scalar(
            select(func.coalesce(func.sum(CampaignCount.messages), 0)).where(
                CampaignCount.campaign_id == campaign_id, CampaignCount.state.in_(states)
            )
        )
    ids = _page_ids(table, campaign_id, states, after=after, before=before, limit=per_page + 1)
    if before is not None:
        more_before = len(ids) > per_page
        ids = ids[-per_page:] if more_before else ids
        more_after = True
    else:
        more_after = len(ids) > per_page
        ids = ids[:per_page]
        more_before = after is not None
    rows: Sequence[Row] = []
    if ids:
        rows = db.session.execute(
            messages_query(campaign_id, state, table=table).where(table.id.in_(ids))
        ).all()
    if not rows:  # a page past the end (a list that shrank): start again
        more_before = more_after = False
    number = 1 if not more_before else max(2, number)
    return KeysetPage(
        rows=rows,
        number=number,
        per_page=per_page,
        total=int(total or 0),  # the kept counts' sum: never None (coalesce)
        next_after=ids[-1] if more_after and ids else None,
        previous_before=ids[0] if more_before and ids else None,
    )


def reason(message: Message | DraftRecipient | Row) -> str:
    """Why a message did not arrive, in French: the operator's words or the skip's."""
    if message.state == "skipped":
        if message.skip_reason.startswith(PRESSURE + ":"):
            return pressure_text(message.skip_reason, capital=True)
        return SKIP_REASON_LABELS.get(message.skip_reason, message.skip_reason)
    return message.error or ""


# --- closing ------------------------------------------------------------------------------


def close(user: Person, campaign_id: int) -> bool:
    """« Clôturer le rapport N »: managers and head office, finished sendings only.
    Returns False when the report was already closed (by someone else, or twice)."""
    row = visible(user, campaign_id)
    if row is None:
        raise ReportError(_l("Ce rapport n'existe pas."))
    campaign = row.Campaign
    if not is_finished(campaign):
        raise ReportError(
            _l("Cet envoi n'est pas terminé : son rapport ne peut pas encore être clôturé.")
        )
    # One conditional UPDATE: of two people closing at once, only one closes it. (An
    # UPDATE's result is a CursorResult: Session.execute is only typed Result.)
    closed = cast(
        CursorResult,
        db.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.closed_at.is_(None))
            .values(closed_at=utcnow(), closed_by_id=user.id)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if closed != 1:
        db.session.rollback()
        return False
    audit.record("report.close", user=user, store_id=campaign.store_id, obj=campaign)
    db.session.commit()
    return True


def close_all(user: Person) -> int:
    """« Tout clôturer »: every finished, open report this person sees. Returns how many."""
    query = select(Campaign.id).where(listings.finished(), Campaign.closed_at.is_(None))
    ids = list(db.session.scalars(access.scoped(query, Campaign.store_id, user)))
    if not ids:
        return 0
    now = utcnow()
    closed = 0
    for start in range(0, len(ids), 1000):
        closed += cast(
            CursorResult,
            db.session.execute(
                update(Campaign)
                .where(Campaign.id.in_(ids[start : start + 1000]), Campaign.closed_at.is_(None))
                .values(closed_at=now, closed_by_id=user.id)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
    store_id = access.store_scope(user)
    audit.record("report.close_all", user=user, store_id=store_id, count=closed)
    db.session.commit()
    return closed

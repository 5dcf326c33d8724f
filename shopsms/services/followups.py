"""« Fiches à corriger »: the client cards a closed report says are wrong.

Only a card that a correction would fix gives a task: no mobile number on it (a
landline, an invalid or empty number) or a number the operator says is wrong
(delivery.is_number_failure). A client absent or a phone off is not the card's fault.
A card with a task still open is not listed again, whichever report finds it.
"""

from collections.abc import Iterator, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Campaign, Client, Message, Store, utcnow
from ..models.followup import FollowupTask
from ..sms.said import N_, readable
from . import audit, listings
from .delivery import is_number_failure
from .reports import ReportError, visible

# A task's reason, kept as its French words (formats.said reads them again).
NO_MOBILE = N_("Pas de numéro de portable : fixe, invalide ou vide")
FAILED = N_("Échec : %(error)s")
readable(NO_MOBILE, FAILED)


def _candidates_query(
    campaign_id: int,
) -> Select[int | None, str, str, int, str, str]:
    return (
        select(
            Message.client_id,
            Message.state,
            Message.error,
            Client.store_id,
            Client.tel1,
            Client.tel2,
        )
        .join(Client, Client.id == Message.client_id)
        .where(
            Message.campaign_id == campaign_id,
            or_(
                and_(Message.state == "skipped", Message.skip_reason == "no_mobile"),
                Message.state == "failed",
            ),
        )
        .order_by(Message.id)
    )


def _correctable_rows(campaign_id: int) -> Iterator[Row[int | None, str, str, int, str, str]]:
    """One row per card to correct, in the report's order (failures read by their reason)."""
    seen = set()
    for row in db.session.execute(_candidates_query(campaign_id)):
        if row.client_id in seen:
            continue
        if row.state == "failed" and not is_number_failure(row.error):
            continue
        seen.add(row.client_id)
        yield row


def correctable(campaign_id: int) -> dict[int, int]:
    """{store_id: number of cards to correct} for the closing dialog."""
    result: dict[int, int] = {}
    for row in _correctable_rows(campaign_id):
        result[row.store_id] = result.get(row.store_id, 0) + 1
    return result


def _open_task_clients(client_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(client_ids), 1000):
        found.update(
            db.session.scalars(
                select(FollowupTask.client_id).where(
                    FollowupTask.client_id.in_(client_ids[start : start + 1000]),
                    FollowupTask.done_at.is_(None),
                )
            )
        )
    return found


def create_followups(user: Person, campaign_id: int) -> int:
    """Add the « fiches à corriger » of a report; a card already listed by this report, or
    still open from another one, is not added again. Returns how many tasks were added."""
    if visible(user, campaign_id) is None:
        raise ReportError(_l("Ce rapport n'existe pas."))
    rows = list(_correctable_rows(campaign_id))
    ids = [row.client_id for row in rows]
    skip = _open_task_clients(ids)
    skip.update(
        db.session.scalars(
            select(FollowupTask.client_id).where(FollowupTask.campaign_id == campaign_id)
        )
    )
    added = 0
    for row in rows:
        if row.client_id in skip:
            continue
        why = NO_MOBILE if row.state == "skipped" else N_(FAILED, error=row.error)
        phone = " / ".join(p for p in (row.tel1, row.tel2) if p)
        db.session.add(
            FollowupTask(
                store_id=row.store_id,
                client_id=row.client_id,
                campaign_id=campaign_id,
                phone=phone[:30],
                reason=why[:200],
                created_by_id=user.id,
            )
        )
        added += 1
    if added:
        audit.record("followup.create", user=user, campaign_id=campaign_id, count=added)
    try:
        db.session.commit()
    except IntegrityError:  # the same report closed twice at once: the other one added them
        db.session.rollback()
        return 0
    return added


def followups(
    user: Person,
    *,
    store_id: int | None = None,
    done: bool = False,
    page: int = 1,
    per_page: int = listings.PER_PAGE,
) -> listings.Page:
    query = (
        select(
            FollowupTask,
            Client.number.label("client_number"),
            Client.first_name,
            Client.last_name,
            Store.name.label("store_name"),
            Campaign.name.label("campaign_name"),
            Campaign.created_at.label("campaign_created_at"),
            Campaign.store_id.label("campaign_store_id"),
        )
        .join(Client, Client.id == FollowupTask.client_id)
        .join(Store, Store.id == FollowupTask.store_id)
        .join(Campaign, Campaign.id == FollowupTask.campaign_id)
        .where(FollowupTask.done_at.is_not(None) if done else FollowupTask.done_at.is_(None))
        .order_by(FollowupTask.created_at.desc(), FollowupTask.id.desc())
    )
    if access.requested_store(user, store_id):
        query = query.where(FollowupTask.store_id == store_id)
    return listings.paginate(access.scoped(query, FollowupTask.store_id, user), page, per_page)


def report_visible(user: Person, row: Row) -> bool:
    """Whether this person may open the report a task came from (another store's sending
    can list a card of theirs)."""
    return access.may_see_store(user, row.campaign_store_id)


def open_followups_count(user: Person) -> int:
    query = select(func.count(FollowupTask.id)).where(FollowupTask.done_at.is_(None))
    return db.session.scalar(access.scoped(query, FollowupTask.store_id, user)) or 0


def mark_done(user: Person, task_id: int) -> FollowupTask:
    query = select(FollowupTask).where(FollowupTask.id == task_id)
    task = db.session.scalar(access.scoped(query, FollowupTask.store_id, user))
    if task is None:
        raise ReportError(_l("Cette fiche à corriger n'existe pas."))
    if task.done_at is None:
        task.done_at = utcnow()
        task.done_by_id = user.id
        audit.record("followup.done", user=user, store_id=task.store_id, obj=task)
        db.session.commit()
    return task

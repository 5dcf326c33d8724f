"""What the home page shows a logged-in user, scoped to what their role lets them see."""

from dataclasses import dataclass

from sqlalchemy import func, select

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Campaign
from . import credits


@dataclass(frozen=True)
class Dashboard:
    credits_left: int
    reports_to_close: int
    scheduled: list  # the next scheduled campaigns


def for_user(user: Person, *, limit: int = 5) -> Dashboard:
    reports = access.scoped(
        select(func.count(Campaign.id)).where(
            Campaign.finished_at.is_not(None), Campaign.closed_at.is_(None)
        ),
        Campaign.store_id,
        user,
    )
    scheduled = access.scoped(
        select(Campaign).where(Campaign.status == "scheduled").order_by(Campaign.scheduled_at),
        Campaign.store_id,
        user,
    ).limit(limit)
    return Dashboard(
        credits_left=credits.balance(),
        reports_to_close=db.session.scalar(reports) or 0,
        scheduled=list(db.session.scalars(scheduled)),
    )

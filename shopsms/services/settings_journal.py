"""The « Journal des modifications » of the settings tabs: who changed what and when."""

from sqlalchemy import select

from .. import access
from ..access import Person
from ..models import AuditEntry, Store, User
from .listings import Page, paginate

AUDITED_ACTIONS = (
    "setting.change",
    "setting.reset",
    "store.sms_enabled",
    "credits.topup",
    "report.close",
    "report.close_all",
)


def changes(user: Person, *, page: int = 1, per_page: int = 50) -> Page:
    """Who changed what and when, newest first; a manager reads their store's lines."""
    query = (
        select(AuditEntry, User.username, User.full_name, Store.name.label("store_name"))
        .outerjoin(User, User.id == AuditEntry.user_id)
        .outerjoin(Store, Store.id == AuditEntry.store_id)
        .where(AuditEntry.action.in_(AUDITED_ACTIONS))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    return paginate(access.scoped(query, AuditEntry.store_id, user), page, per_page)

"""The audit log: one call wherever something worth answering for happens."""

from typing import Any

from ..access import Person
from ..extensions import db
from ..models import AuditEntry


def record(
    action: str,
    *,
    user: Person | None = None,
    store_id: int | None = None,
    obj: object = None,
    **details: Any,
) -> AuditEntry:
    """Add an entry to the session; the caller's commit saves it with the change it explains."""
    entry = AuditEntry(
        action=action,
        user_id=getattr(user, "id", None),
        store_id=store_id if store_id is not None else getattr(user, "store_id", None),
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "id", "") or "") if obj is not None else "",
        details=details,
    )
    db.session.add(entry)
    return entry

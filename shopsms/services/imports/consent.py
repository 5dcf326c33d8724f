"""SMS consent from a file or the API, with the same proof as at the counter.

A client who answered STOP is never made reachable again by an import or the API: only
the client can give their consent back (at the counter). The cell is then left aside
and the row says why (a warning; the rest of the row is imported).
"""

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.engine import Row as StoredRow

from ...extensions import db
from ...models import Client
from ...models.base import bulk_insert
from ...models.consent import ConsentChange
from ..consent import change_consent

if TYPE_CHECKING:  # upsert imports this module
    from .upsert import Existing, Row, Scope

AFTER_STOP = _l(
    "Accord SMS non repris : ce client a répondu STOP. Seul le client peut redonner son "
    "accord, en magasin."
)


def new_client_consent(
    row: "Row", values: dict[str, Any], scope: "Scope", stamp: datetime
) -> dict[str, Any] | None:
    """A new client's consent goes in with the row (one INSERT for the batch, not one
    UPDATE per client), with the same proof the clients service records for a change
    from the default: unknown, not refusing every SMS."""
    consent, refuses_all = row.values.get("sms_consent"), row.values.get("sms_refuses_all")
    after = (consent or "unknown", bool(refuses_all))
    if after == ("unknown", False):
        return None
    values["sms_consent"], values["sms_refuses_all"] = after
    return {
        "external_id": row.external_id,
        "created_at": stamp,
        "user_id": scope.user_id,
        "store_id": values["store_id"],
        "how": scope.how,
        "marketing_before": "unknown",
        "marketing_after": after[0],
        "refuses_all_before": False,
        "refuses_all_after": after[1],
        "note": scope.note[:200],
    }


def insert_proofs(proofs: Sequence[dict[str, Any]]) -> None:
    ids = dict(
        db.session.execute(
            select(Client.external_id, Client.id).where(
                Client.external_id.in_([proof["external_id"] for proof in proofs])
            )
        ).all()
    )
    for proof in proofs:
        proof["client_id"] = ids[proof.pop("external_id")]
    bulk_insert(ConsentChange, proofs)


def _stopped(client_ids: Collection[int]) -> set[int]:
    """The clients whose last consent change came from a STOP answer."""
    if not client_ids:
        return set()
    last = (
        select(func.max(ConsentChange.id))
        .where(ConsentChange.client_id.in_(client_ids))
        .group_by(ConsentChange.client_id)
    )
    return set(
        db.session.scalars(
            select(ConsentChange.client_id).where(
                ConsentChange.id.in_(last), ConsentChange.how == "stop"
            )
        )
    )


def _changes(row: "Row", old: StoredRow) -> bool:
    consent, refuses_all = row.values.get("sms_consent"), row.values.get("sms_refuses_all")
    return (consent is not None and consent != old.sms_consent) or (
        refuses_all is not None and bool(refuses_all) != bool(old.sms_refuses_all)
    )


def apply_consent(rows: Iterable["Row"], existing: "Existing", scope: "Scope") -> set[str]:
    """An existing client's consent goes through the clients service, which records the
    proof. Returns the external ids of the clients whose consent changed. `existing`:
    external id → the stored row, to skip at once the (many) rows that change nothing."""
    wanted = [row for row in rows if _changes(row, existing[row.external_id])]
    if not wanted:
        return set()
    # One query loads them all into the session, so the service's get() finds them there.
    clients = {
        client.external_id: client
        for client in db.session.scalars(
            select(Client).where(Client.external_id.in_([row.external_id for row in wanted]))
        )
    }
    refused = [c.id for c in clients.values() if c.sms_consent == "refused" or c.sms_refuses_all]
    stopped = _stopped(refused)
    changed: set[str] = set()
    for row in wanted:
        client = clients[row.external_id]
        consent, refuses_all = row.values.get("sms_consent"), row.values.get("sms_refuses_all")
        if client.id in stopped:
            if consent == "accepted" and client.sms_consent == "refused":
                consent = None
                row.warnings.append(("sms_consent", AFTER_STOP))
            if refuses_all is False and client.sms_refuses_all:
                refuses_all = None
                row.warnings.append(("sms_refuses_all", AFTER_STOP))
        done = change_consent(
            client.id,
            marketing=consent,
            refuses_all=refuses_all,
            how=scope.how,
            user_id=scope.user_id,
            store_id=client.store_id,
            note=scope.note,
        )
        if done:
            changed.add(row.external_id)
    db.session.flush()
    return changed

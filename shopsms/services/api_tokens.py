"""API tokens: one per point of sale (a store) or for head office (every store).

The token itself is shown once, when it is created; only its SHA-256 is stored, so a
copy of the database gives nobody access. Creating and revoking are audited.
"""

import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Store, utcnow
from ..models.integration import ApiToken
from . import audit

PREFIX = "shs_"
LAST_USED_PRECISION = timedelta(minutes=1)  # no write per request, one per minute at most


class TokenError(ValueError):
    """A French message for the settings page."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    name: str, *, store_id: int | None = None, user: Person | None = None
) -> tuple[ApiToken, str]:
    """Returns (ApiToken, the token in clear: shown once, never again)."""
    name = (name or "").strip()
    if not name:
        raise TokenError(_l("Donnez un nom au jeton (par exemple « Caisse Biarritz »)."))
    if len(name) > 80:
        raise TokenError(_l("Le nom du jeton fait 80 caractères au plus."))
    if store_id is not None and db.session.get(Store, store_id) is None:
        raise TokenError(_l("Ce magasin n'existe pas."))
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=digest(token),
        prefix=token[: len(PREFIX) + 6],
        store_id=store_id,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(row)
    db.session.flush()
    audit.record("api_token.create", user=user, store_id=store_id, obj=row, name=name)
    db.session.commit()
    return row, token


def revoke(token_id: int, *, user: Person | None = None) -> ApiToken:
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise TokenError(_l("Ce jeton n'existe pas."))
    if user is not None and not access.may_see_store(user, row.store_id):
        raise TokenError(_l("Ce jeton appartient à un autre magasin."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("api_token.revoke", user=user, store_id=row.store_id, obj=row, name=row.name)
        db.session.commit()
    return row


def listed(user: Person) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
    return list(db.session.scalars(access.scoped(query, ApiToken.store_id, user)))


def authenticate(token: str) -> ApiToken | None:
    """The ApiToken for a token in clear: None if unknown; revoked ones are returned
    (the caller says "revoked", which helps whoever configures the point of sale)."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is not None and row.revoked_at is None:
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
            row.last_used_at = now
            db.session.commit()
    return row

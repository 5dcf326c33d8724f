"""Creating users and checking logins."""

import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ROLES, Store, User, utcnow
from . import audit


class UserError(ValueError):
    """A French message that tells the person what to fix."""


def create_user(
    username: str,
    password: str,
    role: str,
    store_code: str | None = None,
    full_name: str = "",
    *,
    created_by: User | None = None,
) -> User:
    username = (username or "").strip().lower()
    if not username:
        raise UserError(_l("Indiquez un identifiant."))
    if role not in ROLES:
        raise UserError(
            _l(
                "Rôle inconnu « %(role)s » : choisissez parmi %(roles)s.",
                role=role,
                roles=", ".join(ROLES),
            )
        )
    if len(password or "") < 6:
        raise UserError(_l("Le mot de passe doit faire au moins 6 caractères."))
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        raise UserError(_l("L'identifiant « %(username)s » existe déjà.", username=username))
    store = None
    if store_code:
        store = db.session.scalar(select(Store).where(Store.code == store_code))
        if store is None:
            raise UserError(
                _l("Aucun magasin n'a le code « %(store_code)s ».", store_code=store_code)
            )
    elif role != "admin":
        raise UserError(_l("Un vendeur ou un gérant doit être rattaché à un magasin (--store)."))
    user = User(username=username, role=role, store=store, full_name=full_name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user=created_by, obj=user, username=username, role=role)
    db.session.commit()
    return user


_dummy_hashes: dict[str, str] = {}


def _dummy_check(password: str) -> None:
    """Spend the time a real check takes, so that an unknown login answers as slowly as a
    known one (else timing tells which logins exist)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    check_password_hash(_dummy_hashes[method], password)


def authenticate(username: str | None, password: str | None) -> User | None:
    """The active user with these credentials, or None; records the login."""
    username = (username or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.username) == username))
    if user is None:
        _dummy_check(password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    audit.record("user.login", user=user, obj=user)
    db.session.commit()
    return user


def change_password(
    user_id: int, current_password: str | None, new_password: str | None, confirmation: str | None
) -> User:
    """The person's new password; every other session and remember-me cookie ends."""
    user = db.session.get(User, user_id)
    if user is None:
        raise UserError(_l("Cet utilisateur n'existe pas."))
    if not user.check_password(current_password or ""):
        raise UserError(_l("Le mot de passe actuel n'est pas le bon."))
    if len(new_password or "") < 8:
        raise UserError(_l("Le nouveau mot de passe doit faire au moins 8 caractères."))
    if new_password != confirmation:
        raise UserError(_l("Les deux saisies du nouveau mot de passe diffèrent : retapez-les."))
    user.set_password(new_password)
    user.end_sessions()
    audit.record("user.password", user=user, obj=user)
    db.session.commit()
    return user


def end_sessions(user_id: int, *, by: User | None = None) -> User:
    """« Déconnecter partout »: every session and remember-me cookie of this person ends
    (a logout does the same for the person who leaves)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise UserError(_l("Cet utilisateur n'existe pas."))
    user.end_sessions()
    audit.record("user.sessions_ended", user=by or user, obj=user)
    db.session.commit()
    return user

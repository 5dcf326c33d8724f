"""Creating users and checking logins."""

from sqlalchemy import func, select

from ..extensions import db
from ..models import ROLES, Store, User, utcnow
from . import audit


class UserError(ValueError):
    """A French message that tells the person what to fix."""


def create_user(username, password, role, store_code=None, full_name="", *, created_by=None):
    username = (username or "").strip().lower()
    if not username:
        raise UserError("Indiquez un identifiant.")
    if role not in ROLES:
        raise UserError(f"Rôle inconnu « {role} » : choisissez parmi {', '.join(ROLES)}.")
    if len(password or "") < 6:
        raise UserError("Le mot de passe doit faire au moins 6 caractères.")
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        raise UserError(f"L'identifiant « {username} » existe déjà.")
    store = None
    if store_code:
        store = db.session.scalar(select(Store).where(Store.code == store_code))
        if store is None:
            raise UserError(f"Aucun magasin n'a le code « {store_code} ».")
    elif role != "admin":
        raise UserError("Un vendeur ou un gérant doit être rattaché à un magasin (--store).")
    user = User(username=username, role=role, store=store, full_name=full_name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user=created_by, obj=user, username=username, role=role)
    db.session.commit()
    return user


def authenticate(username, password):
    """The active user with these credentials, or None; records the login."""
    username = (username or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.username) == username))
    if user is None or not user.active or not user.check_password(password or ""):
        return None
    user.last_login_at = utcnow()
    audit.record("user.login", user=user, obj=user)
    db.session.commit()
    return user

"""Who may see what: every page needs a session, and role checks happen here only."""

from functools import wraps

from flask import abort, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db, login
from ..models import User

# Endpoints open without a session; everything else asks for a login.
PUBLIC_ENDPOINTS = {
    "auth.login",
    "static",
    "i18n.switch",
    "hooks.kannel_dlr",
    "hooks.kannel_mo",
    "api.openapi_document",  # the API's description; the API itself wants a token
    "health.sante",  # load balancers: ok or not, no private data
}


@login.user_loader
def load_user(session_id):
    """The person of a session or remember-me cookie, while the cookie carries the
    person's current session version (a logout, a password change or « Déconnecter
    partout » raise it: older cookies then open nothing)."""
    user_id, _, version = str(session_id).partition(":")
    numbers = (user_id, version)
    if not all(n.isascii() and n.isdigit() and len(n) <= 9 for n in numbers):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


@login.unauthorized_handler
def ask_for_login():
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.htmx:
        # A session that ended under an htmx request: reload the whole page on the login
        # form rather than swap the form into a fragment.
        return "", 401, {"HX-Redirect": target}
    if request.path != "/":  # opening the site is no reason for a warning
        flash(_l("Connectez-vous pour accéder à cette page."), "info")
    return redirect(target)


def require_login():
    """before_request: a page without a session sends the person to the login page."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.blueprint == "api":  # its own token auth (web/api.py), JSON 401s
        return None
    if not current_user.is_authenticated:
        return ask_for_login()
    return None


def role_required(role):
    """The view answers 403 to anyone below `role` (staff < manager < admin); the role
    stays on the view for shopsms.access.may_open (menus, tabs and links)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role
        return wrapped

    return decorator

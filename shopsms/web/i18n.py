"""French first, English available: the person's choice, else French."""

from flask import (
    Blueprint,
    current_app,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user

from ..extensions import db
from .redirects import back_to_referrer

bp = Blueprint("i18n", __name__)


def select_locale():
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # A job or the CLI: nobody chose a language, the texts' own (French).
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen is None and current_user and current_user.is_authenticated:
        chosen = current_user.locale
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


@bp.post("/langue/<code>")
def switch(code):
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(back_to_referrer(request, url_for("home.index")))

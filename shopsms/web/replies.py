"""« Réponses des clients »: inbound SMS (STOP and anything else), newest first."""

from flask import Blueprint, abort, redirect, url_for
from flask_login import current_user

from ..services import replies
from .helpers import render

bp = Blueprint("replies", __name__, url_prefix="/reponses")


@bp.get("/")
def index():
    return render("replies/index.html", "replies/_list.html", rows=replies.recent(current_user))


@bp.post("/<int:message_id>/lu")
def mark_read(message_id):
    if not replies.mark_read(current_user, message_id):
        abort(404)
    return redirect(url_for("replies.index"))

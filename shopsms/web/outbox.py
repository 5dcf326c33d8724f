"""« Téléphone de test »: in simulation mode, see what clients' phones would show."""

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..inputs import has_invisible
from ..services import inbound, test_phone
from ..sms import phones
from .forms import Form, TextField
from .helpers import render

bp = Blueprint("outbox", __name__, url_prefix="/telephone-de-test")


@bp.before_request
def only_in_simulation():
    if current_app.config["SMS_GATEWAY"] != "outbox":
        abort(404)


@bp.get("/")
def index():
    return render("outbox/index.html", numbers=test_phone.numbers(current_user))


def _phone_of_this_store(phone):
    # Like a client card of another store: not found, rather than a hint that it exists.
    if len(phone) > 20 or has_invisible(phone) or not test_phone.may_see(phone, current_user):
        abort(404)


@bp.get("/<phone>")
def conversation(phone):
    _phone_of_this_store(phone)
    items = test_phone.conversation(phone)
    return render(
        "outbox/conversation.html",
        "outbox/_conversation.html",
        phone=phone,
        display=phones.display(phone),
        items=items,
        waiting=test_phone.waiting_for_reports(items),
    )


class ReplyForm(Form):
    text = TextField(_l("Réponse du client"))


@bp.post("/<phone>/repondre")
def reply(phone):
    _phone_of_this_store(phone)
    text = ReplyForm().text.data
    if not text:
        flash(_("Écrivez la réponse du client (par exemple STOP)."), "error")
    else:
        message = inbound.receive("outbox", phone, text)
        if message.is_stop:
            flash(_("STOP reçu : ce numéro ne recevra plus de SMS publicitaires."), "info")
    return redirect(url_for("outbox.conversation", phone=phone))

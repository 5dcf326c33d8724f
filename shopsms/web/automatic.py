"""« Envois automatiques » under Campagnes: one card per kind (on/off, text, time, numbers,
the next run with its recipients and cost, the last runs with their reports), a page to
change a card, and the next run's list where a client can be left out once."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField

from .. import access
from ..services import automatic
from . import composer
from .access import role_required
from .campaigns import EXCLUSION_LABELS
from .forms import DayField, IdField, TextField
from .helpers import render

bp = Blueprint("automatic", __name__, url_prefix="/campagnes/automatiques")

KIND_LABELS = {
    "birthday": _l("Anniversaire"),
    "absent": _l("Relance des clients absents"),
    "repair_ready": _l("Réparation prête"),
    "repair_reminder": _l("Réparation non retirée"),
}
KIND_HELP = {
    "birthday": _l(
        "Chaque jour à l'heure choisie, les clients dont c'est l'anniversaire "
        "(ou dans N jours). Les anniversaires du 29 février sont fêtés le 28 "
        "les années non bissextiles. SMS publicitaire : mention STOP ajoutée."
    ),
    "absent": _l(
        "Les clients dont le dernier achat date d'exactement N jours, une fois par "
        "absence : un client relancé ne l'est plus tant qu'il n'est pas revenu "
        "acheter. SMS publicitaire : mention STOP ajoutée."
    ),
    "repair_ready": _l(
        "Dès qu'une fiche SAV devient « Disponible » (retour atelier, fiche, "
        "import ou API), son client reçoit le message des Paramètres SAV, "
        "aussitôt, comme message de service. Jamais deux fois pour une fiche."
    ),
    "repair_reminder": _l(
        "La relance des réparations non retirées, envoyée seule : après N "
        "jours « Disponible », au plus M fois, espacées de P jours."
    ),
}
RUN_STATUS_LABELS = {
    "started": _l("En cours"),
    "sent": _l("Envoyé"),
    "empty": _l("Personne ce jour-là"),
    "no_credits": _l("Non parti : crédits"),
    "failed": _l("Non parti"),
}
NUMBER_LABELS = {
    "birthday": {"days": _l("Jours d'avance (0 : le jour même)")},
    "absent": {"days": _l("Jours depuis le dernier achat")},
    "repair_reminder": {
        "days": _l("Relancer après (jours « Disponible »)"),
        "repeat_max": _l("Nombre de relances au plus"),
        "repeat_every": _l("Jours entre deux relances"),
    },
}


class CardForm(FlaskForm):
    """A card's fields; the service checks them and words the errors."""

    enabled = BooleanField(_l("Activé"))
    body = TextAreaField(_l("Message"))
    send_time = StringField(_l("Heure d'envoi"))
    days = StringField()
    repeat_max = StringField()
    repeat_every = StringField()


class ActionForm(FlaskForm):
    """The small buttons' forms (on/off, pause, leave a client out): CSRF, and the client
    and day a « Ne pas envoyer » button names."""

    client_id = IdField()
    day = DayField()
    back = TextField()


def _store_id():
    """The store whose automatic sends are shown: one's own; head office picks one."""
    choices = automatic.store_choices(current_user)
    if not choices:
        abort(404)
    wanted = request.values.get("magasin", type=int)
    if access.every_store(current_user):
        ids = [row.id for row in choices]
        return wanted if wanted in ids else ids[0], choices
    return current_user.store_id, choices


def _kind(kind):
    if kind not in automatic.KINDS:
        abort(404)
    return kind


def _back(store_id, anchor=""):
    url = url_for("automatic.index", magasin=access.requested_store(current_user, store_id))
    return redirect(url + (f"#{anchor}" if anchor else ""))


@bp.get("/")
@role_required("manager")
def index():
    store_id, stores = _store_id()
    cards = automatic.cards(store_id)
    paused = automatic.chain_paused()
    upcoming = {}
    for kind, setting in cards.items():
        if kind in automatic.DAILY_KINDS:
            day = automatic.next_run(setting)
            upcoming[kind] = automatic.preview(setting, day, limit=0)
    return render(
        "automatic/index.html",
        store_id=store_id,
        stores=stores,
        cards=cards,
        paused=paused,
        upcoming=upcoming,
        runs={kind: automatic.last_runs(store_id, kind) for kind in automatic.DAILY_KINDS},
        ready_notices=automatic.ready_notices(store_id),
        sav=automatic.sav_message(store_id),
        form=ActionForm(),
        **_labels(),
    )


def _labels():
    return {
        "kind_labels": KIND_LABELS,
        "kind_help": KIND_HELP,
        "run_status_labels": RUN_STATUS_LABELS,
        "number_labels": NUMBER_LABELS,
        "reason_labels": EXCLUSION_LABELS,
        "today": automatic.today(),
    }


@bp.route("/<kind>", methods=["GET", "POST"])
@role_required("manager")
def edit(kind):
    kind = _kind(kind)
    store_id, stores = _store_id()
    setting = automatic.card(store_id, kind)
    form = CardForm(obj=setting if request.method == "GET" else None)
    if request.method == "GET":
        for name in ("days", "repeat_max", "repeat_every"):
            getattr(form, name).data = str(getattr(setting, name))
    errors = {}
    if request.method == "POST":
        if not form.validate():  # the CSRF token
            abort(400)
        values, errors = automatic.clean(kind, form.data, store_id)
        if not errors:
            automatic.save(current_user, store_id, kind, values)
            flash(_("« %(kind)s » enregistré.", kind=KIND_LABELS[kind]), "success")
            return _back(store_id, kind)
    page = render(
        "automatic/edit.html",
        kind=kind,
        store_id=store_id,
        stores=stores,
        setting=setting,
        form=form,
        errors=errors,
        sav=automatic.sav_message(store_id),
        composer=composer.context(
            kind="marketing" if kind in automatic.MARKETING_KINDS else "repair",
            body=form.body.data or "",
            store_id=store_id,
            dom_id="automatic",
            pristine=setting.body,
        )
        if kind != "repair_ready"
        else None,
        **_labels(),
    )
    return page, 422 if errors else 200


@bp.post("/<kind>/activer")
@role_required("manager")
def toggle(kind):
    """The card's on/off switch: the card's values as they are, on or off."""
    kind = _kind(kind)
    store_id, _stores = _store_id()
    if not ActionForm().validate():
        abort(400)
    setting = automatic.card(store_id, kind)
    form = {
        "enabled": "" if setting.enabled else "1",
        "body": setting.body,
        "send_time": setting.send_time,
        **{name: str(getattr(setting, name)) for name in ("days", "repeat_max", "repeat_every")},
    }
    values, errors = automatic.clean(kind, form, store_id)
    if errors:
        for message in errors.values():
            flash(message, "error")
        return redirect(url_for("automatic.edit", kind=kind, magasin=store_id))
    automatic.save(current_user, store_id, kind, values)
    return _back(store_id, kind)


@bp.post("/<kind>/pause")
@role_required("manager")
def pause(kind):
    kind = _kind(kind)
    store_id, _stores = _store_id()
    if not ActionForm().validate():
        abort(400)
    setting = automatic.card(store_id, kind)
    automatic.set_store_pause(current_user, store_id, kind, not setting.paused)
    return _back(store_id, kind)


@bp.post("/<kind>/pause-enseigne")
@role_required("admin")
def chain_pause(kind):
    kind = _kind(kind)
    store_id, _stores = _store_id()
    if not ActionForm().validate():
        abort(400)
    automatic.set_chain_pause(current_user, kind, kind not in automatic.chain_paused())
    return _back(store_id, kind)


@bp.get("/<kind>/prochain")
@role_required("manager")
def next_run(kind):
    """The next run's list: who would get which SMS, what it costs, who is left out."""
    kind = _kind(kind)
    if kind not in automatic.DAILY_KINDS:
        abort(404)
    store_id, stores = _store_id()
    setting = automatic.card(store_id, kind)
    day = automatic.next_run(setting)
    return render(
        "automatic/next.html",
        kind=kind,
        store_id=store_id,
        stores=stores,
        setting=setting,
        day=day,
        preview=automatic.preview(setting, day),
        skipped=automatic.skipped_clients(store_id, kind, day),
        form=ActionForm(),
        **_labels(),
    )


@bp.post("/<kind>/ignorer")
@role_required("manager")
def skip(kind):
    """« Pas cette fois »: the client is left out of that run only (or put back)."""
    kind = _kind(kind)
    store_id, _stores = _store_id()
    form = ActionForm()
    if not form.validate():
        abort(400)
    client_id, day = form.client_id.data, form.day.data
    if client_id is None or day is None:
        abort(400)
    if form.back.data == "1":
        automatic.unskip_client(store_id, kind, day, client_id)
    else:
        try:
            automatic.skip_client(current_user, store_id, kind, day, client_id)
        except automatic.AutomaticError as error:
            flash(str(error), "error")
    shown = access.requested_store(current_user, store_id)
    return redirect(url_for("automatic.next_run", kind=kind, magasin=shown))

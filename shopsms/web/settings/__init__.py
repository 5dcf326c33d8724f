"""« Paramètres »: head office sets the chain's values, the stores' SMS module and the
gateway; a manager sets the values their store may hold for itself. Every change is in
the audit log, and a gateway secret never comes back into a page.

One blueprint, split by tab: the general tab and the journal here, « Magasins » in
stores.py, « Passerelle » in gateway.py."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import access, inputs
from ...extensions import db
from ...gateways import active_name
from ...models import Store
from ...services import listings, settings, settings_journal
from ...sms.sender import SENDER_ID_RULES, validate_sender_id
from ...sms.stop import stop_mention
from ..access import role_required
from ..helpers import render
from . import forms

bp = Blueprint("settings", __name__, url_prefix="/parametres")

DAY_NAMES = (
    _l("lundi"),
    _l("mardi"),
    _l("mercredi"),
    _l("jeudi"),
    _l("vendredi"),
    _l("samedi"),
    _l("dimanche"),
)
GATEWAY_LABELS = {
    "outbox": _l("Simulation : les SMS arrivent sur le Téléphone de test"),
    "kannel": _l("Kannel (passerelle HTTP)"),
    "smpp": _l("SMPP 3.4 (opérateur ou agrégateur)"),
}
WORKSHOP_RETURN_MODES = {
    "none": _l("Pas de message par défaut"),
    "proposed": _l("Proposition d'un message"),
    "imposed": _l("Message imposé"),
}
GATEWAYS = settings.GATEWAYS
STORE_KEY_LABELS = {
    "sender_id": _l("Intitulé de l'expéditeur"),
    "sending_days": _l("Jours d'envoi"),
    "sending_start": _l("Heure de début"),
    "sending_end": _l("Heure de fin"),
    "max_parts": _l("Parties par message au plus"),
}


def public_values(store_id=None):
    """Every setting a page may show: the secrets are left out."""
    return settings.get_many(
        [key for key in settings.DEFAULTS if key not in settings.SECRETS], store_id
    )


def _target_store():
    """Whose values the general tab edits: a manager's store; for head office the chain,
    or one store's own values (?magasin=)."""
    if not access.every_store(current_user):
        return db.session.get(Store, current_user.store_id)
    raw = request.values.get("magasin")
    if raw is None:
        return None
    store_id = next(iter(inputs.ids([raw])), None)
    if store_id is None:
        return None
    store = db.session.get(Store, store_id)
    if store is None:
        abort(404)
    return store


def _general_page(store, form=None, errors=None, status=200):
    store_id = store.id if store else None
    values = public_values(store_id)
    shown = dict(values)
    if form:
        shown.update(form)
    return (
        render(
            "settings/index.html",
            active="general",
            values=values,
            shown=shown,
            errors=errors or {},
            editable=forms.general_keys(store),
            target=store,
            overridden=[
                STORE_KEY_LABELS.get(key, key)
                for key in forms.general_keys(store)
                if store and settings.is_set(key, store.id)
            ],
            days=[DAY_NAMES[day] for day in sorted(values["sending_days"]) if 0 <= day < 7],
            day_names=DAY_NAMES,
            stop=stop_mention(values["stop_short_code"]),
            sender_rules=SENDER_ID_RULES,
            gateway=active_name(),
            gateway_labels=GATEWAY_LABELS,
            gateways=GATEWAYS,
            workshop_return_modes=WORKSHOP_RETURN_MODES,
            stores=listings.stores(current_user),
        ),
        status,
    )


def _back_to_general(store):
    magasin = store.id if store and access.every_store(current_user) else None
    return redirect(url_for("settings.index", magasin=magasin))


@bp.get("/")
@role_required("manager")
def index():
    return _general_page(_target_store())


@bp.post("/")
@role_required("manager")
def save():
    store = _target_store()
    form = forms.GeneralForm(store)
    if not form.validate():
        return _general_page(store, form.typed(), form.field_errors(), status=400)
    changed = settings.save(form.values(), user=current_user, store_id=store.id if store else None)
    flash(_("Paramètres enregistrés.") if changed else _("Aucune modification."), "success")
    return _back_to_general(store)


@bp.post("/valeurs-enseigne")
@role_required("manager")
def reset_store():
    """« Revenir aux valeurs de l'enseigne »: the store drops its own values."""
    store = _target_store()
    if store is None:
        abort(404)
    changed = sum(
        settings.reset(key, user=current_user, store_id=store.id)
        for key in forms.general_keys(store)
    )
    db.session.commit()
    flash(
        _("Le magasin suit de nouveau les valeurs de l'enseigne.")
        if changed
        else _("Aucune modification."),
        "success",
    )
    return _back_to_general(store)


SETTING_LABELS = STORE_KEY_LABELS | {
    "stop_short_code": _l("Numéro court STOP"),
    "batch_size": _l("SMS par lot"),
    "messages_per_second": _l("SMS par seconde"),
    "low_credit_threshold": _l("Seuil d'alerte crédits bas"),
    "topup_email": _l("E-mail pour les recharges"),
    "workshop_return_mode": _l("Prévenir les clients des retours atelier"),
    "workshop_return_message": _l("Message des retours atelier"),
    "repair_reminder_days": _l("Relance des réparations non retirées"),
    "platform_link": _l("Liaison plate-forme de services"),
    "platform_entity": _l("Nom de l'entité (licence)"),
    "gateway": _l("Passerelle d'envoi"),
    "kannel_sendsms_url": _l("Adresse sendsms"),
    "kannel_username": _l("Identifiant Kannel"),
    "kannel_password": _l("Mot de passe Kannel"),
    "kannel_smsc": _l("SMSC Kannel"),
    "smpp_host": _l("Serveur SMPP"),
    "smpp_port": _l("Port SMPP"),
    "smpp_system_id": _l("Identifiant SMPP"),
    "smpp_password": _l("Mot de passe SMPP"),
    "smpp_system_type": _l("system_type SMPP"),
}
AUDIT_LABELS = {
    "setting.change": _l("Paramètre modifié"),
    "setting.reset": _l("Retour aux valeurs de l'enseigne"),
    "store.sms_enabled": _l("Module SMS du magasin"),
    "credits.topup": _l("Recharge de crédits"),
    "report.close": _l("Rapport clôturé"),
    "report.close_all": _l("Rapports clôturés"),
}


@bp.get("/journal")
@role_required("manager")
def journal():
    page = listings.page_number(request.args.get("page"))
    return render(
        "settings/journal.html",
        "settings/_journal.html",
        active="journal",
        results=settings_journal.changes(current_user, page=page),
        audit_labels=AUDIT_LABELS,
        setting_labels=SETTING_LABELS,
        secrets=settings.SECRETS,
    )


@bp.get("/expediteur")
@role_required("manager")
def check_sender():
    """The sender id's rules, checked as the person types (htmx)."""
    value = request.args.get("sender_id", "")
    return render(
        "settings/_sender_check.html",
        "settings/_sender_check.html",
        sender_errors=validate_sender_id(value),
        value=value,
    )


from . import gateway, people, stores  # noqa: E402, F401  (the other tabs' routes on this blueprint)

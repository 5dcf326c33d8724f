"""« Paramètres »: the values in force, for managers (their store) and head office."""

from flask import Blueprint, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..services import listings, settings
from ..sms.sender import SENDER_ID_RULES
from ..sms.stop import stop_mention
from .access import role_required
from .helpers import render

bp = Blueprint("settings", __name__, url_prefix="/parametres")

DAY_NAMES = (
    _l("lundi"), _l("mardi"), _l("mercredi"), _l("jeudi"), _l("vendredi"), _l("samedi"),
    _l("dimanche"),
)  # fmt: skip
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
GATEWAYS = ("outbox", "kannel", "smpp")


@bp.get("/")
@role_required("manager")
def index():
    # A manager reads what applies to their store (its own values, else the chain's).
    store_id = None if current_user.has_role("admin") else current_user.store_id
    values = {key: settings.get(key, store_id) for key in settings.DEFAULTS}
    return render(
        "settings/index.html",
        values=values,
        days=[DAY_NAMES[day] for day in sorted(values["sending_days"]) if 0 <= day < 7],
        stop=stop_mention(values["stop_short_code"]),
        sender_rules=SENDER_ID_RULES,
        gateway=current_app.config["SMS_GATEWAY"],
        gateway_labels=GATEWAY_LABELS,
        gateways=GATEWAYS,
        workshop_return_modes=WORKSHOP_RETURN_MODES,
        stores=listings.stores(current_user),
    )

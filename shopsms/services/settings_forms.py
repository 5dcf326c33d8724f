"""Saving the « Paramètres » tabs from what a person typed: every field is checked, and
nothing is saved unless all are right (the page then shows the typed values with a
message under each wrong field). Only what changed is written, each change audited."""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from .. import inputs
from ..extensions import db
from . import settings
from .settings_rules import GATEWAYS, PLATFORM_ENTITY_MAX  # noqa: F401

# The general tab: what head office sets for the chain; a store holds its own value for
# those of them that are STORE_KEYS.
GENERAL_KEYS = (
    "sender_id",
    "stop_short_code",
    "sending_days",
    "sending_start",
    "sending_end",
    "max_parts",
    "low_credit_threshold",
    "topup_email",
    "control_share",
    "attribution_days",
    "pressure_max",
    "pressure_days",
    "receipt_wait_hours",
)
# Campaign results and « pression marketing » (issue 21), the wait for receipts (issue 18):
# a form from before these settings keeps them as they are.
RESULTS_KEYS = (
    "control_share",
    "attribution_days",
    "pressure_max",
    "pressure_days",
    "receipt_wait_hours",
)
GATEWAY_TEXT_KEYS = (
    "kannel_sendsms_url",
    "kannel_username",
    "kannel_smsc",
    "smpp_host",
    "smpp_port",
    "smpp_system_id",
    "smpp_system_type",
)
RATE_KEYS = (
    # key, lowest, highest, label
    ("batch_size", 1, 10_000, "SMS par lot"),
    ("messages_per_second", 0, 10_000, "SMS par seconde"),
)
SECRET_NOT_SAVED = _l("Mot de passe non enregistré : saisissez-le de nouveau.")


@dataclass
class Saved:
    """What a save did: the typed values (to show again) and the errors, or how many
    values changed."""

    form: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    changed: int = 0

    @property
    def ok(self):
        return not self.errors


def general_keys(store):
    if store is None:
        return GENERAL_KEYS
    return tuple(key for key in GENERAL_KEYS if key in settings.STORE_KEYS)


def _write(values, *, user, store_id=None):
    """Write the values that differ from those in force; returns how many did."""
    current = settings.get_many(list(values), store_id)
    changed = 0
    for key, value in values.items():
        # A store keeps following the chain for every value it did not change.
        if value != current[key]:
            changed += settings.put(key, value, user=user, store_id=store_id, commit=False)
    return changed


def save_general(user, store, form):
    """The general tab, for the chain (store None) or one store's own values."""
    saved, cleaned = Saved(), {}
    for key in general_keys(store):
        if key in RESULTS_KEYS and key not in form:
            continue  # a form from before these settings keeps them as they are
        if key == "sending_days":
            raw = form.getlist(key)
            saved.form[key] = inputs.ids(raw)
        else:
            raw = saved.form[key] = form.get(key, "")
        value, error = settings.clean(key, raw)
        if error:
            saved.errors[key] = error
        else:
            cleaned[key] = value
    if "sending_start" in cleaned and "sending_end" in cleaned:
        error = settings.check_window(cleaned["sending_start"], cleaned["sending_end"])
        if error:
            saved.errors["sending_end"] = error
    if saved.errors:
        return saved
    saved.changed = _write(cleaned, user=user, store_id=store.id if store else None)
    db.session.commit()
    return saved


def save_stores(user, stores, form):
    """« Magasins »: the SMS module store by store and the « Liaison plate-forme »."""
    saved = Saved()
    saved.form = {
        "platform_link": form.get("platform_link", "") in ("1", "on"),
        "platform_entity": form.get("platform_entity", "").strip(),
        "sms_enabled": set(inputs.ids(form.getlist("sms_enabled"))),
    }
    entity, error = settings.clean("platform_entity", saved.form["platform_entity"])
    if error:
        saved.errors["platform_entity"] = error
        return saved
    for store in stores:
        saved.changed += settings.set_sms_enabled(
            store.id, store.id in saved.form["sms_enabled"], user=user, commit=False
        )
    link, _error = settings.clean("platform_link", form.get("platform_link", ""))
    saved.changed += _write({"platform_link": link, "platform_entity": entity}, user=user)
    db.session.commit()
    return saved


def save_gateway(user, form, *, in_service):
    """« Passerelle »: the gateway, its credentials, its pace. A secret typed is only kept
    when everything else is right (a password field is never filled back in): the page
    then says to type it again. « Effacer » removes a stored secret."""
    saved, cleaned = Saved(), {}
    for key in ("gateway", *GATEWAY_TEXT_KEYS):
        saved.form[key] = form.get(key, "")
        value, error = settings.clean(key, saved.form[key])
        if error:
            saved.errors[key] = error
        else:
            cleaned[key] = value
    for key, low, high, label in RATE_KEYS:
        saved.form[key] = {}
        cleaned[key] = {}
        for name in GATEWAYS:
            raw = form.get(f"{key}_{name}", "")
            value, error = settings.clean_rate(raw, f"{label} ({name})", low, high)
            saved.form[key][name] = value if value is not None else raw
            cleaned[key][name] = value
            if error:
                saved.errors[f"{key}_{name}"] = error
    secrets = {key: form.get(key, "") for key in sorted(settings.SECRETS)}
    clear = {key for key in settings.SECRETS if form.get(f"{key}_clear") == "1"}
    saved.form["clear"] = clear
    if saved.errors:
        for key, secret in secrets.items():
            if secret:
                saved.errors[key] = SECRET_NOT_SAVED
        return saved
    # The gateway written only when changed: an untouched one keeps following SMS_GATEWAY.
    gateway = cleaned.pop("gateway")
    if gateway != in_service:
        saved.changed += settings.put("gateway", gateway, user=user, commit=False)
    saved.changed += _write(cleaned, user=user)
    for key, secret in secrets.items():
        if secret:  # blank keeps the one in force
            saved.changed += settings.put(key, secret, user=user, commit=False)
        elif key in clear:
            saved.changed += settings.put(key, "", user=user, commit=False)
    db.session.commit()
    return saved

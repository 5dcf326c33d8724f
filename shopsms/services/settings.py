"""« Paramètres »: chain-wide values, which a store may override for itself.

A key that nobody has set reads its default from DEFAULTS, so a new deployment
works without any configuration step. Secrets (gateway passwords) are stored like
any value but never shown back and never written to the audit log.
"""

from collections.abc import Container, Iterable, Mapping
from typing import Any

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..access import Person
from ..extensions import db
from ..models import Setting, Store
from ..sms.stop import DEFAULT_SHORT_CODE
from . import audit, secret_box
from .campaign_status import CampaignError
from .settings_rules import GATEWAYS, RATES, check_window, clean, clean_rate  # noqa: F401

DEFAULTS = {
    # Shown on the client's phone; the seed's rules apply (sms.sender).
    "sender_id": "SHOPSMS",
    "stop_short_code": DEFAULT_SHORT_CODE,
    # The seeds' "160 caractères maxi": at most this many parts per message.
    "max_parts": 1,
    # Marketing sends go out in this window (Europe/Paris), never on public holidays.
    "sending_days": [0, 1, 2, 3, 4, 5],  # Monday = 0 … Saturday = 5
    "sending_start": "08:00",
    "sending_end": "20:00",
    # Per gateway: the outbox is our own table, a real operator link is throttled. Kannel
    # takes 500 a batch: an unthrottled link then gets 4 chunks of requests, each queued
    # behind the one before while its answers are recorded (sending._submit_overlapped).
    "batch_size": {"outbox": 1000, "kannel": 500, "smpp": 100},
    "messages_per_second": {"outbox": 0, "kannel": 50, "smpp": 50},  # 0: no limit
    "low_credit_threshold": 500,
    # A submitted SMS whose delivery receipt has not come after this many hours (the
    # validity period operators keep trying for) becomes « Sans accusé de réception ».
    "receipt_wait_hours": 48,
    # Campaign results (issue 21): the share (%) of a marketing campaign's eligible
    # recipients held out as « groupe témoin » (each campaign may change it), and the
    # days after a sending whose sales are counted in its results.
    "control_share": 10,
    "attribution_days": 14,
    # « Pression marketing »: at most this many marketing SMS per client in this many
    # days, whatever the store (0: no cap).
    "pressure_max": 2,
    "pressure_days": 7,
    "topup_email": "",
    # Repairs (SAV tab): « Prévenir les clients des retours atelier ».
    "workshop_return_mode": "proposed",  # none, proposed, imposed
    # Signed with the store, as the seed asks of every message (operators may replace
    # the sender id with a short number).
    "workshop_return_message": (
        "Bonjour <GEN> <NOMPROPRE>, votre réparation <NUM> est disponible en magasin. "
        "Merci de venir la chercher avec votre ticket.\n<MAGASIN>"
    ),
    "repair_reminder_days": 15,
    "repair_reminder_message": (
        "Bonjour <GEN> <NOMPROPRE>, votre réparation <NUM> vous attend en magasin. "
        "Merci de passer la récupérer avec votre ticket."
    ),
    # Odeis' « Liaison plate-forme de services » and its entity (the licence name).
    "platform_link": True,
    "platform_entity": "",
    # The gateway in service; empty: the deployment's SMS_GATEWAY (environment).
    "gateway": "",
    # Gateway credentials; an empty value leaves the deployment's configuration in force.
    "kannel_sendsms_url": "",
    "kannel_username": "",
    "kannel_password": "",
    "kannel_smsc": "",
    "smpp_host": "",
    "smpp_port": 0,
    "smpp_system_id": "",
    "smpp_password": "",
    "smpp_system_type": "",
}

SECRETS = frozenset({"kannel_password", "smpp_password"})

# Values a store may hold for itself; the others are the chain's (head office).
STORE_KEYS = frozenset({"sender_id", "sending_days", "sending_start", "sending_end", "max_parts"})

# Where a gateway setting overrides the deployment's configuration.
CONFIG_KEYS = {
    "kannel_sendsms_url": "KANNEL_SENDSMS_URL",
    "kannel_username": "KANNEL_USERNAME",
    "kannel_password": "KANNEL_PASSWORD",
    "kannel_smsc": "KANNEL_SMSC",
    "smpp_host": "SMPP_HOST",
    "smpp_port": "SMPP_PORT",
    "smpp_system_id": "SMPP_SYSTEM_ID",
    "smpp_password": "SMPP_PASSWORD",
    "smpp_system_type": "SMPP_SYSTEM_TYPE",
}


SMS_DISABLED = _l(
    "Le module SMS n'est pas activé pour ce magasin : demandez au siège de l'activer "
    "(Paramètres > Magasins)."
)
PLATFORM_OFF = _l(
    "La liaison plate-forme de services est coupée : aucun SMS ne peut partir. Le siège "
    "peut la rétablir (Paramètres > Magasins)."
)

# What every page may read (the simulation banner, the low-credit banner) and every
# sending checks: read together, once per request.
_PAGE_KEYS = ("gateway", *CONFIG_KEYS, "low_credit_threshold", "platform_link")


def page_values() -> dict[str, Any]:
    """_PAGE_KEYS' values, read once per request (put() forgets them); outside a
    request (the workers) always read afresh, so a change is seen at once."""
    if not has_request_context():
        return get_many(_PAGE_KEYS)
    if "shopsms_settings" not in g:
        g.shopsms_settings = get_many(_PAGE_KEYS)
    return g.shopsms_settings


def _forget_page_values() -> None:
    if has_request_context():
        g.pop("shopsms_settings", None)


def get(key: str, store_id: int | None = None) -> Any:
    """The store's own value, else the chain's, else the default."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    rows = db.session.execute(
        select(Setting.store_id, Setting.value).where(
            Setting.key == key, (Setting.store_id == store_id) | Setting.store_id.is_(None)
        )
    ).all()
    values = {row.store_id: _clear(key, row.value) for row in rows}
    if store_id is not None and store_id in values:
        return values[store_id]
    return values.get(None, DEFAULTS[key])


def _clear(key: str, value: object) -> Any:
    return secret_box.decrypt(value) if key in SECRETS else value


def get_many(keys: Iterable[str], store_id: int | None = None) -> dict[str, Any]:
    """get() for several keys in one query."""
    keys = list(keys)
    unknown = [key for key in keys if key not in DEFAULTS]
    if unknown:
        raise KeyError(f"unknown setting {unknown[0]!r}")
    rows = db.session.execute(
        select(Setting.key, Setting.store_id, Setting.value).where(
            Setting.key.in_(keys), (Setting.store_id == store_id) | Setting.store_id.is_(None)
        )
    ).all()
    chain = {row.key: _clear(row.key, row.value) for row in rows if row.store_id is None}
    own = {row.key: _clear(row.key, row.value) for row in rows if row.store_id is not None}
    return {key: own.get(key, chain.get(key, DEFAULTS[key])) for key in keys}


def is_set(key: str, store_id: int | None = None) -> bool:
    """Whether someone set this key (for a store: its own value)."""
    return (
        db.session.scalar(
            select(Setting.id).where(
                Setting.key == key,
                Setting.store_id.is_(None) if store_id is None else Setting.store_id == store_id,
            )
        )
        is not None
    )


def put(
    key: str,
    value: Any,
    *,
    user: Person | None = None,
    store_id: int | None = None,
    secret: bool = False,
    commit: bool = True,
) -> bool:
    """Set a value and record who changed what; a secret's value never reaches the log.
    Returns whether the value changed."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    secret = secret or key in SECRETS
    row = db.session.scalar(
        select(Setting).where(
            Setting.key == key,
            Setting.store_id.is_(None) if store_id is None else Setting.store_id == store_id,
        )
    )
    if row is not None and _clear(key, row.value) == value:
        return False
    old = _clear(key, row.value) if row is not None else get(key, store_id)
    if row is None:
        row = Setting(key=key, store_id=store_id)
        db.session.add(row)
    # A gateway password is encrypted at rest (services/secret_box.py).
    row.value = secret_box.encrypt(value) if key in SECRETS else value
    row.updated_by_id = getattr(user, "id", None)
    _forget_page_values()
    change = {"key": key} if secret else {"key": key, "old": old, "new": value}
    audit.record("setting.change", user=user, store_id=store_id, **change)
    if commit:
        db.session.commit()
    return True


def reset(key: str, *, user: Person | None = None, store_id: int) -> bool:
    """A store goes back to the chain's value."""
    row = db.session.scalar(select(Setting).where(Setting.key == key, Setting.store_id == store_id))
    if row is None:
        return False
    audit.record(
        "setting.reset",
        user=user,
        store_id=store_id,
        key=key,
        old=None if key in SECRETS else row.value,
    )
    db.session.delete(row)
    _forget_page_values()
    return True


# --- the SMS module, store by store -------------------------------------------------------


def sms_enabled(store_id: int | None) -> bool:
    """« Activer le module SMS »: head office's switch for a store (no store: head office,
    always allowed). With the « Liaison plate-forme de services » off nothing may be
    sent at all: that raises CampaignError with its own message (every sending asks here
    before anything is reserved)."""
    if not page_values()["platform_link"]:
        raise CampaignError(PLATFORM_OFF)
    if store_id is None:
        return True
    enabled = db.session.scalar(select(Store.sms_enabled).where(Store.id == store_id))
    return bool(enabled) if enabled is not None else True


def sending_off(
    store_ids: Iterable[int | None] = (), *, every_store: bool = False
) -> list[tuple[str, str | None]]:
    """What stops every SMS before anyone types a word (the screens' banners): [("platform",
    None)] when the « Liaison plate-forme de services » is off (nothing leaves, whatever
    the store), else ("module", store name) for each of these stores (every store for
    head office's overview) whose « Activer le module SMS » is off. One small query."""
    if not page_values()["platform_link"]:
        return [("platform", None)]
    ids = [i for i in store_ids if i is not None]
    if not ids and not every_store:
        return []
    query = select(Store.name).where(Store.sms_enabled.is_(False)).order_by(Store.name)
    if not every_store:
        query = query.where(Store.id.in_(ids))
    return [("module", name) for name in db.session.scalars(query)]


def set_sms_enabled(
    store_id: int, enabled: bool, *, user: Person | None = None, commit: bool = True
) -> bool:
    store = db.session.get(Store, store_id)
    if store is None or store.sms_enabled == bool(enabled):
        return False
    store.sms_enabled = bool(enabled)
    audit.record(
        "store.sms_enabled", user=user, store_id=store_id, obj=store, enabled=bool(enabled)
    )
    if commit:
        db.session.commit()
    return True


def gateway_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The deployment's configuration with what head office set in « Paramètres »: the
    gateway in service and its credentials (an empty setting keeps the configuration)."""
    values = page_values()
    merged = dict(config)
    if values["gateway"]:
        merged["SMS_GATEWAY"] = values["gateway"]
    for key, config_key in CONFIG_KEYS.items():
        if values[key]:
            merged[config_key] = values[key]
    return merged


# --- saving what a « Paramètres » tab checked -----------------------------------------------
#
# The screens read and check the fields (web/settings/forms.py, with settings_rules.clean,
# the rules a job, the CLI or the API use too); these write what was checked, all or
# nothing: one commit, each change audited.


def save(values: Mapping[str, Any], *, user: Person, store_id: int | None = None) -> int:
    """Write the values that differ from those in force (a store keeps following the
    chain for every value it did not change); returns how many changed."""
    current = get_many(list(values), store_id)
    changed = sum(
        put(key, value, user=user, store_id=store_id, commit=False)
        for key, value in values.items()
        if value != current[key]
    )
    db.session.commit()
    return changed


def save_stores(
    enabled: Container[int],
    *,
    stores: Iterable[Store],
    platform_link: bool,
    platform_entity: str,
    user: Person,
) -> int:
    """« Magasins »: the SMS module of each of `stores` (on for the ids in `enabled`) and
    the « Liaison plate-forme de services »."""
    changed = sum(
        set_sms_enabled(store.id, store.id in enabled, user=user, commit=False) for store in stores
    )
    return changed + save(
        {"platform_link": platform_link, "platform_entity": platform_entity}, user=user
    )


def save_gateway(
    values: Mapping[str, Any],
    *,
    secrets: Mapping[str, str],
    clear: Container[str],
    in_service: str,
    user: Person,
) -> int:
    """« Passerelle »: the gateway (written only when changed: an untouched one keeps
    following SMS_GATEWAY), its settings, and the secrets typed (blank keeps the one in
    force; a key in `clear` removes the stored one)."""
    values = dict(values)
    gateway = values.pop("gateway")
    changed = 0
    if gateway != in_service:
        changed += put("gateway", gateway, user=user, commit=False)
    for key in sorted(SECRETS):
        if secrets.get(key):
            changed += put(key, secrets[key], user=user, commit=False)
        elif key in clear:
            changed += put(key, "", user=user, commit=False)
    return changed + save(values, user=user)

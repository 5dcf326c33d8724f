"""« Paramètres »: chain-wide values, which a store may override for itself.

A key that nobody has set reads its default from DEFAULTS, so a new deployment
works without any configuration step.
"""

from sqlalchemy import select

from ..extensions import db
from ..models import Setting
from ..sms.stop import DEFAULT_SHORT_CODE
from . import audit

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
    # Per gateway: the outbox is our own table, a real operator link is throttled.
    "batch_size": {"outbox": 1000, "kannel": 100, "smpp": 100},
    "messages_per_second": {"outbox": 0, "kannel": 50, "smpp": 50},  # 0: no limit
    "low_credit_threshold": 500,
    "topup_email": "",
    # Repairs (SAV tab): « Prévenir les clients des retours atelier ».
    "workshop_return_mode": "proposed",  # none, proposed, imposed
    "workshop_return_message": (
        "Bonjour <GEN> <NOMPROPRE>, votre réparation <NUM> est disponible en magasin. "
        "Merci de vous munir de votre ticket pour venir récupérer votre article."
    ),
    "repair_reminder_days": 15,
}


def get(key, store_id=None):
    """The store's own value, else the chain's, else the default."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    rows = db.session.execute(
        select(Setting.store_id, Setting.value).where(
            Setting.key == key, (Setting.store_id == store_id) | Setting.store_id.is_(None)
        )
    ).all()
    values = {row.store_id: row.value for row in rows}
    if store_id is not None and store_id in values:
        return values[store_id]
    return values.get(None, DEFAULTS[key])


def put(key, value, *, user=None, store_id=None, secret=False):
    """Set a value and record who changed what; a secret's value never reaches the log."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    row = db.session.scalar(
        select(Setting).where(
            Setting.key == key,
            Setting.store_id.is_(None) if store_id is None else Setting.store_id == store_id,
        )
    )
    old = row.value if row is not None else DEFAULTS[key]
    if row is None:
        row = Setting(key=key, store_id=store_id)
        db.session.add(row)
    row.value = value
    row.updated_by_id = getattr(user, "id", None)
    change = {"key": key} if secret else {"key": key, "old": old, "new": value}
    audit.record("setting.change", user=user, store_id=store_id, **change)
    db.session.commit()
    return value

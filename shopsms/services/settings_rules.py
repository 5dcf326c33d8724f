"""« Paramètres »: what a person typed → the value to store, or a French message saying
what to fix. Pure: no database (services/settings.py stores and saves; the screens'
forms, web/settings/forms.py, check each field here)."""

import re
from datetime import time
from typing import Any, TypeAlias

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from .. import formats
from ..sms.sender import validate_sender_id

GATEWAYS = ("outbox", "kannel", "smpp")
PLATFORM_ENTITY_MAX = 60

# What a rule answers: "" when the value is fine, else what to fix (a lazy string).
Text: TypeAlias = "str | LazyString"

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _int(raw: object, low: int, high: int, label: object) -> tuple[int | None, Text]:
    try:
        value = int(str(raw).strip())
    except ValueError:
        return None, _l("%(label)s : saisissez un nombre entier.", label=label)
    if not low <= value <= high:
        return None, _l(
            "%(label)s : saisissez un nombre de %(low)s à %(high)s.",
            label=label,
            low=formats.number(low),
            high=formats.number(high),
        )
    return value, ""


# The settings typed as a whole number: lowest, highest, the label the error names.
WHOLE_NUMBERS = {
    "max_parts": (1, 10, _l("Parties par message")),
    "low_credit_threshold": (0, 10_000_000, _l("Seuil d'alerte")),
    "control_share": (0, 50, _l("Groupe témoin (%)")),
    "attribution_days": (1, 60, _l("Jours de mesure des résultats")),
    "pressure_max": (0, 50, _l("Pression marketing : SMS au plus")),
    "pressure_days": (1, 365, _l("Pression marketing : nombre de jours")),
    "receipt_wait_hours": (1, 720, _l("Attente des accusés de réception (heures)")),
    "repair_reminder_days": (1, 365, _l("Relance")),
}


def clean(key: str, raw: object) -> tuple[Any, Text]:
    """The value to store for what a person typed, or an error saying what to fix."""
    if key == "sending_days":
        return _days(raw if isinstance(raw, list) else str(raw or "").strip())
    # A one-value setting posted as a list (a doubled field) reads as nothing typed.
    raw = "" if isinstance(raw, list) else str(raw or "").strip()
    if key in WHOLE_NUMBERS:
        return _int(raw, *WHOLE_NUMBERS[key])
    if key == "sender_id":
        errors = validate_sender_id(raw)
        return (None, " ".join(map(formats.said, errors))) if errors else (raw, "")
    if key == "stop_short_code":
        if not re.fullmatch(r"\d{4,6}", raw):
            return None, _l("Numéro court STOP : de 4 à 6 chiffres, par exemple 36608.")
        return raw, ""
    if key in ("sending_start", "sending_end"):
        if not _TIME_RE.match(raw):
            return None, _l("Heure : saisissez-la au format HH:MM, par exemple 08:00.")
        return raw, ""
    if key == "topup_email":
        if raw and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", raw):
            return None, _l("E-mail pour les recharges : l'adresse n'est pas valide.")
        return raw, ""
    if key == "gateway":
        if raw not in GATEWAYS:
            return None, _l("Passerelle : choisissez Simulation, Kannel ou SMPP.")
        return raw, ""
    if key == "smpp_port":
        if not raw:
            return 0, ""
        return _int(raw, 1, 65535, _l("Port SMPP"))
    if key == "kannel_sendsms_url":
        if raw and not re.match(r"^https?://", raw):
            return None, _l("Adresse Kannel : elle commence par http:// ou https://.")
        return raw, ""
    if key == "platform_link":
        return raw in ("1", "on", "true", "y"), ""
    if key == "platform_entity":
        if len(raw) > PLATFORM_ENTITY_MAX:
            return None, _l(
                "Nom de l'entité : %(max)s caractères au plus (%(typed)s saisis).",
                max=PLATFORM_ENTITY_MAX,
                typed=len(raw),
            )
        return raw, ""
    return raw, ""


def _days(raw: list[Any] | str) -> tuple[list[int] | None, Text]:
    try:
        days = sorted({int(day) for day in raw})
    except (TypeError, ValueError):
        days = []
    if not days or any(not 0 <= day <= 6 for day in days):
        return None, _l("Jours d'envoi : cochez au moins un jour.")
    return days, ""


def check_window(start: str, end: str) -> Text:
    """The end of the sending hours comes after their start."""
    if time.fromisoformat(start) >= time.fromisoformat(end):
        return _l("Heures d'envoi : l'heure de fin doit venir après l'heure de début.")
    return ""


# The gateways' pace, set for each gateway: lowest, highest, the label the error names.
RATES = {
    "batch_size": (1, 10_000, _l("SMS par lot")),
    "messages_per_second": (0, 10_000, _l("SMS par seconde")),
}


def clean_rate(key: str, gateway: str, raw: object) -> tuple[int | None, Text]:
    """One gateway's `key` (batch_size, messages_per_second) for what a person typed."""
    low, high, label = RATES[key]
    return _int(raw, low, high, f"{label} ({gateway})")

"""Numbers, amounts, dates and times as the person's language writes them, through
Flask-Babel's formatters (CLDR): « 4 000 » and « 07/12/2026 14:30 » in French, « 4,000 »
and « 12/7/26, 2:30 PM » in English. The database holds naive UTC datetimes; Flask-Babel
shows them in BABEL_DEFAULT_TIMEZONE, Europe/Paris. Installed as Jinja filters by
`install`; the views use the same functions for their flash messages.

A value typed back into a form field (a date, a time, an amount) is not written here: the
date and time inputs take ISO values (`iso_date`, `iso_time`), an amount field takes
`amount_input` (no grouping, the language's decimal sign), which the parsers read."""

import json
from datetime import datetime

from babel import dates as babel_dates
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    gettext,
    to_user_timezone,
)

from .plurals import ngettext
from .sms.said import read

MONEY = "#,##0.00"


def _decimal(value, pattern=None):
    # French groups digits with CLDR's narrow no-break space; ShopSMS has always written
    # an ordinary space there (« 4 000 », as the SMS texts do), and French pages keep it.
    return format_decimal(value, format=pattern).replace("\u202f", " ")


def number(value):
    """A count or a figure: « 12 345 »; empty when unknown."""
    if value is None or value == "":
        return ""
    return _decimal(value)


def figure(value, digits=0):
    """A measured figure with `digits` decimals (a rate, an amount in a result): « 1 234,5 »;
    « — » when unknown (too few clients to tell)."""
    if value is None:
        return "—"
    return _decimal(value, "#,##0" + ("." + "0" * digits if digits else ""))


def money(value):
    """An amount with its two decimals and no currency sign: « 1 234,50 »."""
    if value is None or value == "":
        return ""
    return _decimal(value, MONEY)


def signed(value):
    """A change of a balance: « +5 000 », « -120 », « 0 »."""
    if not value:
        return "0"
    return _decimal(value, "+#,##0;-#,##0")


def amount_input(value):
    """An amount written back into a text field: « 1234,50 » (« 1234.50 » in English)."""
    if value is None or value == "":
        return ""
    return format_decimal(value, format="0.00")


def when(value):
    """A moment, date and hour: « 07/12/2026 14:30 »."""
    return format_datetime(value, "short") if value else ""


def when_seconds(value):
    """A moment to the second (heartbeats): « 07/12/2026 14:30:05 »."""
    if not value:
        return ""
    locale = get_locale()
    pattern = (
        str(babel_dates.get_datetime_format("short", locale=locale))
        .replace("{1}", babel_dates.get_date_format("short", locale=locale).pattern)
        .replace("{0}", babel_dates.get_time_format("medium", locale=locale).pattern)
    )
    return format_datetime(value, pattern)


def day(value):
    """The day of a moment (in Paris) or a date: « 07/12/2026 »."""
    return format_date(value, "short") if value else ""


def hour(value):
    """The hour of a moment, in Paris: « 14:30 »."""
    return format_time(value, "short") if value else ""


def _local(value):
    return to_user_timezone(value) if isinstance(value, datetime) else value


def iso_date(value):
    """The Paris day of a moment for an <input type="date">: « 2026-12-07 »."""
    if not value:
        return ""
    local = _local(value)
    return (local.date() if isinstance(local, datetime) else local).isoformat()


def iso_time(value):
    """The Paris hour of a moment for an <input type="time">: « 14:30 »."""
    return _local(value).strftime("%H:%M") if isinstance(value, datetime) else ""


def said(value):
    """A sentence in the person's language: one of the pure core (shopsms.sms.said), one
    stored by `keep`, or one stored as its French words that shopsms.sms.said.read knows
    again (an operator's reason on a message); any other value as it is."""
    if isinstance(value, str) and value.startswith(_KEPT):
        try:
            return _from_kept(json.loads(value))
        except (ValueError, KeyError, TypeError):
            return value
    if type(value) is str:
        value = read(value)
    msgid = getattr(value, "msgid", None)
    if msgid is None:
        return value
    # A value may be a sentence itself (« Connexion SMPP refusée : mot de passe »).
    return gettext(msgid, **{name: said(part) for name, part in value.variables.items()})


# What `keep` writes starts so; a note written as plain text never does.
_KEPT = '{"said": '


def keep(message, limit=200):
    """A sentence to store (a campaign's note, written by a job that has no reader) and
    say later in the reader's language with `said`: a sentence of the core (N_) or a
    lazy string, kept as its catalogue entry and values, a moment as a moment (shown by
    `when`). Any other text, or one that would not fit in `limit`, is kept as it is."""
    kept = _kept(message)
    if kept is None:
        return str(message)[:limit]
    text = json.dumps(kept, ensure_ascii=False)
    return text if len(text) <= limit else str(message)[:limit]


def _kept(message):
    msgid = getattr(message, "msgid", None)
    if msgid is not None:
        return {"said": msgid, "values": _kept_values(message.variables)}
    func, args = getattr(message, "_func", None), getattr(message, "_args", None)
    if func is None or not args:  # not a Flask-Babel lazy string
        return None
    values = _kept_values(message._kwargs)
    if getattr(func, "__name__", "") == "ngettext" and len(args) == 3:
        return {"said": args[0], "plural": args[1], "num": args[2], "values": values}
    return {"said": args[0], "values": values}


def _kept_values(variables):
    def one(value):
        if isinstance(value, datetime):
            return {"moment": value.isoformat()}
        nested = _kept(value)
        return {"sentence": nested} if nested is not None else value

    return {name: one(value) for name, value in (variables or {}).items()}


def _from_kept(kept):
    def one(value):
        if isinstance(value, dict) and "moment" in value:
            return when(datetime.fromisoformat(value["moment"]))
        if isinstance(value, dict) and "sentence" in value:
            return _from_kept(value["sentence"])
        return said(value) if isinstance(value, str) else value

    values = {name: one(value) for name, value in kept["values"].items()}
    if "plural" in kept:
        return ngettext(kept["said"], kept["plural"], kept["num"], **values)
    return gettext(kept["said"], **values)


FILTERS = {
    "said": said,
    "number": number,
    "money": money,
    "signed": signed,
    "amount_input": amount_input,
    "when": when,
    "when_seconds": when_seconds,
    "day": day,
    "hour": hour,
    "iso_date": iso_date,
    "iso_time": iso_time,
}


def install(app):
    app.jinja_env.filters.update(FILTERS)
    # The older name for a moment, kept as Babel's: `value|datetime` or `|datetime("short")`.
    app.jinja_env.filters["datetime"] = lambda value, fmt="short": (
        format_datetime(value, fmt) if value else ""
    )

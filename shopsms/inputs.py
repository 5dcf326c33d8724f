"""What any text or number typed, imported or posted to ShopSMS must be, whatever its way
in (a form, a query string, JSON, an imported cell): pure functions that need no request;
their messages are lazy strings, said in the person's language when shown.

Control characters are dropped (tab and line breaks kept where text may hold them); so
are bidi controls and zero-width characters, which can disguise a name and would switch
an SMS to the costlier Unicode. Integers stay inside what a database column holds."""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from . import formats

# The largest value of an INTEGER column (PostgreSQL's int4, used for every id and count).
INT_MAX = 2_147_483_647

# C0 controls but tab, line feed and carriage return; DEL and the C1 controls; the bidi
# embeddings, overrides, isolates and marks; zero-width spaces, joiners and the BOM.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_FORMAT = "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
_INVISIBLE = re.compile(f"[{_CONTROLS}{_FORMAT}]")
_FORMAT_ONLY = re.compile(f"[{_FORMAT}]")
_LINE_BREAKS = re.compile("[\t\r\n\u2028\u2029]")


def clean_text(value, *, multiline=True):
    """`value` without invisible and control characters (and, for a one-line field,
    with its tabs and line breaks turned into spaces)."""
    if not isinstance(value, str):
        return value
    value = _INVISIBLE.sub("", value)
    if not multiline:
        value = _LINE_BREAKS.sub(" ", value)
    return value


def strip_format(value):
    """`value` without bidi controls and zero-width characters (control characters are
    left for the caller to refuse)."""
    return _FORMAT_ONLY.sub("", value) if isinstance(value, str) else value


def has_invisible(value):
    return isinstance(value, str) and _INVISIBLE.search(value) is not None


def parse_int(raw, label, *, minimum=0, maximum=INT_MAX):
    """An integer typed in any script's digits, within [minimum, maximum]; raises
    ValueError with a French message saying what to type."""
    raw = (raw or "").strip().replace(" ", "").replace("\u00a0", "")
    try:
        number = int(raw)
    except ValueError:
        raise ValueError(_l("%(label)s : tapez un nombre entier.", label=label)) from None
    if number < minimum:
        raise ValueError(_l("%(label)s : %(minimum)s au moins.", label=label, minimum=minimum))
    if number > maximum:
        raise ValueError(
            _l("%(label)s : %(num)s au plus.", label=label, num=formats.number(maximum))
        )
    return number


def parse_amount(raw, label, *, maximum=Decimal("99999999.99")):
    """A euro amount (« 99,90 », « 1 500 € »): finite, not negative, two decimals."""
    raw = (raw or "").strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    message = _l("%(label)s : tapez un montant, par exemple 150 ou 99,90.", label=label)
    try:
        value = Decimal(raw.rstrip("€"))
    except InvalidOperation:
        raise ValueError(message) from None
    if not value.is_finite() or value < 0:
        raise ValueError(message)
    if value > maximum:
        raise ValueError(
            _l("%(label)s : %(amount)s € au plus.", label=label, amount=formats.money(maximum))
        )
    return value.quantize(Decimal("0.01"))


def ids(values):
    """The values that are ids (digits, within INT_MAX), in their order; others dropped."""
    found = []
    for value in values:
        value = (value or "").strip()
        if value.isdigit() and len(value) <= 10 and int(value) <= INT_MAX:
            found.append(int(value))
    return found

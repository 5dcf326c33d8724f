"""What any text or number typed, imported or posted to ShopSMS must be, whatever its way
in (a form, a query string, JSON, an imported cell): pure functions that need no request;
their messages are lazy strings, said in the person's language when shown.

Control characters are dropped (tab and line breaks kept where text may hold them); so
are bidi controls and zero-width characters, which can disguise a name and would switch
an SMS to the costlier Unicode. Integers stay inside what a database column holds."""

import re
from datetime import date, datetime
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


class AmountUnreadable(ValueError):
    """Not an amount. `ambiguous`: « 1.234 » or « 1,234 », a thousand or a decimal?
    `too_large`: a hundred million or more, whatever its sign."""

    def __init__(self, ambiguous=False, too_large=False, separators=False):
        super().__init__("ambiguous" if ambiguous else "too large" if too_large else "unreadable")
        self.ambiguous, self.too_large = ambiguous, too_large
        # The thousands and decimal marks did not fit (« 1.23,4 »), rather than the number.
        self.unreadable_number = not (ambiguous or separators)


_THOUSANDS = re.compile(r"-?\d{1,3}(?:[.,]\d{3})+")
_AMOUNT_NOISE = re.compile(r"[\s\u00a0\u202f€]")
AMOUNT_LIMIT = Decimal("100000000")


def read_amount(raw):
    """The one reading of an amount, for the forms, the import and the API: « 12,50 € »,
    « 12.5 », « 1 234,50 », « 1.234,50 », « 1,234.50 », « 1.234.567 », « -3 »; spaces of
    any kind and the euro sign are ignored. Two decimals (rounded half even, as Decimal
    does); None when nothing was typed. Raises AmountUnreadable, ambiguous for « 1.234 »
    (a thousand, or one euro twenty-three?). Whether it may be negative is the caller's."""
    cleaned = _AMOUNT_NOISE.sub("", raw or "")
    if not cleaned:
        return None
    separators = [char for char in cleaned if char in ",."]
    if len(set(separators)) == 2:  # 1.234,50 or 1,234.50: the last one is the decimal
        decimal_mark = separators[-1]
        whole, _, cents = cleaned.rpartition(decimal_mark)
        if not _THOUSANDS.fullmatch(whole) or decimal_mark in whole:
            raise AmountUnreadable(separators=True)
        cleaned = re.sub(r"[.,]", "", whole) + "." + cents
    elif len(separators) > 1:  # 1.234.567: thousands only
        if not _THOUSANDS.fullmatch(cleaned):
            raise AmountUnreadable(separators=True)
        cleaned = re.sub(r"[.,]", "", cleaned)
    elif separators and _THOUSANDS.fullmatch(cleaned):
        raise AmountUnreadable(ambiguous=True)
    else:
        cleaned = cleaned.replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise AmountUnreadable() from None
    if not amount.is_finite():
        raise AmountUnreadable()
    if abs(amount) >= AMOUNT_LIMIT:
        raise AmountUnreadable(too_large=True)
    return amount.quantize(Decimal("0.01"))


class DateUnreadable(ValueError):
    """Not a day between 1900 and 2100."""


_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)


def read_date(raw):
    """The one reading of a day, for the forms, the import and the API: « 31/12/2024 »
    (typed, or a point-of-sale export), « 2024-12-31 » (a date input, JSON), « 31-12-2024 »,
    « 31.12.2024 », « 31/12/24 »; a time after it (« 31/12/2024 10:30 ») is ignored. None
    when nothing was typed; DateUnreadable otherwise."""
    value = (raw or "").strip()
    if not value:
        return None
    head = value.split(" ")[0].split("T")[0]
    # The usual French form without strptime (a tenth of an import's parsing time).
    if (match := _DMY.fullmatch(head)) is not None:
        day_, month, year = map(int, match.groups())
        try:
            day = date(year, month, day_)
        except ValueError:
            pass
        else:
            if _FIRST_DAY <= day <= _LAST_DAY:
                return day
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(head, fmt).date()
        except ValueError:
            continue
        if not _FIRST_DAY <= day <= _LAST_DAY:
            break
        return day
    raise DateUnreadable(value)


def parse_amount(raw, label, *, maximum=Decimal("99999999.99")):
    """A euro amount typed in a form (« 99,90 », « 1 500 € », read by read_amount):
    not negative, two decimals; ValueError with the message to show."""
    message = _l("%(label)s : tapez un montant, par exemple 150 ou 99,90.", label=label)
    try:
        value = read_amount(raw)
    except AmountUnreadable as error:
        if not error.too_large or (raw or "").lstrip().startswith("-"):
            raise ValueError(message) from None
        value = AMOUNT_LIMIT
    if value is None or value < 0:
        raise ValueError(message)
    if value > maximum:
        raise ValueError(
            _l("%(label)s : %(amount)s € au plus.", label=label, amount=formats.money(maximum))
        )
    return value


def ids(values):
    """The values that are ids (digits, within INT_MAX), in their order; others dropped."""
    found = []
    for value in values:
        value = (value or "").strip()
        if value.isdigit() and len(value) <= 10 and int(value) <= INT_MAX:
            found.append(int(value))
    return found

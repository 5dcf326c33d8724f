"""« Clients »: the active search of the client list, one query per page.

What staff type at the counter: the start of a last or first name, a city, a postal
code, a client number, or part of a phone number written any way ("06 12 34",
"0612", "+33 6 12", "0033 6 12"). Several words must all match ("dupont biarritz").

Names, cities, postal codes and numbers are matched as prefixes with btree range
conditions (see listings.prefix), which the indexes on last_name, city, postal_code and
number serve. Phone digits are matched anywhere in a digits-only expression of tel1,
tel2 and sms_number: a LIKE '%…%' that no btree index serves, so it reads the client
rows of the store (staff) or of the chain (head office). That is a few milliseconds
for tens of thousands of clients; for millions, store the digits in their own column
with a trigram index (PostgreSQL pg_trgm, GIN) — a migration, not done here.
"""

import re
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from ..models import Client, Store
from ..sms import phones
from . import listings

# What people type between the digits of a phone number.
_PHONE_CHARS_RE = re.compile(r"[\d\s.\-+()/]+")
_SEPARATORS = (" ", ".", "-", "+", "(", ")", "/")
MIN_PHONE_DIGITS = 4  # fewer digits than that would match most of the file


@dataclass(frozen=True)
class ClientLine:
    id: int
    number: str
    last_name: str
    first_name: str
    city: str
    phone: str  # tel1 or else tel2, in display format
    sms_number: str | None  # display format
    no_sms_reason: str | None  # why there is none, in French
    store: str
    consent: str  # accepted, refused, unknown or refuses_all


def _digits_only(column):
    expression = column
    for separator in _SEPARATORS:
        expression = func.replace(expression, separator, "")
    return expression


def too_short_for_a_phone(text):
    """A phone being typed ("06 8") whose digits are still too few to be searched."""
    digits = re.sub(r"\D", "", text or "")
    return (
        bool(digits) and not re.search(r"[^\d\s.+()-]", text) and (len(digits) < MIN_PHONE_DIGITS)
    )


def phone_fragments(digits):
    """The digit strings to look for: as typed, and in the other French writing
    (0612… ↔ 33612…), so that "+33 6 12" finds "06 12 …" and "0612" finds "+33 6 12 …"."""
    found = [digits]
    if digits.startswith("0033"):
        found.append("0" + digits[4:])
    elif digits.startswith("33") and len(digits) > 3:
        found.append("0" + digits[2:])
    elif digits.startswith("0") and not digits.startswith("00") and len(digits) > 1:
        found.append("33" + digits[1:])
    return found


def _phone_condition(digits):
    conditions = []
    for fragment in phone_fragments(digits):
        pattern = f"%{fragment}%"
        conditions += [
            _digits_only(Client.tel1).like(pattern),
            _digits_only(Client.tel2).like(pattern),
            func.coalesce(Client.sms_number, "").like(pattern),
        ]
    return or_(*conditions)


def _digits_condition(text):
    digits = re.sub(r"\D", "", text)
    conditions = [listings.prefix(Client.number, digits, cases=False)]
    if len(digits) <= 5:
        conditions.append(listings.prefix(Client.postal_code, digits, cases=False))
    if len(digits) >= MIN_PHONE_DIGITS:
        conditions.append(_phone_condition(digits))
    return or_(*conditions)


def _word_condition(word):
    if _PHONE_CHARS_RE.fullmatch(word) and any(char.isdigit() for char in word):
        return _digits_condition(word)
    return or_(
        listings.prefix(Client.last_name, word),
        listings.prefix(Client.first_name, word),
        listings.prefix(Client.city, word),
        listings.prefix(Client.number, word),
        listings.prefix(Client.postal_code, word, cases=False),
    )


def condition(text):
    """The WHERE condition for what was typed, or None for an empty search."""
    text = " ".join((text or "").split())
    if not text:
        return None
    if _PHONE_CHARS_RE.fullmatch(text) and any(char.isdigit() for char in text):
        return _digits_condition(text)  # "06 12 34" is one number, not three words
    words = text.split(" ")
    every_word = and_(*(_word_condition(word) for word in words))
    if len(words) == 1:
        return every_word
    # "Le Gall", "De la Tour": a last name with spaces, typed as it is on the card.
    return or_(every_word, listings.prefix(Client.last_name, text))


def search(user, text="", *, page=1, per_page=listings.PER_PAGE):
    """The page of clients matching `text`, in name order, with the total of matches."""
    query = (
        select(Client, Store.name.label("store_name"))
        .join(Store, Store.id == Client.store_id)
        .order_by(Client.last_name, Client.first_name, Client.id)
    )
    where = condition(text)
    if where is not None:
        query = query.where(where)
    result = listings.paginate(listings.scoped(query, Client.store_id, user), page, per_page)
    lines = [_line(row.Client, row.store_name) for row in result.rows]
    return listings.Page(lines, result.number, result.per_page, result.total)


def _line(client, store_name):
    if client.sms_refuses_all:
        consent = "refuses_all"
    else:
        consent = client.sms_consent if client.sms_consent in ("accepted", "refused") else "unknown"
    return ClientLine(
        id=client.id,
        number=client.number,
        last_name=client.last_name,
        first_name=client.first_name,
        city=client.city,
        phone=phones.display(client.tel1 or client.tel2),
        sms_number=phones.display(client.sms_number) if client.sms_number else None,
        no_sms_reason=None if client.sms_number else phones.no_sms_reason(client.tel1, client.tel2),
        store=store_name,
        consent=consent,
    )

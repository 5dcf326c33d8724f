"""« Clients »: the active search of the client list, one query per page.

What staff type at the counter: the start of a last or first name, a city, a postal
code, a client number, or part of a phone number written any way ("06 12 34",
"0612", "+33 6 12", "0033 6 12"). Several words must all match ("dupont biarritz").

Names are matched in `search_name` (services.client_fields.search_name: without accents, in
capitals, every word of the names plus the last name run together), so "le gall",
"LE GALL", "legall" and "gall" find « Le Gall », "leveque" finds « LÉVÊQUE » and
"jean-pierre" finds « Jean-Pierre ». A typed word matches the start of the column or
of one of its words: on PostgreSQL both are LIKEs served by a pg_trgm GIN index; on
SQLite the first is a btree range and the second an `id IN (…)` over that one narrow
column. Cities, postal codes and numbers are matched as prefixes with btree range
conditions (see listings.prefix). Phone digits are matched anywhere in `phone_digits`
(tel1 and tel2 as digits, national and international forms) the same two ways.

Five bare digits ("64200") are a postal code or a client number, not a phone: a phone
is searched from five digits only when typed with a separator or a prefix ("64 200",
"+33 6", "0033 6") or with four or six digits and more.

A search of one or two letters ("d", "Du") is the start of a last name: the clients
whose last name begins with them (in capitals, in proper case, as typed, with or without
an accent on the first letter), read in name order along the name index, so that it
costs the same at a million clients as at a thousand; a trigram cannot serve a word that
short, and every word of every name starting with « d » is most of the file.

A short search can match most of a million clients: the list counts at most a thousand
matches beyond the page shown ("plus de 1 000 clients") rather than all.
bench/client_search.py measures it.
"""

import re
from dataclasses import dataclass

from sqlalchemy import and_, false, func, or_, select, union
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.util import ClauseAdapter

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Client, Store
from ..sms import phones
from . import listings
from .client_fields import name_words

SHORT_NAME = 2  # letters: a search this short is the start of a last name
# The accented letters a French last name starts with, by the letter typed without its
# accent: "et" finds « Étchegaray » as the longer searches do through search_name.
_ACCENTED = {"A": "ÀÂÄ", "C": "Ç", "E": "ÉÈÊË", "I": "ÎÏ", "O": "ÔÖ", "U": "ÙÛÜ", "Y": "Ÿ"}
_ACCENTED |= {letter.lower(): forms.lower() for letter, forms in _ACCENTED.items()}

# What people type between the digits of a phone number.
_PHONE_CHARS_RE = re.compile(r"[\d\s.\-+()/]+")
MIN_PHONE_DIGITS = 4  # fewer digits than that would match most of the file
COUNT_CAP = 1000  # matches counted at most (beyond the next page)


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


def too_short_for_a_phone(text: str) -> bool:
    """A phone being typed ("06 8") whose digits are still too few to be searched."""
    digits = re.sub(r"\D", "", text or "")
    return (
        bool(digits) and not re.search(r"[^\d\s.+()-]", text) and (len(digits) < MIN_PHONE_DIGITS)
    )


def phone_fragment(digits: str) -> str:
    """The digits to look for in phone_digits, which holds every number in its national
    ("0612…") and international ("33612…") forms: "0612" and "+33 6 12" are found as
    typed; only the international call prefix of "0033 6 12" has to go. One LIKE."""
    if digits.startswith("00") and len(digits) > 2:
        return digits[2:]
    return digits


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _phone_condition(digits: str) -> ColumnElement[bool]:
    matches = Client.phone_digits.like(f"%{phone_fragment(digits)}%")
    if _postgresql():
        return matches  # the trigram index serves it as it is
    # A subquery that needs only phone_digits and the rowid: a covering index scan.
    return Client.id.in_(select(Client.id).where(matches))


def _digits_condition(text: str) -> ColumnElement[bool]:
    digits = re.sub(r"\D", "", text)
    conditions = [listings.prefix(Client.number, digits, cases=False)]
    if len(digits) <= 5:
        conditions.append(listings.prefix(Client.postal_code, digits, cases=False))
    # "64200" typed as it is: a postal code (or a client number), not a phone.
    bare_postal_code = len(digits) == 5 and text.strip() == digits
    if len(digits) >= MIN_PHONE_DIGITS and not bare_postal_code:
        conditions.append(_phone_condition(digits))
    return or_(*conditions)


def _name_condition(word: str) -> ColumnElement[bool]:
    """A normalised word ("GALL") starts the search name or one of its words."""
    if _postgresql():
        return or_(Client.search_name.like(f"{word}%"), Client.search_name.like(f"% {word}%"))
    inner = Client.id.in_(select(Client.id).where(Client.search_name.like(f"% {word}%")))
    return or_(listings.prefix(Client.search_name, word, cases=False), inner)


def _word_condition(word: str) -> ColumnElement[bool]:
    if _PHONE_CHARS_RE.fullmatch(word) and any(char.isdigit() for char in word):
        return _digits_condition(word)
    # "jean-pierre", "o'neil": each part must start a word of the name.
    names = [_name_condition(part) for part in name_words(word)]
    return or_(
        and_(*names) if names else false(),
        # Rows written in bulk before their search_name was filled are still found by
        # the start of their names as typed (imports and the demo: see clients.py).
        listings.prefix(Client.last_name, word),
        listings.prefix(Client.first_name, word),
        listings.prefix(Client.city, word),
        listings.prefix(Client.number, word),
        listings.prefix(Client.postal_code, word, cases=False),
    )


def condition(text: str | None) -> ColumnElement[bool] | None:
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
    return or_(every_word, listings.prefix(Client.last_name, text))  # the same, in bulk rows


# A postal code or the start of one ("64200", "64") matches a good share of the file,
# spread over the names: its first matches in name order are among the first WINDOW
# clients of the name index. (A letter's are not: the first names of the index start
# with A, and the matches of "d" there are only first names.)
WINDOW = 20_000


def _dense(text: str | None) -> bool:
    """A search likely to match one client in twenty or more, whatever their names."""
    typed = "".join((text or "").split())
    return typed.isdigit() and (len(typed) <= 3 or len(typed) == 5)  # not a phone (4 digits)


def _in_index_order(user: Person, where: ColumnElement[bool] | None, cap: int) -> list[int] | None:
    """The ids of the first cap + 1 matches in name order, read along the name index
    (ix_clients_name, or ix_clients_store_name for a store): the whole list, or a short
    search's matches among the first WINDOW clients. None when that window holds too
    few of them to fill the list (the search is not that common): then the matches are
    found by their own indexes and sorted (search())."""
    order = (Client.last_name, Client.first_name, Client.id)
    if where is None:
        first = access.scoped(select(Client.id).order_by(*order), Client.store_id, user)
        return list(db.session.scalars(first.limit(cap + 1)))
    # The window's rows whole, the condition put on them: a LIMIT is a fence no
    # planner looks through, so the matches are never gathered from the whole file.
    window = access.scoped(
        select(*Client.__table__.c).order_by(*order).limit(WINDOW), Client.store_id, user
    ).subquery()
    found = list(
        db.session.scalars(
            select(window.c.id)
            .where(ClauseAdapter(window).traverse(where))
            .order_by(window.c.last_name, window.c.first_name, window.c.id)
            .limit(cap + 1)
        )
    )
    return found if len(found) > cap else None


def _short_name(text: str | None) -> str | None:
    """The letters of a search of one or two letters ("d", "Du"), else None."""
    typed = "".join((text or "").split())
    return typed if 0 < len(typed) <= SHORT_NAME and typed.isalpha() else None


def _by_last_name(user: Person, letters: str, cap: int) -> list[int]:
    """The ids of the first cap + 1 clients whose last name starts with `letters`, in
    name order: one ordered range of the name index (ix_clients_name, or
    ix_clients_store_name for a store) per way of writing them, each stopped at cap + 1
    rows, merged. Ranges, not LIKE: served whatever the collation, on both databases."""
    order = (Client.last_name, Client.first_name, Client.id)
    ways = {letters, letters.upper(), letters.capitalize(), letters.lower()}
    folded = "".join(name_words(letters))  # "é" → "E"
    ways |= {
        accented + way[1:]
        for way in ways | {folded, folded.lower()}
        if way
        for accented in _ACCENTED.get(way[0], "")
    }
    ways.add(folded)
    ranges = []
    for way in sorted(way for way in ways if way):
        one = access.scoped(
            select(*order)
            .where(Client.last_name >= way, Client.last_name < listings.bump(way))
            .order_by(*order)
            .limit(cap + 1),
            Client.store_id,
            user,
        ).subquery()
        ranges.append(select(*one.c))
    found = union(*ranges).subquery()
    return list(
        db.session.scalars(
            select(found.c.id)
            .order_by(found.c.last_name, found.c.first_name, found.c.id)
            .limit(cap + 1)
        )
    )


def search(
    user: Person, text: str = "", *, page: int = 1, per_page: int = listings.PER_PAGE
) -> "CappedPage":
    """The page of clients matching `text`, in name order, with the total of matches."""
    where = condition(text)
    order = (Client.last_name, Client.first_name, Client.id)
    page = max(1, page)
    cap = max(COUNT_CAP, (page + 1) * per_page)
    ids = None
    letters = _short_name(text)
    if letters:
        ids = _by_last_name(user, letters, cap)
    elif where is None or _dense(text):
        ids = _in_index_order(user, where, cap)
    if ids is not None:
        shown = ids[(page - 1) * per_page : page * per_page]
        rows = db.session.execute(
            select(Client, Store.name.label("store_name"))
            .join(Store, Store.id == Client.store_id)
            .where(Client.id.in_(shown))
            .order_by(*order)
        ).all()
        lines = [_line(row.Client, row.store_name) for row in rows]
        return CappedPage(lines, page, per_page, min(len(ids), cap), len(ids) > cap)
    # Narrow rows (the sort keys and the id) up to the cap, then the count and the page
    # from those, before the page's 50 whole rows are read.
    # Sorting on an expression, not the column: otherwise both databases walk the name
    # index in order to skip the sort and read rows one by one until `cap` match, which
    # for a rare prefix, or a store's staff, is most of the table (seconds at a million
    # clients). This way the matches come from the indexes (an OR of ranges, the phone
    # digits' trigrams) and only they are sorted. bench/client_search.py measures both.
    last_name = Client.last_name + ""
    keys = (last_name.label("sort_name"), Client.first_name, Client.id)
    matches = select(*keys).order_by(*keys)
    if where is not None:
        matches = matches.where(where)
    matches = access.scoped(matches, Client.store_id, user).limit(cap + 1).subquery()
    on_page = (
        select(matches.c.id, func.count().over().label("total_matches"))
        .order_by(matches.c.sort_name, matches.c.first_name, matches.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery()
    )
    rows = db.session.execute(
        select(Client, Store.name.label("store_name"), on_page.c.total_matches)
        .join(on_page, on_page.c.id == Client.id)
        .join(Store, Store.id == Client.store_id)
        .order_by(*order)
    ).all()
    if rows:
        total = rows[0].total_matches
    elif page > 1:  # past the end of a list that shrank: say how many there are
        total = db.session.scalar(select(func.count()).select_from(matches))
    else:
        total = 0
    lines = [_line(row.Client, row.store_name) for row in rows]
    return CappedPage(lines, page, per_page, min(total, cap), total > cap)


@dataclass(frozen=True)
class CappedPage(listings.Page):
    more: bool = False  # there are more than `total` matches

    @property
    def has_next(self) -> bool:
        return self.more or self.number * self.per_page < self.total


def _line(client: Client, store_name: str) -> ClientLine:
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

"""A client card's derived columns: the SMS number (Tél1 or Tél2, whichever is a mobile:
the seed's rule, decided by sms/phones.py), the digits the phone search reads, the
search name and the city's key the selection's « Ville » compares.

Anything that writes tel1/tel2 or the names (forms, import, API, demo) sets them through
`derived_fields` (or `phone_fields` for the phones alone), so that the SMS number and the
search never drift from the card. The ORM listeners below do it for objects; a bulk
INSERT/UPDATE through Core bypasses them and must merge those values in.

Below every service and the selection (they read these rules without importing the
client card's service)."""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers
from sqlalchemy import Connection, event, inspect
from sqlalchemy.orm import InstanceState, Mapper

from ..models import Client
from ..sms import phones

# The SMS core decides what a number is (phones.classify: one place for the parsing
# rules, including "O6…" typed with a letter O being invalid, not guessed).
classify = phones.classify


def _digit_forms(phone: phones.PhoneClass) -> list[str]:
    """The digit strings one number is found by: as typed, international (E.164 without
    +) and national ("06…") when it parses."""
    forms = []
    if phone.e164:
        international = phone.e164[1:]
        forms.append(international)
        if international.startswith("33"):
            forms.append("0" + international[2:])
        else:  # overseas and foreign numbers are also typed the domestic way
            forms.append("0" + _national_significant(phone.e164))
    typed = re.sub(r"\D", "", phone.raw)
    if typed and typed not in forms:
        forms.append(typed)
    return forms


def _national_significant(e164: str) -> str:
    return phonenumbers.national_significant_number(phonenumbers.parse(e164))


def _digits_of(classified: Iterable[phones.PhoneClass]) -> str:
    found = []
    for phone in classified:
        for form in _digit_forms(phone):
            if form not in found:
                found.append(form)
    return " ".join(found)[:120]


def phone_digits(tel1: str | None, tel2: str | None) -> str:
    return _digits_of([classify(tel1), classify(tel2)])


def phone_fields(tel1: str | None, tel2: str | None) -> dict[str, str | None]:
    """The columns derived from tel1/tel2: where an SMS goes (tel1 if a mobile, else
    tel2: the seed's rule), and what the phone search reads."""
    classified = [classify(tel1), classify(tel2)]
    return {"sms_number": phones.first_mobile(classified), "phone_digits": _digits_of(classified)}


def name_words(text: str | None) -> list[str]:
    """ "Lévêque" → ["LEVEQUE"], "Le Gall" → ["LE", "GALL"], "O'Neil" → ["O", "NEIL"]:
    without accents, in capitals, split on anything that is not a letter or a digit."""
    return list(_name_words(text or ""))


@lru_cache(maxsize=16384)
def _name_words(text: str) -> tuple[str, ...]:
    # Cached: an import derives the names of a million clients, most of them repeated.
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).upper()
    text = text.replace("Œ", "OE").replace("Æ", "AE").replace("ß", "SS")
    return tuple(_WORD.findall(text))


_WORD = re.compile(r"[A-Z0-9]+")


def search_name(last_name: str | None, first_name: str | None) -> str:
    """What the name search reads: the last name run together ("LEGALL", so that it sorts
    and is found as typed with or without its space), then every word of the last and
    first names, and the first name run together ("JEANPIERRE")."""
    last, first = name_words(last_name), name_words(first_name)
    tokens = []
    for token in ("".join(last), *last, "".join(first), *first):
        if token and token not in tokens:
            tokens.append(token)
    return " ".join(tokens)[:200]


def city_key(city: str | None) -> str:
    """What the selection's « Ville » compares: "Mérignac", "MERIGNAC " and "merignac"
    → "MERIGNAC"; "Neuilly-sur-Seine" and "Neuilly sur Seine" → "NEUILLYSURSEINE"."""
    return "".join(name_words(city))[:80]


def derived_fields(
    tel1: str | None,
    tel2: str | None,
    last_name: str | None,
    first_name: str | None,
    city: str | None = None,
) -> dict[str, str | None]:
    """Every derived column of a client, for bulk writes that bypass the ORM listener
    (the city's key when the city is given)."""
    out = phone_fields(tel1, tel2) | {"search_name": search_name(last_name, first_name)}
    if city is not None:
        out["city_key"] = city_key(city)
    return out


def _changed(client: Client, *names: str) -> bool:
    state: InstanceState[Client] = inspect(client)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Client, "before_insert")
def _derive_on_insert(mapper: Mapper[Client], connection: Connection, client: Client) -> None:
    # A Client written through the ORM without derived_fields (an older caller, a test
    # fixture) still gets its SMS number and is still found.
    for name, value in derived_fields(
        client.tel1, client.tel2, client.last_name, client.first_name, client.city or ""
    ).items():
        setattr(client, name, value)


@event.listens_for(Client, "before_update")
def _derive_on_update(mapper: Mapper[Client], connection: Connection, client: Client) -> None:
    # Only what the change touches: other columns (a consent, an SMS number set on
    # purpose by a test of duplicates) are left as they are.
    if _changed(client, "tel1", "tel2"):
        for name, value in phone_fields(client.tel1, client.tel2).items():
            setattr(client, name, value)
    if _changed(client, "last_name", "first_name"):
        client.search_name = search_name(client.last_name, client.first_name)
    if _changed(client, "city"):
        client.city_key = city_key(client.city)

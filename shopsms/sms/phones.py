"""Phone numbers from client cards: which one an SMS goes to, and why none when none.

Client files hold numbers typed by hand for years: "06 12 34 56 78", "06.12.34.56.78",
"+33 6…", "0033 6…", overseas numbers written the domestic way ("0690 12 34 56").
Every check goes through `classify`, so that parsing rules live in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType

from .said import N_

EMPTY = "empty"
INVALID = "invalid"
LANDLINE = "landline"
MOBILE = "mobile"

# Overseas departments share the French domestic dialling plan ("0690…" dialled from
# Paris reaches Guadeloupe) but have their own country codes, so phonenumbers reads
# "0690 12 34 56" with region FR as an invalid metropolitan number.
_OVERSEAS = {"FR": ("GP", "MQ", "GF", "RE", "YT")}

_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


@dataclass(frozen=True)
class PhoneClass:
    kind: str  # EMPTY, INVALID, LANDLINE (any valid non-mobile number) or MOBILE
    e164: str | None  # set for LANDLINE and MOBILE
    region: str | None  # region of the number ("FR", "GP", "BE"…), when valid
    raw: str  # the input, stripped


# The fast path: most numbers in a French client file are metropolitan mobiles written
# one of a few ways. Parsing them with phonenumbers is two thirds of an import's time;
# checking them against phonenumbers' own metadata gives the same answer (a property
# test compares both paths).
_SEPARATORS = re.compile(r"[\s.\-]")
_FRENCH_FORMS = re.compile(r"(?:\+33|0033|0)(\d{9})")
_LETTERS = re.compile(r"[^\W\d_]")


def _fast_patterns() -> tuple[re.Pattern, list[re.Pattern]]:
    metadata = PhoneMetadata.metadata_for_region("FR")
    assert metadata is not None and metadata.mobile is not None
    assert metadata.mobile.national_number_pattern is not None  # France has mobiles
    mobile = re.compile(metadata.mobile.national_number_pattern)
    # Types phonenumbers checks before "mobile": a number matching one of them is not
    # classified by the fast path.
    before = (
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
    )
    others = [
        re.compile(desc.national_number_pattern)
        for desc in before
        if desc is not None and desc.national_number_pattern
    ]
    return mobile, others


_FR_MOBILE, _FR_OTHERS = _fast_patterns()


def _fast_french_mobile(text: str) -> str | None:
    """ "+33" and the 9 digits when `text` is plainly a metropolitan mobile, else None."""
    match = _FRENCH_FORMS.fullmatch(_SEPARATORS.sub("", text))
    if match is None:
        return None
    digits = match.group(1)
    if not _FR_MOBILE.fullmatch(digits) or any(p.fullmatch(digits) for p in _FR_OTHERS):
        return None
    return "+33" + digits


@lru_cache(maxsize=8192)
def classify(raw: str | None, region: str = "FR") -> PhoneClass:
    text = (raw or "").strip()
    if not text:
        return PhoneClass(EMPTY, None, None, text)
    if _LETTERS.search(text):
        # phonenumbers reads letters as a keypad would ("O6…" → "66…"); at the counter a
        # letter is a typo (an O for a zero), and a guess could text a stranger.
        return PhoneClass(INVALID, None, None, text)
    if region == "FR" and (e164 := _fast_french_mobile(text)) is not None:
        return PhoneClass(MOBILE, e164, "FR", text)
    return _classify_slow(text, region)


def _classify_slow(text: str, region: str) -> PhoneClass:
    number = _parse_valid(text, region)
    if number is None:
        return PhoneClass(INVALID, None, None, text)
    kind = MOBILE if phonenumbers.number_type(number) in _MOBILE_TYPES else LANDLINE
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return PhoneClass(kind, e164, phonenumbers.region_code_for_number(number), text)


@cache
def _overseas_pattern(overseas: str) -> re.Pattern:
    """The national numbers of every region sharing `overseas`'s country code (+590 is
    Guadeloupe, Saint-Barthélemy and Saint-Martin): a quick no before a parse."""
    code = phonenumbers.country_code_for_region(overseas)
    patterns = []
    for other in phonenumbers.region_codes_for_country_code(code):
        metadata = PhoneMetadata.metadata_for_region(other)
        # Every region of a country code has its metadata and its national pattern.
        assert metadata is not None and metadata.general_desc is not None
        patterns.append(metadata.general_desc.national_number_pattern)
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def _parse_valid(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if phonenumbers.is_valid_number(number):
        return number
    # Not valid as read: maybe an overseas number written as a domestic one, or with
    # the metropolitan +33 prefix ("+33 690…" does not exist, "+590 690…" does).
    if number.country_code != phonenumbers.country_code_for_region(region):
        return None
    national = "0" + phonenumbers.national_significant_number(number)
    for overseas in _OVERSEAS.get(region, ()):
        if national[1] != "0" and not _overseas_pattern(overseas).fullmatch(national[1:]):
            continue  # no number of that country code looks like it: parsing can only fail
        try:
            candidate = phonenumbers.parse(national, overseas)
        except NumberParseException:
            continue
        # Only a number of that overseas region: "0" + "049…" would otherwise read as the
        # international prefix 00 and turn a French typo into a German or Tokelau number.
        own_code = phonenumbers.country_code_for_region(overseas)
        if candidate.country_code == own_code and phonenumbers.is_valid_number(candidate):
            return candidate
    return None


def first_mobile(phones: Iterable[PhoneClass]) -> str | None:
    """Where an SMS goes, the one rule: the first of the card's numbers (Tél. 1, then
    Tél. 2) that is a mobile, in E.164; None when neither is."""
    return next((phone.e164 for phone in phones if phone.kind == MOBILE), None)


def sms_number(tel1: str | None, tel2: str | None, region: str = "FR") -> str | None:
    """The E.164 mobile an SMS goes to: tel1 if it is a mobile, else tel2, else None."""
    return first_mobile(classify(raw, region) for raw in (tel1, tel2))


def no_sms_reason(tel1: str | None, tel2: str | None, region: str = "FR") -> str | None:
    """None when the client has an SMS number, else what to fix on the card."""
    phones = [classify(raw, region) for raw in (tel1, tel2)]
    if any(phone.kind == MOBILE for phone in phones):
        return None
    # A mistyped number is the most useful to report: fixing it may give a mobile.
    for phone in phones:
        if phone.kind == INVALID:
            return N_("Numéro invalide : %(number)s", number=phone.raw)
    for phone in phones:
        if phone.kind == LANDLINE:
            return N_(
                "Numéro fixe, pas un portable : %(number)s", number=display(phone.raw, region)
            )
    return N_("Aucun numéro de téléphone")


def display(number_or_raw: str | None, region: str = "FR") -> str:
    """Human format: national ("06 12 34 56 78") for numbers of `region`,
    international ("+590 690 12 34 56") otherwise, the input itself if not a number."""
    phone = classify(number_or_raw, region)
    if phone.e164 is None:
        return number_or_raw or ""
    number = phonenumbers.parse(phone.e164)
    national = phone.region == region
    style = PhoneNumberFormat.NATIONAL if national else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


# A metropolitan mobile as stored (E.164) and its national form in pairs: what
# `display` gives for it, without parsing (exports write one per row, 1,000,000 rows).
# Overseas numbers are stored under their own country codes (+590, +262…).
FRENCH_E164 = re.compile(r"\+33([67])(\d\d)(\d\d)(\d\d)(\d\d)", re.ASCII)
FRENCH_NATIONAL = r"0\1 \2 \3 \4 \5"


def display_stored(e164: str | None) -> str:
    """A stored E.164 number for a file people read: a metropolitan mobile in the national
    form (« 06 12 34 56 78 »), any other as stored (« +590690123456 »). Costs one regular
    expression; exports on PostgreSQL apply the same expression in SQL."""
    if not e164:
        return ""
    return FRENCH_E164.sub(FRENCH_NATIONAL, e164) if FRENCH_E164.fullmatch(e164) else e164

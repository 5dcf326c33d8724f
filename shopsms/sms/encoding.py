"""GSM 03.38 / UCS-2 analysis: which alphabet a text needs, how many parts it takes.

Operators bill per part, so the counts here must match what a gateway really sends:
a part never splits a GSM escape pair (extension characters cost two septets) nor a
UTF-16 surrogate pair (an emoji costs two UCS-2 units).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

GSM_7 = "GSM-7"
UCS_2 = "UCS-2"

# GSM 03.38 basic table, row by row (0x00-0x7F), without ESC (0x1B) which only
# introduces an extension character and can never be sent on its own.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039eÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each of these is sent as ESC + code, hence two septets.
GSM_EXTENSION = "\x0c^{}\\[~]|€"

SINGLE_GSM, MULTI_GSM = 160, 153
SINGLE_UCS2, MULTI_UCS2 = 70, 67

_NON_GSM_RE = re.compile("[^" + re.escape(GSM_BASIC + GSM_EXTENSION) + "]")
_EXTENSION_RE = re.compile("[" + re.escape(GSM_EXTENSION) + "]")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Analysis:
    encoding: str  # GSM_7 or UCS_2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # capacity of one part: 160/153 or 70/67
    non_gsm: tuple[str, ...]  # characters that forced UCS-2, first appearance order


def is_gsm(text: str) -> bool:
    return _NON_GSM_RE.search(text) is None


def analyze(text: str) -> Analysis:
    encoding, units, starts, non_gsm = _plan(text)
    return Analysis(
        encoding=encoding,
        units=units,
        segments=len(starts),
        per_segment=_per_segment(encoding, len(starts)),
        non_gsm=non_gsm,
    )


def measure(text: str) -> tuple[str, int, int]:
    """(encoding, units, segments): analyze() without the dataclass, for bulk costing."""
    encoding, units, starts, _ = _plan(text, with_non_gsm=False)
    return encoding, units, len(starts)


def split(text: str) -> list[str]:
    """The parts the text is sent as; "".join(split(text)) == text."""
    starts = _plan(text, with_non_gsm=False)[2]
    ends = [*starts[1:], len(text)] if starts else []
    return [text[start:end] for start, end in zip(starts, ends, strict=True)]


def capacity(encoding: str, parts: int) -> int:
    """Units that `parts` parts can hold at most (escape/surrogate pairs aside)."""
    if parts <= 0:
        return 0
    return _per_segment(encoding, parts) * parts


def _per_segment(encoding: str, parts: int) -> int:
    if encoding == GSM_7:
        return SINGLE_GSM if parts <= 1 else MULTI_GSM
    return SINGLE_UCS2 if parts <= 1 else MULTI_UCS2


def _plan(text: str, with_non_gsm: bool = True) -> tuple[str, int, Sequence[int], tuple]:
    """Encoding, units, where each part starts, and the characters that forced UCS-2:
    segment counts and split() come from this one cutting rule."""
    if not text:
        return GSM_7, 0, (), ()
    non_gsm: tuple[str, ...] = ()
    if _NON_GSM_RE.search(text) is None:
        encoding, double, single, multi = GSM_7, _EXTENSION_RE, SINGLE_GSM, MULTI_GSM
    else:
        encoding, double, single, multi = UCS_2, _ASTRAL_RE, SINGLE_UCS2, MULTI_UCS2
        if with_non_gsm:
            non_gsm = tuple(dict.fromkeys(_NON_GSM_RE.findall(text)))
    # "Double" characters cost two units: GSM escape pairs, UTF-16 surrogate pairs.
    units = len(text) + len(double.findall(text))
    if units <= single:
        return encoding, units, (0,), non_gsm
    doubles = [match.start() for match in double.finditer(text)]
    return encoding, units, _part_starts(text, doubles, multi), non_gsm


def _part_starts(text: str, doubles: list[int], limit: int) -> Sequence[int]:
    """Cut into parts of at most `limit` units, a double character never cut in two:
    when it does not fit, it moves whole to the next part and one unit stays unused."""
    if not doubles:
        return range(0, len(text), limit)
    starts, start = [], 0
    while start < len(text):
        starts.append(start)
        start = _part_end(text, doubles, start, limit)
    return starts


def _part_end(text: str, doubles: list[int], start: int, limit: int) -> int:
    """The furthest end such that text[start:end] costs at most `limit` units."""
    seen = 0  # double characters already in this part
    for index in range(bisect_left(doubles, start), len(doubles)):
        position = doubles[index]
        used = position - start + seen  # units before this double character
        if used + 2 > limit:
            # Full before it, or a single unit left that cannot hold the pair.
            return min(position, start + limit - seen)
        seen += 1
    return min(len(text), start + limit - seen)


# Closest GSM-7 equivalents for characters that French (and pasted) texts often carry.
# Anything not listed goes through NFKD (accents dropped), then "?".
_REPLACEMENTS = {
    # French letters outside the basic table
    "À": "A",
    "Â": "A",
    "â": "a",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "ê": "e",
    "ë": "e",
    "Î": "I",
    "Ï": "I",
    "î": "i",
    "ï": "i",
    "Ô": "O",
    "ô": "o",
    "Ù": "U",
    "Û": "U",
    "û": "u",
    "Ÿ": "Y",
    "ÿ": "y",
    "ç": "c",
    "œ": "oe",
    "Œ": "OE",
    # Typography (word processors, smartphones)
    "\u2019": "'",  # ’
    "\u2018": "'",  # ‘
    "\u201a": "'",  # ‚
    "\u201b": "'",
    "\u2032": "'",  # ′
    "`": "'",
    "\u00b4": "'",  # ´
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u2039": '"',  # ‹
    "\u203a": '"',  # ›
    "\u2033": '"',  # ″
    "\u2026": "...",  # …
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2015": "-",
    "\u2212": "-",  # minus sign
    "\u2022": "-",  # bullet
    "\u00b7": ".",  # middle dot
    "\u2044": "/",  # fraction slash (NFKD of ½ uses it)
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space (French « : ; ! ? »)
    "\u2007": " ",  # figure space
    "\t": " ",
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
    "\u00b0": "o",  # n° -> no
    "\u00d7": "x",
    "\u00f7": "/",
    "\u00a9": "(C)",
    "\u00ae": "(R)",
    "\u2122": "TM",
}


def to_gsm(text: str) -> str:
    """Replace every non-GSM character by its closest GSM-7 equivalent.

    GSM characters are left untouched, and the result is always GSM-7.
    """
    if is_gsm(text):
        return text
    # Decomposed accents (pasted from macOS) recompose first: "e" + U+0301 is "é", in table.
    text = unicodedata.normalize("NFC", text)
    return _NON_GSM_RE.sub(lambda match: _gsm_equivalent(match.group()), text)


def _gsm_equivalent(char: str) -> str:
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    category = unicodedata.category(char)
    # Invisible characters (zero-width space, soft hyphen, emoji joiners and
    # variation selectors, stray combining marks) carry no text: drop them.
    if category in ("Cf", "Mn", "Me"):
        return ""
    if category == "Zs":
        return " "
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed != char:
        kept = "".join(_REPLACEMENTS.get(c, c) for c in decomposed if not unicodedata.combining(c))
        if kept and is_gsm(kept):
            return kept
    return "?"

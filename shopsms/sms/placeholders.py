"""Generic expressions ("expressions génériques"): <NOM>, <GEN>, <NUM>… per recipient."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache


@dataclass(frozen=True)
class Placeholder:
    tag: str  # as typed in a message, e.g. "<NOM>"
    description: str  # French, for the composer's help
    example: str  # what Monsieur JEAN DUPONT, Bijouterie Showroom, fiche 12345, 30 € gives


PLACEHOLDERS = (
    Placeholder("<GEN>", "Civilité en toutes lettres (Madame, Monsieur)", "Monsieur"),
    Placeholder("<CIV>", "Civilité abrégée (Mme, M., Mlle)", "M."),
    Placeholder(
        "<NOM>",
        "Civilité abrégée, prénom et nom tels que sur la fiche client",
        "M. JEAN DUPONT",
    ),
    Placeholder("<NOMPROPRE>", "Nom de famille, majuscule initiale", "Dupont"),
    Placeholder("<PRENOM>", "Prénom, majuscule initiale", "Jean"),
    Placeholder("<MAGASIN>", "Nom du magasin", "Bijouterie Showroom"),
    Placeholder("<NUM>", "Numéro de la fiche SAV", "12345"),
    Placeholder("<MONTANT>", "Montant restant dû", "30,00 €"),
)

_FULL_CIVILITY = {
    "monsieur": "Monsieur",
    "m": "Monsieur",
    "m.": "Monsieur",
    "mr": "Monsieur",
    "mr.": "Monsieur",
    "madame": "Madame",
    "mme": "Madame",
    "mademoiselle": "Mademoiselle",
    "mlle": "Mademoiselle",
    "melle": "Mademoiselle",
}
_SHORT_CIVILITY = {"Monsieur": "M.", "Madame": "Mme", "Mademoiselle": "Mlle"}

# A tag is upper-case letters (accents included, so that a mistyped "<PRÉNOM>" is
# reported) between angle brackets: "a < b > c" or "<3" are plain text.
_TAG_RE = re.compile(r"<([A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ0-9_]*)>")
# Mixed or lower case spellings of a known tag ("<Nom>", "<prenom>") are typos to report.
_ANY_CASE_TAG_RE = re.compile(r"<([^\W\d_][\w]*)>")
_WORD_RE = re.compile(r"[^\W\d_]+")

# Stands for an expression that rendered empty, so that the spaces it leaves can be
# tidied afterwards; a private-use character, never typed by anyone.
_GAP = "\ue000"
_GAP_RUN_RE = re.compile(f" *{_GAP}(?: *{_GAP})* *")
_PUNCTUATION = ",.;:!?)\u2026"


def civility_full(context: Mapping) -> str:
    return _civilities(context.get("civility"))[0]


def civility_short(context: Mapping) -> str:
    return _civilities(context.get("civility"))[1]


@lru_cache(maxsize=64)
def _civilities(raw: str) -> tuple[str, str]:
    """(full, short) for a civility as stored; an unknown one is used as it is."""
    civility = str(raw or "").strip()
    full = _FULL_CIVILITY.get(civility.lower(), civility)
    return full, _SHORT_CIVILITY.get(full, full)


@lru_cache(maxsize=4096)  # first names repeat across a campaign's 100,000 texts
def proper_case(name: str) -> str:
    """Capital initial on each word: "DE LA FONTAINE" -> "De La Fontaine",
    "LE-GOFF" -> "Le-Goff", "D'ARC" -> "D'Arc"."""
    return _WORD_RE.sub(lambda m: m.group()[0].upper() + m.group()[1:].lower(), name)


_CENT = Decimal("0.01")
_FRENCH_NUMBER = str.maketrans({",": " ", ".": ","})


def format_amount(amount: object) -> str:
    """French money format: Decimal("1234.5") -> "1 234,50 €"."""
    if amount is None or amount == "":
        return ""
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))  # str() first: Decimal(0.1) would show float noise
    return _format_decimal(amount)


@lru_cache(maxsize=4096)  # amounts due repeat a lot across a batch of repairs
def _format_decimal(amount: Decimal) -> str:
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    return f"{cents:,.2f}".translate(_FRENCH_NUMBER) + " €"


def _text(context: Mapping, key: str) -> str:
    value = context.get(key)
    if value is None:
        return ""
    return (value if value.__class__ is str else str(value)).strip()


def _full_name(context: Mapping) -> str:
    pieces = (civility_short(context), _text(context, "first_name"), _text(context, "last_name"))
    return " ".join(filter(None, pieces))


_RENDERERS = {
    "GEN": civility_full,
    "CIV": civility_short,
    "NOM": _full_name,
    "NOMPROPRE": lambda c: proper_case(_text(c, "last_name")),
    "PRENOM": lambda c: proper_case(_text(c, "first_name")),
    "MAGASIN": lambda c: _text(c, "store"),
    "NUM": lambda c: _text(c, "number"),
    "MONTANT": lambda c: format_amount(c.get("amount")),
}
KNOWN_TAGS = frozenset(f"<{name}>" for name in _RENDERERS)


def unknown(template: str) -> list[str]:
    """Tags that render() would leave as typed, in order of appearance, no repeats."""
    found = [f"<{name}>" for name in _TAG_RE.findall(template)]
    found += [
        f"<{name}>"
        for name in _ANY_CASE_TAG_RE.findall(template)
        if not name.isupper() and name.upper() in _RENDERERS
    ]
    # Sort by position so that both kinds come out in the order they were typed.
    found.sort(key=template.index)
    return [tag for tag in dict.fromkeys(found) if tag not in KNOWN_TAGS]


def render(template: str, context: Mapping) -> str:
    """Replace the known expressions; unknown ones stay as typed (see unknown())."""
    pattern, renderers = _compile(template)
    values = {name: renderer(context) for name, renderer in renderers}
    if all(values.values()):
        return pattern % values
    # Mark what rendered empty, then tidy the spaces it leaves.
    marked = {name: value.replace(_GAP, "") or _GAP for name, value in values.items()}
    return _GAP_RUN_RE.sub(_close_gap, pattern % marked)


@lru_cache(maxsize=256)
def _compile(template: str) -> tuple[str, tuple[tuple[str, Callable[[Mapping], str]], ...]]:
    """The template as a %-format pattern and the renderers it uses: a sending renders
    one template for every recipient, so it is parsed once."""
    template = template.replace(_GAP, "")
    pieces, names, position = [], {}, 0
    for match in _TAG_RE.finditer(template):
        name = match.group(1)
        if name in _RENDERERS:
            pieces.append(template[position : match.start()].replace("%", "%%"))
            pieces.append(f"%({name})s")
            names[name] = _RENDERERS[name]
            position = match.end()
    pieces.append(template[position:].replace("%", "%%"))
    return "".join(pieces), tuple(names.items())


def _close_gap(match: re.Match) -> str:
    """The spaces around empty expressions: one stays between two words, none at a line
    edge; before punctuation, only the space the template itself put there
    ("Bonjour <GEN>, merci" -> "Bonjour, merci"; "Bonjour <PRENOM> !" -> "Bonjour !")."""
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else "\n"
    after = text[end] if end < len(text) else "\n"
    if before in "\r\n" or after in "\r\n":
        return ""
    if after in _PUNCTUATION:
        return " " if match.group().endswith(" ") else ""
    return " " if " " in match.group() else ""

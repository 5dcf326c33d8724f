"""Sentences of the pure core in the person's language, without Flask here: a rule says
its French text through `N_("… %(name)s …", name=value)`, which returns that French text
(a str, so callers, logs and jobs read French as before) carrying its msgid and values.
`pybabel extract` collects N_ by default, and the web layer says it in the person's
language with `shopsms.formats.said` (the `said` Jinja filter).

A sentence stored as its French words where its catalogue entry and values do not fit
(a message's reason from the gateways, a run's note) is named once with `readable`;
`read` finds it again in the stored text, values included, for `said` to translate."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


class Said(str):
    """The French text, with `msgid` and `variables` to translate it later."""

    msgid: str
    variables: dict

    def __new__(cls, msgid: str, **variables: object) -> Said:
        said = super().__new__(cls, msgid % variables if variables else msgid)
        said.msgid, said.variables = msgid, variables
        return said


def N_(msgid: str, **variables: object) -> Said:  # noqa: N802  (Babel's name for a marked text)
    return Said(msgid, **variables)


# Sentences kept as their French words where no catalogue entry fits the column (a
# message's reason, a follow-up's, a link's state), which `read` knows again: the module
# that writes them names them once (`readable`).
_READABLE: dict[str, None] = {}
_ordered: list[tuple[str, ...]] = []


def readable(*msgids: str) -> None:
    """Make these sentences known to `read`."""
    _READABLE.update(dict.fromkeys(msgids))
    _ordered.clear()


def read(text: str, sentences: Iterable[str] | None = None) -> str:
    """A text stored as its French words (« Refusé par l'opérateur : expéditeur refusé
    (ESME_RINVSRCADR). »), read back as the sentence it was written from, so that it can
    be said in another language (shopsms.formats.said): a Said whose values that are
    sentences too are read as well. `sentences`: those `readable` made known, unless
    given. Any other text comes back as it is (the operator's own words, a reason cut to
    its column)."""
    ordered = _order(tuple(sentences)) if sentences is not None else _known()
    return _read(text, ordered)


def _read(text: str, ordered: tuple[str, ...]) -> str:
    if not text:
        return text
    for msgid in ordered:
        found = _pattern(msgid).fullmatch(text)
        if found is not None:
            values = {name: _read(value, ordered) for name, value in found.groupdict().items()}
            return Said(msgid, **values)
    return text


def _known() -> tuple[str, ...]:
    if not _ordered:
        _ordered.append(_order(tuple(_READABLE)))
    return _ordered[0]


def _order(sentences: tuple[str, ...]) -> tuple[str, ...]:
    """The most literal first: « Numéro inexistant (plage de test) » before « Téléphone
    injoignable… (%(detail)s) » could take its words for values."""
    return tuple(sorted(sentences, key=lambda msgid: -len(_VALUE.sub("", msgid))))


_VALUE = re.compile(r"%\((\w+)\)s")


@functools.cache
def _pattern(msgid: str) -> re.Pattern[str]:
    pieces = _VALUE.split(msgid)  # words, a value's name, words, …
    return re.compile(
        "".join(
            f"(?P<{piece}>.+?)" if i % 2 else re.escape(piece) for i, piece in enumerate(pieces)
        ),
        re.DOTALL,
    )

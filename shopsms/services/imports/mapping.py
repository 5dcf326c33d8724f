"""Which column of the file feeds which field: recognised from common French headers,
and remembered per file kind once a person has confirmed it."""

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from ...extensions import db
from ...models.integration import ColumnMapping
from .fields import FIELDS


def normalize(header: str | None) -> str:
    """ "N° Client", "n_client", "NUM CLIENT" → "nclient", "nclient", "numclient"."""
    text = unicodedata.normalize("NFKD", header or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


def auto_mapping(kind: str, headers: Iterable[str]) -> dict[str, str]:
    """header → field for the headers that a field's name or aliases recognise."""
    by_alias: dict[str, str] = {}
    for field in FIELDS[kind]:
        for alias in (normalize(field.name), *field.aliases):
            by_alias.setdefault(alias, field.name)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        name = by_alias.get(normalize(header))
        if name and name not in taken:
            mapping[header] = name
            taken.add(name)
    return mapping


def suggested_mapping(kind: str, headers: Sequence[str]) -> dict[str, str]:
    """The remembered mapping for the headers it knows, recognition for the others."""
    saved = db.session.scalar(db.select(ColumnMapping).where(ColumnMapping.kind == kind))
    mapping = auto_mapping(kind, headers)
    if saved:
        for header in headers:
            if header in saved.mapping:
                mapping[header] = saved.mapping[header]
    # One field fed by one column only: the remembered choice wins over recognition.
    seen: set[str] = set()
    clean: dict[str, str] = {}
    for header in headers:
        field = mapping.get(header)
        if field and field not in seen:
            clean[header] = field
            seen.add(field)
    return clean


def check(kind: str, mapping: Mapping[str, str]) -> list[LazyString]:
    """Messages (lazy strings) for a mapping that cannot import (empty list when it can)."""
    known = {field.name: field for field in FIELDS[kind]}
    used: dict[str, str] = {}
    errors: list[LazyString] = []
    for header, field in mapping.items():
        if not field:
            continue
        if field not in known:
            errors.append(
                _l(
                    "Champ inconnu « %(field)s » pour la colonne « %(header)s ».",
                    field=field,
                    header=header,
                )
            )
        elif field in used:
            errors.append(
                _l(
                    "« %(label)s » est choisi pour deux colonnes : « %(first)s » "
                    "et « %(header)s ».",
                    label=known[field].label,
                    first=used[field],
                    header=header,
                )
            )
        used.setdefault(field, header)
    for wanted in known.values():
        if wanted.required and wanted.name not in used:
            errors.append(
                _l("Choisissez la colonne qui contient « %(label)s ».", label=wanted.label)
            )
    return errors


def remember(kind: str, mapping: Mapping[str, str]) -> None:
    saved = db.session.scalar(db.select(ColumnMapping).where(ColumnMapping.kind == kind))
    if saved is None:
        saved = ColumnMapping(kind=kind, mapping={})
        db.session.add(saved)
    saved.mapping = {header: field for header, field in mapping.items() if field}

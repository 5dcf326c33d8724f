"""Which column of the file feeds which field: recognised from common French headers,
and remembered per file kind once a person has confirmed it."""

import re
import unicodedata

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models.integration import ColumnMapping
from .fields import FIELDS


def normalize(header):
    """ "N° Client", "n_client", "NUM CLIENT" → "nclient", "nclient", "numclient"."""
    text = unicodedata.normalize("NFKD", header or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


def auto_mapping(kind, headers):
    """header → field for the headers that a field's name or aliases recognise."""
    by_alias = {}
    for field in FIELDS[kind]:
        for alias in (normalize(field.name), *field.aliases):
            by_alias.setdefault(alias, field.name)
    mapping, taken = {}, set()
    for header in headers:
        field = by_alias.get(normalize(header))
        if field and field not in taken:
            mapping[header] = field
            taken.add(field)
    return mapping


def suggested_mapping(kind, headers):
    """The remembered mapping for the headers it knows, recognition for the others."""
    saved = db.session.scalar(db.select(ColumnMapping).where(ColumnMapping.kind == kind))
    mapping = auto_mapping(kind, headers)
    if saved:
        for header in headers:
            if header in saved.mapping:
                mapping[header] = saved.mapping[header]
    # One field fed by one column only: the remembered choice wins over recognition.
    seen, clean = set(), {}
    for header in headers:
        field = mapping.get(header)
        if field and field not in seen:
            clean[header] = field
            seen.add(field)
    return clean


def check(kind, mapping):
    """Messages (lazy strings) for a mapping that cannot import (empty list when it can)."""
    known = {field.name: field for field in FIELDS[kind]}
    used, errors = {}, []
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
    for field in known.values():
        if field.required and field.name not in used:
            errors.append(
                _l("Choisissez la colonne qui contient « %(label)s ».", label=field.label)
            )
    return errors


def remember(kind, mapping):
    saved = db.session.scalar(db.select(ColumnMapping).where(ColumnMapping.kind == kind))
    if saved is None:
        saved = ColumnMapping(kind=kind, mapping={})
        db.session.add(saved)
    saved.mapping = {header: field for header, field in mapping.items() if field}

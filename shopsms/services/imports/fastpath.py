"""The client import's cells read in SQL on PostgreSQL, for the forms a file usually
holds: the raw cells go into a staging table by COPY and one statement trims them,
maps the civility and the Oui/Non cells, turns a French mobile into E.164, checks a
JJ/MM/AAAA date and derives the search columns. A row with any cell outside those forms
(a landline, a foreign number, « 12/05/45 », a control character, a cell too long…) is
handed to fields.py's parsers as before, so what is imported, refused or warned stays
the same: the SQL only decides what the Python reading would decide in the same way
(tests/services/test_import_fastpath.py compares both on generated cells).

Every mapping below comes from the Python rules themselves (the spellings are parsed by
fields.py, the mobile ranges are phonenumbers' metadata that phones.py reads), so that
a rule changed there cannot drift here: a spelling it no longer accepts is dropped.
"""

import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ...sms import phones
from . import fields

if TYPE_CHECKING:  # staging imports this module
    from .staging import Cursor, Plan

# Characters a fast cell may hold: ASCII's printable ones, the Latin letters whose
# decomposition is an ASCII letter and accents (mapped to that letter by the name
# search), and a few printable signs of French files. All of them are printable for
# Python (text() only strips the cell) and none is a space but « ».
# Only French accents: translate() costs the length of its list for every character.
_FRENCH_ACCENTS = "àâäáãåçéèêëíìîïñóòôöõúùûüýÿ"
_ACCENTED: dict[str, str] = {}
for _char in _FRENCH_ACCENTS + _FRENCH_ACCENTS.upper():
    _parts = unicodedata.normalize("NFKD", _char)
    if (
        len(_parts) > 1
        and _parts[0].isascii()
        and _parts[0].isalpha()
        and all(unicodedata.combining(mark) for mark in _parts[1:])
    ):
        _ACCENTED[_char] = _parts[0]
_SIGNS = "«»’°€"
_CELL = "^[\\x20-\\x7e" + "".join(_ACCENTED) + _SIGNS + "]*$"
_FROM, _TO = "".join(_ACCENTED), "".join(_ACCENTED.values())


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _spellings(parse: fields.Parser, keys: Iterable[str]) -> dict[str, Any]:
    """The exact cells (after trimming) `parse` reads for each key, with what it reads."""
    found: dict[str, Any] = {}
    for key in keys:
        for base in {key, key.upper(), key.capitalize(), key.title()}:
            for cell in (base, base + "."):
                if cell != cell.strip():
                    continue
                try:
                    found[cell] = parse(cell)
                except ValueError:  # CellError, CellWarning: not a fast cell
                    continue
    return found


def _literal(value: str | bool | None) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "true" if value else "false"
    return _quote(value)


def _case(trimmed: str, spellings: Mapping[str, str | bool | None], sql_type: str) -> str:
    whens = " ".join(f"WHEN {_quote(k)} THEN {_literal(v)}" for k, v in sorted(spellings.items()))
    return f"(CASE {trimmed} {whens} ELSE NULL END)::{sql_type}"


def _in(trimmed: str, spellings: Iterable[str]) -> str:
    return f"{trimmed} IN ({', '.join(_quote(k) for k in sorted(spellings))})"


_MOBILE = phones._FR_MOBILE.pattern
_OTHERS = "|".join(f"(?:{p.pattern})" for p in phones._FR_OTHERS)
_FRENCH_PREFIX = "^(?:\\+33|0033|0)"


class Cell:
    """One mapped field in `import_read` (a pass over the raw cells that computes once
    what several checks read): `trimmed` is the cell without its spaces, `compact` a
    phone without separators, `digits` its digits, `key` a name in capitals without
    accents (client_fields.name_words' reading)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.trimmed = f"t.{name}"
        self.compact = f"t.{name}__c"
        self.digits = f"t.{name}__d"
        self.key = f"t.{name}__k"


def read_columns(name: str) -> dict[str, str]:
    """The import_read columns of one raw cell `r.<name>`."""
    trimmed = f"btrim(r.{name}, ' ')"
    columns = {name: trimmed}
    if name in ("tel1", "tel2"):
        # Only read for a cell of digits, spaces, dots, dashes and plus signs
        # (phone_cell's check): translate() instead of a regular expression, cheaper.
        columns[f"{name}__c"] = f"translate({trimmed}, ' .-', '')"
        columns[f"{name}__d"] = f"translate({trimmed}, ' .+-', '')"
    if name in ("last_name", "first_name", "city"):
        # octet_length = char_length: plain ASCII, nothing to translate.
        columns[f"{name}__k"] = (
            f"upper(CASE WHEN octet_length(r.{name}) = char_length(r.{name}) THEN {trimmed} "
            f"ELSE translate({trimmed}, {_quote(_FROM)}, {_quote(_TO)}) END)"
        )
    return columns


def _unique(parts: Sequence[str], width: int) -> str:
    """' '.join of the non-empty `parts` (SQL texts), each once, in order, cut to `width`."""
    kept = [f"NULLIF({parts[0]}, '')"]
    for n, part in enumerate(parts[1:], 1):
        kept.append(f"CASE WHEN {part} NOT IN ('', {', '.join(parts[:n])}) THEN {part} END")
    return f"left(concat_ws(' ', {', '.join(kept)}), {width})"


def text_cell(cell: Cell, max_length: int, required: bool = False) -> tuple[str, str]:
    formula = (
        f"left({cell.trimmed}, 1) = '''' AND substr({cell.trimmed}, 2, 1) IN ('-', '=', '+', '@')"
    )
    ok = f"char_length({cell.trimmed}) <= {max_length} AND NOT ({formula})"
    if required:
        ok += f" AND {cell.trimmed} <> ''"
    return ok, cell.trimmed


_MOBILE_FORMS = _quote(_FRENCH_PREFIX + "(?:" + _MOBILE + ")$")
_OTHER_FORMS = _quote("^(?:" + _OTHERS + ")$")


def phone_cell(cell: Cell, max_length: int) -> tuple[str, str]:
    """Empty, or a metropolitan mobile in one of its usual spellings (phones.py's fast
    path); anything else (a landline, abroad, a typo warned about) goes to Python."""
    ok, value = text_cell(cell, max_length)
    mobile = f"({cell.compact} ~ {_MOBILE_FORMS} AND right({cell.compact}, 9) !~ {_OTHER_FORMS})"
    digits = f"translate({cell.trimmed}, '0123456789 .+-', '') = ''"
    return f"{ok} AND {digits} AND ({cell.trimmed} = '' OR {mobile})", value


def phone_derived(tel1: Cell | None, tel2: Cell | None) -> dict[str, str]:
    """sms_number and phone_digits (client_fields.phone_fields) of two fast phone cells."""
    forms: list[str] = []
    numbers: list[str] = []
    for cell in (tel1, tel2):
        if cell is None:
            continue
        empty = f"{cell.trimmed} = ''"
        nine = f"right({cell.compact}, 9)"
        forms += [
            f"CASE WHEN {empty} THEN '' ELSE '33' || {nine} END",
            f"CASE WHEN {empty} THEN '' ELSE '0' || {nine} END",
            cell.digits,
        ]
        numbers.append(f"CASE WHEN {empty} THEN NULL ELSE '+33' || {nine} END")
    return {"sms_number": f"COALESCE({', '.join(numbers)})", "phone_digits": _unique(forms, 120)}


_ALNUM = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'"


def name_cell(cell: Cell, max_length: int, required: bool = False) -> tuple[str, str]:
    """A name of one word, letters and digits only (« Jean-Pierre », « Le Gall » go to
    Python): its key is its only word, for search_name."""
    ok, value = text_cell(cell, max_length, required)
    return f"{ok} AND translate({cell.key}, {_ALNUM}, '') = ''", value


def search_name(last: Cell | None, first: Cell | None) -> str:
    # client_fields.search_name: the last name run together, its words, the first name run
    # together, its words; one word each here (name_cell), so each is its own key.
    return _unique([cell.key for cell in (last, first) if cell is not None], 200)


def city_key(city: Cell) -> str:
    return f"left(regexp_replace({city.key}, '[^A-Z0-9]+', '', 'g'), 80)"


def date_parts(cell: Cell) -> tuple[str, str, str]:
    # « d/m/yyyy »: digits and two slashes, parts of 1-2, 1-2 and 4 digits.
    match = (
        f"translate({cell.trimmed}, '0123456789', '') = '//' "
        f"AND length(split_part({cell.trimmed}, '/', 1)) BETWEEN 1 AND 2 "
        f"AND length(split_part({cell.trimmed}, '/', 2)) BETWEEN 1 AND 2 "
        f"AND length(split_part({cell.trimmed}, '/', 3)) = 4"
    )
    day, month, year = (f"split_part({cell.trimmed}, '/', {n})::int" for n in (1, 2, 3))
    valid = (
        f"CASE WHEN {match} AND {year} BETWEEN 1900 AND 2100 AND {month} BETWEEN 1 AND 12 "
        f"AND {day} >= 1 THEN {day} <= extract(day FROM make_date({year}, {month}, 1) "
        "+ interval '1 month' - interval '1 day') ELSE false END"
    )
    value = f"CASE WHEN {valid} THEN make_date({year}, {month}, {day}) END"
    return valid, value, f"CASE WHEN {valid} THEN {month} * 100 + {day} END"


def date_cell(cell: Cell, *, past: bool = False) -> tuple[str, str]:
    valid, value, _ = date_parts(cell)
    if past:
        valid = f"({valid} AND {value} <= %(today)s)"
    return f"({cell.trimmed} = '' OR {valid})", value


_CHOICES: dict[str, tuple[fields.Parser, Collection[str], str]] = {
    "civility": (fields.parse_civility, fields._CIVILITIES, "text"),
    "sms_consent": (
        fields.parse_consent,
        ("", "?", "inconnu", "unknown", "nsp", *fields._YES, *fields._NO),
        "text",
    ),
    "sms_refuses_all": (fields.parse_optional_bool, (*fields._YES, *fields._NO), "boolean"),
}
for _name in ("email_consent", "post_consent", "npai", "is_prospect"):
    _CHOICES[_name] = (fields.parse_bool, (*fields._YES, *fields._NO), "boolean")


def country_cell(cell: Cell) -> tuple[str, str]:
    spellings = _spellings(fields.parse_country, ("", "france"))
    ok = f"({_in(cell.trimmed, spellings)} OR {cell.trimmed} ~ '^[A-Za-z]{{2}}$')"
    return (
        ok,
        f"CASE WHEN {cell.trimmed} ~ '^[A-Za-z]{{2}}$' THEN upper({cell.trimmed}) ELSE 'FR' END",
    )


def field_sql(name: str, cell: Cell) -> tuple[str, str] | None:
    """(ok, value) of one mapped client field, or None when only Python reads it."""
    field = fields.field_map("clients")[name]
    if name in _CHOICES:
        parse, keys, sql_type = _CHOICES[name]
        spellings = _spellings(parse, keys)
        return _in(cell.trimmed, spellings), _case(cell.trimmed, spellings, sql_type)
    length = field.max_length
    if name in ("tel1", "tel2") and length:
        return phone_cell(cell, length)
    if name in ("last_name", "first_name") and length:
        return name_cell(cell, length, field.required)
    if name == "birthday":
        return date_cell(cell, past=True)
    if name == "created_on":
        return date_cell(cell)
    if name == "country":
        return country_cell(cell)
    if name in ("external_id", "store"):
        return "true", cell.trimmed  # read in Python (the run's duplicates, the stores)
    if length:
        return text_cell(cell, length, field.required)
    return None


class FastPath:
    """One batch's SQL reading: the raw table, the rows it decides, and the statement
    that fills the staging table's columns of those rows."""

    def __init__(self, plan: "Plan", today: date) -> None:
        self.plan, self.today = plan, today
        self.fields = [f.name for f in fields.FIELDS["clients"] if f.name in plan.fields]
        cells = {name: Cell(name) for name in self.fields}
        oks: list[str] = []
        values: dict[str, str] = {}
        for name in self.fields:
            sql = field_sql(name, cells[name])
            if sql is None:
                oks.append("false")
                continue
            oks.append(f"({sql[0]})")
            values[name] = sql[1]
        if "tel1" in cells or "tel2" in cells:
            values |= phone_derived(cells.get("tel1"), cells.get("tel2"))
        if "last_name" in cells or "first_name" in cells:
            values["search_name"] = search_name(cells.get("last_name"), cells.get("first_name"))
        if "birthday" in cells:
            values["birthday_md"] = date_parts(cells["birthday"])[2]
        if "city" in cells:
            values["city_key"] = city_key(cells["city"])
        self.ok = " AND ".join(["t.plain", *oks])
        self.values = values
        self.read = {"line": "r.line"}
        for name in self.fields:
            self.read |= read_columns(name)
        cells_sql = ", ".join(f"r.{name}" for name in self.fields)
        self.read["plain"] = f"concat_ws(' ', {cells_sql}) ~ {_quote(_CELL)}"

    def create(self, cursor: "Cursor") -> None:
        columns = ", ".join(f"{name} text" for name in self.fields)
        cursor.execute(
            f"CREATE TEMP TABLE import_raw (line integer PRIMARY KEY, {columns}) ON COMMIT DROP"
        )

    def copy(self, cursor: "Cursor", rows: Iterable[tuple[int, Sequence[str]]]) -> None:
        """rows: (line, [cell of each field])."""
        names = ", ".join(["line", *self.fields])
        with cursor.copy(f"COPY import_raw ({names}) FROM STDIN") as copy:
            for line, cells in rows:
                copy.write_row((line, *cells))

    def slow_lines(self, cursor: "Cursor") -> set[int]:
        """The lines whose cells Python has to read."""
        read = ", ".join(f"{expr} AS {name}" for name, expr in self.read.items())
        cursor.execute(
            f"CREATE TEMP TABLE import_read ON COMMIT DROP AS SELECT {read} FROM import_raw r"
        )
        cursor.execute(
            f"SELECT t.line FROM import_read t WHERE NOT COALESCE({self.ok}, false)",
            {"today": self.today},
        )
        return {line for (line,) in cursor.fetchall()}

    def stage(self, cursor: "Cursor", kept: Iterable[tuple[int, str, int | None]]) -> None:
        """kept: (line, external_id, store_id) of the fast rows the screen accepted."""
        cursor.execute(
            "CREATE TEMP TABLE import_kept (line integer PRIMARY KEY, external_id text, "
            "store_id integer) ON COMMIT DROP"
        )
        with cursor.copy("COPY import_kept (line, external_id, store_id) FROM STDIN") as copy:
            for row in kept:
                copy.write_row(row)
        names = self.plan.names[2:]
        cursor.execute(
            f"INSERT INTO import_stage (line, external_id, store_id, {', '.join(names)}) "
            f"SELECT k.line, k.external_id, k.store_id, "
            f"{', '.join(self.values[name] for name in names)} "
            "FROM import_kept k JOIN import_read t ON t.line = k.line",
            {"today": self.today},
        )
        cursor.execute("DROP TABLE import_kept; DROP TABLE import_read; DROP TABLE import_raw")

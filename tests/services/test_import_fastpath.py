"""The client import's SQL reading (PostgreSQL) decides a cell only as fields.py's
parsers would: for every row the SQL takes, the staged values equal those the Python
reading gives (no error, no warning, the same derived columns); the others go to Python."""

from datetime import date

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from shopsms.extensions import db
from shopsms.services.imports import fastpath, fields, staging
from shopsms.services.imports.upsert import Row

# No shrinking: a failing row is shown as generated (shrinking a batch of rows through
# PostgreSQL takes minutes); each row's cells are short already.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), phases=PHASES
)
NAMES = [field.name for field in fields.FIELDS["clients"]]

separator = st.sampled_from(["", " ", ".", "-", "  "])


@st.composite
def mobile(draw):
    prefix = draw(st.sampled_from(["0", "+33", "0033", "+33 ", "0033 ", "+330", "33", "00"]))
    digits = draw(st.sampled_from("6789")) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=7, max_size=9))
    )
    out = prefix
    for n, digit in enumerate(digits):
        out += digit + (draw(separator) if n % 2 else "")
    return draw(st.sampled_from(["", " "])) + out + draw(st.sampled_from(["", " ", "\t"]))


@st.composite
def day(draw):
    d, m = draw(st.integers(0, 40)), draw(st.integers(0, 14))
    y = draw(st.sampled_from([1899, 1900, 1945, 2000, 2024, 2100, 2101, 2999, 45]))
    pad = draw(st.booleans())
    text = f"{d:02d}/{m:02d}/{y}" if pad else f"{d}/{m}/{y}"
    if draw(st.booleans()):
        text = f"{date.today():%d/%m/%Y}"
    return draw(st.sampled_from(["", " "])) + text + draw(st.sampled_from(["", " ", " 10:30"]))


LETTERS = "abcdeABCDEéèçàÉÈÇœŒßÿŸñ -'’.«»\u00a0\t\n\u200b"
name = st.text(alphabet=LETTERS, max_size=12) | st.text(max_size=6)
words = [
    "oui",
    "non",
    "o",
    "n",
    "yes",
    "x",
    "vrai",
    "faux",
    "",
    "?",
    "inconnu",
    "nsp",
    "m",
    "mme",
    "mlle",
    "melle",
    "monsieur",
    "madame",
    "dr",
    "m. et mme",
    "accepté",
    "refuse",
    "france",
    "fr",
    "be",
    "f",
    "fra",
    "1",
    "0",
    "on",
    "off",
    "true",
]
choice = st.builds(
    lambda word, case, dot, pad: pad + getattr(word, case)() + dot + pad,
    st.sampled_from(words),
    st.sampled_from(["lower", "upper", "capitalize", "title"]),
    st.sampled_from(["", "."]),
    st.sampled_from(["", " "]),
) | st.text(max_size=4)
any_character = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
text_cell = st.text(any_character, max_size=30) | st.text(alphabet="ab =+-@'", max_size=8)
CELLS = {
    "tel1": mobile() | st.text(alphabet="0123456789 .+-()a", max_size=16),
    "tel2": mobile() | st.just("") | st.text(alphabet="0123456789 .+-", max_size=16),
    "birthday": day() | st.text(alphabet="0123456789/- ", max_size=12),
    "created_on": day() | st.just(""),
    "last_name": name,
    "first_name": name,
    "city": name,
    "postal_code": st.text(alphabet="0123456789AB ", max_size=12),
    "comment": text_cell,
    "email": text_cell,
    "number": st.text(alphabet="0123456789AB ", max_size=24),
}
USUAL = {name: "" for name in NAMES} | {
    "civility": "Mme",
    "last_name": "Bérard",
    "first_name": "Hélène",
    "tel1": "06 12 34 56 78",
    "tel2": "+33 7 81 23 45 67",
    "birthday": "05/11/1961",
    "city": "Anglet",
    "sms_consent": "Oui",
    "country": "FR",
    "npai": "Non",
    "email": "h.berard@example.fr",
    "postal_code": "64600",
    "created_on": "01/02/2020",
    "comment": "Client fidèle",
}
del USUAL["external_id"], USUAL["store"]
# A usual row with a few cells generated: most rows stay within what the SQL reads, so
# each cell's edge is met with the other cells taken.
row = st.fixed_dictionaries(
    {},
    optional={name: CELLS.get(name, choice) for name in USUAL},
).map(lambda cells: USUAL | {k: v.replace("\x00", "") for k, v in list(cells.items())[:3]})


def python_staged(plan, raw, line):
    warnings = []
    values, errors = fields.parse_row("clients", raw, warnings)
    if errors or warnings:
        return None, errors + warnings
    row = plan.derive(Row(line=line, values=values, raw=[]))
    return row.staged, []


@pytest.fixture
def postgresql(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the SQL reading is PostgreSQL's")


@SETTINGS
@given(rows=st.lists(row, min_size=1, max_size=15))
def test_what_the_sql_reads_python_reads_the_same(postgresql, rows):
    plan = staging.Plan("clients", NAMES)
    fast = fastpath.FastPath(plan, date.today())
    raws = [{"external_id": f"X{n}", "store": "001", **cells} for n, cells in enumerate(rows)]
    raws.append({"external_id": "usual", "store": "001", **USUAL})
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    try:
        fast.create(cursor)
        fast.copy(cursor, [(n, [raw[name] for name in fast.fields]) for n, raw in enumerate(raws)])
        slow = fast.slow_lines(cursor)
        plan.create(cursor)
        taken = [n for n in range(len(raws)) if n not in slow]
        fast.stage(cursor, [(n, f"X{n}", None) for n in taken])
        cursor.execute(f"SELECT line, {', '.join(plan.names[2:])} FROM import_stage ORDER BY line")
        staged = {record[0]: list(record[1:]) for record in cursor.fetchall()}
    finally:
        cursor.close()
        db.session.rollback()
    assert len(taken) + len(slow) == len(raws)
    for n in taken:
        expected, problems = python_staged(plan, raws[n], n)
        assert not problems, (raws[n], problems)
        assert staged[n] == expected, (raws[n], dict(zip(plan.names[2:], staged[n], strict=True)))


def test_the_usual_cells_are_read_in_sql(postgresql):
    """The fast path is not empty: a row as point-of-sale software writes it is taken."""
    plan = staging.Plan("clients", NAMES)
    fast = fastpath.FastPath(plan, date.today())
    usual = {"external_id": "C1", "store": "001", **USUAL}
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    try:
        fast.create(cursor)
        fast.copy(cursor, [(2, [usual[name] for name in fast.fields])])
        assert fast.slow_lines(cursor) == set()
    finally:
        cursor.close()
        db.session.rollback()

"""« Export CSV » / « Export Excel » of a sending's report.

Cells hold what clients and staff typed (names, SMS texts, operators' reasons): a cell
starting with = + - @ would run as a formula in a spreadsheet, and control characters
(a GSM form feed…) are illegal in an .xlsx file. Every text cell goes through _safe().

A report has up to 1,000,000 rows: nothing here holds them all. The CSV streams
(PostgreSQL's own COPY writes it, with the same cell rules in SQL; elsewhere a csv writer
over rows read in batches). An Excel file of more than EXCEL_DIRECT_ROWS rows is written
by a job (openpyxl's write-only mode, to a file) whose progress the page polls, then
downloaded.
"""

import csv
import functools
import io
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

from flask import current_app
from flask_babel import force_locale
from redis import Redis
from sqlalchemy import ColumnElement, Select, and_, case, func, literal, null, select, text

from ..access import Person
from ..extensions import db
from ..models import Client, Message
from ..queue import get_redis
from ..sms import hours, phones
from .reports import SKIP_REASON_LABELS, STATE_GROUPS, STATE_TEXT, ReportTable, report_table
from .reports import reason as _reason

if TYPE_CHECKING:
    import psycopg

EXPORT_HEADER = (
    "N° client",
    "Client",
    "Numéro",
    "Texte envoyé",
    "Parties",
    "État",
    "Motif",
    "Envoyé le",
    "Terminé le",
    "Variante",  # A/B texts: « A » or « B », empty for a campaign with one text
)
_DATE_COLUMNS = (7, 8)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CODES = tuple(ord(start) for start in _FORMULA_STARTS)
# openpyxl's ILLEGAL_CHARACTERS_RE in PostgreSQL's regular expressions (a PostgreSQL text
# cannot hold NUL).
_ILLEGAL_SQL = r"[\x01-\x08\x0b\x0c\x0e-\x1f]"
_CSV_DATE = "%d/%m/%Y %H:%M"
EXCEL_DIRECT_ROWS = 5000  # above this, « Export Excel » runs as a job
BATCH = 2000
# An export row's cells, in EXPORT_HEADER's order (texts, a number, moments).
ExportRow: TypeAlias = Sequence[Any]
# The column expressions of a report's query: mapped attributes and labelled ones.
Columns: TypeAlias = tuple[Any, ...]
_Value = TypeVar("_Value")


@functools.cache
def _illegal_characters() -> re.Pattern[str]:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    pattern: re.Pattern[str] = ILLEGAL_CHARACTERS_RE
    return pattern


def _safe(value: _Value) -> _Value | str:
    """A text cell that a spreadsheet shows as text: no control character, and a leading
    apostrophe when it would otherwise start a formula."""
    if not isinstance(value, str):
        return value
    cleaned = _illegal_characters().sub("", value)
    if cleaned.startswith(_FORMULA_STARTS):
        return "'" + cleaned
    return cleaned


def _paris_naive(moment_utc: datetime | None) -> datetime | None:
    """Paris wall-clock time without a zone: what a spreadsheet date cell holds."""
    if moment_utc is None:
        return None
    return moment_utc.replace(tzinfo=UTC).astimezone(hours.PARIS).replace(tzinfo=None)


def _columns(table: ReportTable) -> Columns:
    """The raw columns of an export row (a recipient list has no times nor error)."""
    is_draft = table is not Message
    # Message's own columns when `table` is it (a recipient list's row reads "" / None).
    error = literal("") if is_draft else Message.error
    submitted_at = null() if is_draft else Message.submitted_at
    done_at = null() if is_draft else Message.done_at
    return (
        Client.number.label("client_number"),
        Client.first_name,
        Client.last_name,
        table.phone,
        table.text,
        table.parts,
        table.state,
        table.skip_reason,
        error.label("error"),
        submitted_at.label("submitted_at"),
        done_at.label("done_at"),
        table.variant,
    )


def _query(campaign_id: int, state: str, columns_of: Callable[[ReportTable], Columns]) -> Select:
    table = report_table(campaign_id)
    query = (
        select(*columns_of(table))
        .outerjoin(Client, Client.id == table.client_id)
        .where(table.campaign_id == campaign_id)
        .order_by(table.id)
    )
    if state in STATE_GROUPS:
        query = query.where(table.state.in_(STATE_GROUPS[state]))
    return query


def export_rows(campaign_id: int, state: str = "") -> Iterator[ExportRow]:
    """One tuple per recipient, in the report's order, read in batches (a server-side
    cursor on PostgreSQL): texts made safe, phones as `display_stored` writes them,
    times as naive Paris datetimes. A French document (its header, states and reasons, as
    PostgreSQL's COPY writes them), whoever asks for it: « pression marketing : déjà 2 SMS
    depuis le 3 mars » too."""
    query = _query(campaign_id, state, _columns).execution_options(yield_per=BATCH)
    with force_locale("fr"):
        yield from _export_rows(query)


def _export_rows(query: Select) -> Iterator[ExportRow]:
    for row in db.session.execute(query):
        name = " ".join(part for part in (row.first_name, row.last_name) if part)
        yield (
            _safe(row.client_number or ""),
            _safe(name),
            _safe(phones.display_stored(row.phone)),
            _safe(row.text),
            row.parts,
            _safe(STATE_TEXT.get(row.state, row.state)),
            _safe(_reason(row)),
            _paris_naive(row.submitted_at),
            _paris_naive(row.done_at),
            row.variant or "",
        )


# --- CSV ---------------------------------------------------------------------------------


def _csv_lines(rows: Iterable[ExportRow]) -> Iterator[str]:
    """The CSV text, a batch of lines at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for n, row in enumerate(rows, 1):
        writer.writerow(
            [
                value.strftime(_CSV_DATE) if i in _DATE_COLUMNS and value else value
                for i, value in enumerate(row)
            ]
        )
        if n % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_chunks(campaign_id: int, state: str = "") -> Iterator[bytes]:
    """`;`-separated UTF-8 with a BOM (what French Excel opens as columns, accents
    intact), as a stream of byte chunks."""
    yield "\ufeff".encode()
    if db.engine.dialect.name == "postgresql":
        header = io.StringIO()
        csv.writer(header, delimiter=";", lineterminator="\r\n").writerow(EXPORT_HEADER)
        yield header.getvalue().encode()
        yield from _copy_chunks(campaign_id, state)
        return
    for lines in _csv_lines(export_rows(campaign_id, state)):
        yield lines.encode()


def to_csv(rows: Iterable[ExportRow]) -> bytes:
    """The whole CSV of `rows` (export_rows) in memory: for small reports and tests."""
    return ("\ufeff" + "".join(_csv_lines(rows))).encode("utf-8")


def _sql_safe(column: ColumnElement[str], dirty: ColumnElement[bool] | None) -> ColumnElement[Any]:
    """_safe in SQL, on a column of the inner query: control characters removed only on
    the rare rows that hold one (`dirty`, one test per row for all its typed cells), then
    a leading apostrophe before a formula; an empty cell unquoted, as the csv module
    writes it. The first character is read as its code (ascii), not cut out as a text:
    this wrapping was a fifth of the export's time at 1M rows (issue 15)."""

    def guarded(value: ColumnElement[str]) -> ColumnElement[Any]:
        return case(
            (func.ascii(value).in_(_FORMULA_CODES), literal("'") + value),
            else_=func.nullif(value, ""),
        )

    if dirty is None:
        return guarded(column)
    return case(
        (dirty, guarded(func.regexp_replace(column, _ILLEGAL_SQL, "", "g"))), else_=guarded(column)
    )


def _sql_paris(column: ColumnElement[datetime]) -> ColumnElement[str]:
    # The naive UTC moment as a moment; to_char writes it in the session's time zone,
    # Paris for the COPY (_copy_chunks): one conversion a cell instead of two.
    return func.to_char(func.timezone("UTC", column), "DD/MM/YYYY HH24:MI")


def _sql_labels(column: ColumnElement[str], labels: Mapping[str, str]) -> ColumnElement[str]:
    return case(*((column == key, literal(text)) for key, text in labels.items()), else_=column)


def _copy_columns(table: ReportTable) -> Columns:
    raw = {column.name: column for column in _columns(table)}
    # phones.display_stored without a regular expression: +33 6/7 and eight ASCII digits.
    number = raw["phone"]
    phone = case(
        (
            (func.length(number) == 12)
            & func.left(number, 4).in_(("+336", "+337"))
            & (func.translate(func.substr(number, 5), "0123456789", "") == ""),
            func.concat(
                "0",
                func.substr(number, 4, 1),
                " ",
                func.substr(number, 5, 2),
                " ",
                func.substr(number, 7, 2),
                " ",
                func.substr(number, 9, 2),
                " ",
                func.substr(number, 11, 2),
            ),
        ),
        else_=number,
    )
    name = func.concat_ws(
        " ", func.nullif(raw["first_name"], ""), func.nullif(raw["last_name"], "")
    )
    reason = case(
        # « pressure:2:20260303 »: the export says the rule (the screen says the detail).
        (
            and_(raw["state"] == "skipped", raw["skip_reason"].startswith("pressure:")),
            literal("Pression marketing"),
        ),
        (raw["state"] == "skipped", _sql_labels(raw["skip_reason"], SKIP_REASON_LABELS)),
        else_=func.coalesce(raw["error"], ""),
    )
    client_number = func.coalesce(raw["client_number"], "")
    text = func.coalesce(raw["text"], "")
    return (
        table.id.label("id"),
        client_number.label("client_number"),
        name.label("name"),
        phone.label("phone"),  # stored E.164: digits, never a control character
        text.label("text"),
        raw["parts"].label("parts"),
        _sql_labels(raw["state"], STATE_TEXT).label("state"),  # our own labels
        reason.label("reason"),
        _sql_paris(raw["submitted_at"]).label("submitted_at"),
        _sql_paris(raw["done_at"]).label("done_at"),
        raw["variant"].label("variant"),  # "A", "B" or "": never a formula nor a control
        # Tested on the raw typed columns the cells are made of (our labels hold no
        # control character), not on the cells: the cells' expressions computed again
        # for the test took a sixth of the export (issue 15).
        func.concat(
            raw["client_number"],
            raw["first_name"],
            raw["last_name"],
            raw["text"],
            raw["skip_reason"],
            raw["error"],
        )
        .regexp_match(_ILLEGAL_SQL)
        .label("dirty"),
    )


_TYPED = ("client_number", "name", "text", "reason")
_CELLS = ("client_number", "name", "phone", "text", "parts", "state", "reason")


def copy_sql(campaign_id: int, state: str = "") -> str:
    """PostgreSQL's COPY of the export's rows, cells as export_rows writes them. The
    cells are computed in an inner query (OFFSET 0 keeps PostgreSQL from folding it into
    the outer one, which would compute each again for each use) and made safe outside."""
    inner = _query(campaign_id, state, _copy_columns).offset(0).subquery()
    dirty = inner.c.dirty
    cells = []
    for name in _CELLS:
        column = inner.c[name]
        if name in _TYPED:
            cells.append(_sql_safe(column, dirty))
        elif name == "phone":
            cells.append(_sql_safe(column, None))
        else:
            cells.append(column)
    query = select(
        *cells, inner.c.submitted_at, inner.c.done_at, func.nullif(inner.c.variant, "")
    ).order_by(inner.c.id)
    compiled = query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    return f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, DELIMITER ';')"


def _copy_chunks(campaign_id: int, state: str) -> Iterator[bytes]:
    sql = copy_sql(campaign_id, state)
    # For this transaction only: _sql_paris's moments are written in Paris time.
    db.session.execute(text(f"SET LOCAL TIME ZONE '{hours.PARIS.key}'"))
    connection = cast(
        "psycopg.Connection[Any]", db.session.connection().connection.driver_connection
    )
    buffer = bytearray()
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for data in copy:  # a row at a time: handed on in blocks, one write each
            buffer += data
            if len(buffer) >= 256 * 1024:
                yield bytes(buffer)
                buffer.clear()
    yield bytes(buffer)


# --- Excel -------------------------------------------------------------------------------


def write_xlsx(
    rows: Iterable[ExportRow],
    target: str | os.PathLike[str] | IO[bytes],
    title: str = "Rapport",
    progress: Callable[[int], object] | None = None,
) -> int:
    """openpyxl's write-only mode: rows go to a temporary file as they come, memory stays
    flat. `progress(n)` is told every BATCH rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(EXPORT_HEADER))
    n = 0
    for n, row in enumerate(rows, 1):
        cells = list(row)
        for i in _DATE_COLUMNS:
            if cells[i] is not None:
                cell = WriteOnlyCell(sheet, value=cells[i])
                cell.number_format = "DD/MM/YYYY HH:MM"
                cells[i] = cell
        sheet.append(cells)
        if progress is not None and n % BATCH == 0:
            progress(n)
    workbook.save(target)
    return n


def to_xlsx(rows: Iterable[ExportRow], title: str = "Rapport") -> bytes:
    buffer = io.BytesIO()
    write_xlsx(rows, buffer, title)
    return buffer.getvalue()


# --- the export job -------------------------------------------------------------------------
# Its progress is a live reading kept in Redis (the database stays the record of the
# sending); a Redis flush loses only the reading, and the page then offers to start again.

_KEY = "shopsms:export:{}"
KEEP_SECONDS = 24 * 3600


def export_dir() -> Path:
    path = Path(current_app.instance_path) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _redis() -> Redis:
    return get_redis()


def start_excel(user: Person, campaign_id: int, state: str, total: int) -> str:
    """Record an Excel export of `total` rows for `user`; returns its token (the job is
    queued by the caller: services do not import jobs)."""
    token = secrets.token_urlsafe(16)
    key = _KEY.format(token)
    _redis().hset(
        key,
        mapping={
            "user_id": user.id,
            "campaign_id": campaign_id,
            "state": state,
            "total": total,
            "done": 0,
            "status": "queued",
            "started": time.time(),
            # Where the web process will look for it (the worker may run elsewhere: the
            # instance folder is then a shared one).
            "path": str(export_dir() / f"{token}.xlsx"),
        },
    )
    _redis().expire(key, KEEP_SECONDS)
    return token


def export_status(token: str) -> dict[str, Any]:
    """The export's reading ({} when unknown or forgotten), numbers as ints."""
    # Our client leaves the answers as bytes (queue.connect: no decode_responses).
    stored = cast(dict[bytes, bytes], _redis().hgetall(_KEY.format(token)))
    data: dict[str, Any] = {k.decode(): v.decode() for k, v in stored.items()}
    for name in ("user_id", "campaign_id", "total", "done"):
        if name in data:
            data[name] = int(data[name])
    if data:
        data["percent"] = (
            100
            if data["status"] == "done"
            else (min(99, 100 * data["done"] // data["total"]) if data["total"] else 0)
        )
    return data


def run_excel(token: str) -> int | str:
    """The job: write the workbook to a temporary name, then move it into place."""
    status = export_status(token)
    if not status:
        return "forgotten"
    key = _KEY.format(token)
    connection = _redis()
    connection.hset(key, "status", "running")
    target = Path(status["path"])
    partial = target.with_suffix(".part")
    try:
        written = write_xlsx(
            export_rows(status["campaign_id"], status["state"]),
            partial,
            title=f"Rapport {status['campaign_id']}",
            progress=lambda n: connection.hset(key, "done", n),
        )
        os.replace(partial, target)
    except Exception:
        partial.unlink(missing_ok=True)
        connection.hset(key, "status", "failed")
        raise
    connection.hset(key, mapping={"done": written, "status": "done"})
    return written


def delete_old_exports(seconds: float = KEEP_SECONDS) -> int:
    """Files of exports older than a day (their readings expire with them)."""
    limit = time.time() - seconds
    removed = 0
    for path in export_dir().glob("*.*"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed

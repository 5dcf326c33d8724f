"""« Export CSV » / « Export Excel » of a sending's report.

Cells hold what clients and staff typed (names, SMS texts, operators' reasons): a cell
starting with = + - @ would run as a formula in a spreadsheet, and control characters
(a GSM form feed…) are illegal in an .xlsx file. Every text cell goes through _safe().
"""

import csv
import io
from datetime import UTC

from ..extensions import db
from ..sms import hours, phones
from .reports import STATE_TEXT, messages_query, reason

EXPORT_HEADER = (
    "N° client", "Client", "Numéro", "Texte envoyé", "Parties", "État", "Motif",
    "Envoyé le", "Terminé le",
)  # fmt: skip
_DATE_COLUMNS = (7, 8)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _illegal_characters():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE


def _safe(value):
    """A text cell that a spreadsheet shows as text: no control character, and a leading
    apostrophe when it would otherwise start a formula."""
    if not isinstance(value, str):
        return value
    value = _illegal_characters().sub("", value)
    if value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _paris_naive(moment_utc):
    """Paris wall-clock time without a zone: what a spreadsheet date cell holds."""
    if moment_utc is None:
        return None
    return moment_utc.replace(tzinfo=UTC).astimezone(hours.PARIS).replace(tzinfo=None)


def export_rows(campaign_id, state=""):
    """One tuple per recipient, in the report's order: texts made safe, phones in the
    national format, times as naive Paris datetimes."""
    query = messages_query(campaign_id, state).execution_options(yield_per=1000)
    for row in db.session.execute(query):
        message = row.Message
        name = " ".join(part for part in (row.first_name, row.last_name) if part)
        yield (
            _safe(row.client_number or ""),
            _safe(name),
            _safe(phones.display(message.phone) if message.phone else ""),
            _safe(message.text),
            message.parts,
            _safe(STATE_TEXT.get(message.state, message.state)),
            _safe(reason(message)),
            _paris_naive(message.submitted_at),
            _paris_naive(message.done_at),
        )


def to_csv(rows):
    """`;`-separated UTF-8 with a BOM: what French Excel opens as columns, accents intact."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        writer.writerow(
            [
                value.strftime("%d/%m/%Y %H:%M") if i in _DATE_COLUMNS and value else value
                for i, value in enumerate(row)
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows, title="Rapport"):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(EXPORT_HEADER))
    for row in rows:
        cells = list(row)
        for i in _DATE_COLUMNS:
            if cells[i] is not None:
                cell = WriteOnlyCell(sheet, value=cells[i])
                cell.number_format = "DD/MM/YYYY HH:MM"
                cells[i] = cell
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

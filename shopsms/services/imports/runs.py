"""An import run's file and queue, shared by the page's steps (__init__) and the job that
imports it (job.py): where uploads and reject files live, a record of the file read as
a row (its shape checked, then its cells parsed), the file's header of a field, and the
queueing of the job."""

import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from ...models import utcnow
from ...models.integration import ImportRun
from .. import background
from .fields import Problem, field_map, parse_row
from .reading import REPLACEMENT, FileFormat, Record
from .upsert import Row


def import_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_path(suffix: str = ".csv") -> Path:
    return import_dir() / f"{uuid.uuid4().hex}{suffix}"


def file_format(run: ImportRun) -> FileFormat:
    return FileFormat(encoding=run.encoding, delimiter=run.delimiter, headers=run.headers)


def _raw(run: ImportRun, mapping: Mapping[str, str], cells: list[str]) -> dict[str, str] | None:
    """field → cell text for the mapped columns; None when the row's width is wrong."""
    width = len(run.headers)
    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
        cells = cells[:width]  # separators at the end of the line: no extra column
    if len(cells) != width:
        return None
    return {
        mapping[header]: cell
        for header, cell in zip(run.headers, cells, strict=True)
        if mapping.get(header)
    }


def _width_error(run: ImportRun, cells: list[str]) -> Problem:
    return (
        "",
        _l(
            "La ligne a %(cells)s colonnes au lieu de %(headers)s "
            "(un séparateur dans une valeur sans guillemets ?).",
            cells=len(cells),
            headers=len(run.headers),
        ),
    )


_UNREADABLE = _l(
    "Caractère illisible (octet invalide pour l'encodage du fichier) : corrigez cette "
    "ligne ou enregistrez le fichier en UTF-8."
)


def shape(
    run: ImportRun, mapping: Mapping[str, str], record: Record
) -> tuple[Row, None] | tuple[None, dict[str, str]]:
    """(the row refused for its shape, None) or (None, field → cell)."""
    line, cells = record.line, record.cells
    if cells is None:
        return Row(line=line, values={}, errors=[("", record.error)], raw=[]), None
    if REPLACEMENT in "".join(cells):
        return Row(line=line, values={}, errors=[("", _UNREADABLE)], raw=cells), None
    raw = _raw(run, mapping, cells)
    if raw is None:
        error = _width_error(run, cells)
        if record.last_line - line >= 2:  # a quote opened and closed lines further
            error = (
                "",
                _l(
                    "Guillemet non fermé : les lignes %(first)s à %(last)s se lisent "
                    "comme une seule ligne. Fermez le guillemet ou retirez-le.",
                    first=line,
                    last=record.last_line,
                ),
            )
        return Row(line=line, values={}, errors=[error], raw=cells), None
    return None, raw


def read_row(
    run: ImportRun,
    mapping: Mapping[str, str],
    record: Record,
    raw: Mapping[str, str] | None = None,
) -> Row:
    if raw is None:
        refused, raw = shape(run, mapping, record)
        if refused is not None:
            return refused
        assert raw is not None  # shape gives the refused row or the cells, not neither
    line, cells = record.line, record.cells
    warnings: list[Problem] = []
    values, errors = parse_row(run.kind, raw, warnings)
    return Row(line=line, values=values, errors=errors, raw=cells, warnings=warnings)


def queue_run(run_id: int, *, resume: bool = False) -> bool:
    """Queue the job; when Redis is down the run stays « En attente » and the sweep
    queues it again (every minute), so the person is never left with an error page."""
    return background.import_file(run_id, resume)


STUCK_QUEUED = timedelta(minutes=2)


def stuck(run: ImportRun) -> bool:
    """A queued run nobody picked up (Redis was down, the job was lost)."""
    moment = run.progress_at or run.created_at
    return run.status == "queued" and moment is not None and utcnow() - moment > STUCK_QUEUED


def column_label(run: ImportRun, field_name: str) -> str:
    """The file's header that fed `field_name` (what the person will look for)."""
    for header, mapped in run.mapping.items():
        if mapped == field_name:
            return header
    field = field_map(run.kind).get(field_name)
    return str(field.label) if field else field_name

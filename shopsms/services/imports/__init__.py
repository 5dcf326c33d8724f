"""Taking in the point of sale's client file: clients, purchases and repair tickets.

`start` keeps the upload and detects its format, `preview` shows the first rows as they
will be imported, `confirm` remembers the mapping and queues the run, and `run` (the RQ
job) streams the file in batches, upserting by external id and writing every refused
row, with its line, column and reason, to a reject file. Nothing is dropped silently:
read = created + updated + unchanged + rejected.
"""

import logging
import os
import uuid
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Store, utcnow
from ...models.integration import IMPORT_KINDS, ImportRun
from .. import background
from . import mapping as mappings
from .fields import FIELDS, KIND_LABELS, field_map, parse_row
from .reading import REPLACEMENT, FileError, FileFormat, RowReader, detect
from .upsert import Outcome, Row, Scope, resolve_store, upsert

log = logging.getLogger(__name__)

__all__ = [
    "FIELDS", "IMPORT_KINDS", "KIND_LABELS", "FileError", "ImportError_", "Outcome", "Row",
    "Scope", "abandon", "confirm", "field_map", "import_path", "parse_row", "preview",
    "retry", "run", "start", "sweep", "upsert",
]  # fmt: skip

PREVIEW_ROWS = 10


class ImportError_(ValueError):  # noqa: N801 — ImportError is a builtin
    """A message for the person importing (a lazy string: str() says it in their
    language)."""


def import_dir():
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_path(suffix=".csv"):
    return import_dir() / f"{uuid.uuid4().hex}{suffix}"


def start(path, *, kind, filename="", user=None, store_id=None):
    """Record an uploaded file as a draft run, with its detected format and mapping."""
    try:
        if kind not in IMPORT_KINDS:
            raise ImportError_(_l("Choisissez le type de fichier : clients, ventes ou fiches SAV."))
        file_format = detect(path)
    except FileError as error:
        Path(path).unlink(missing_ok=True)
        raise ImportError_(error.args[0]) from error
    except ImportError_:
        Path(path).unlink(missing_ok=True)
        raise
    except (OSError, ValueError) as error:  # csv.Error is not a ValueError: see detect()
        Path(path).unlink(missing_ok=True)
        log.warning("import upload %s unreadable: %s", filename, error)
        raise ImportError_(
            _l(
                "Ce fichier ne se lit pas : enregistrez le fichier au format CSV depuis votre "
                "tableur, puis importez-le."
            )
        ) from error
    run = ImportRun(
        kind=kind,
        filename=(filename or Path(path).name)[:200],
        upload_path=str(path),
        encoding=file_format.encoding,
        delimiter=file_format.delimiter,
        headers=file_format.headers,
        mapping=mappings.suggested_mapping(kind, file_format.headers),
        size_bytes=os.path.getsize(path),
        user_id=getattr(user, "id", None),
        store_id=store_id,
    )
    db.session.add(run)
    db.session.commit()
    return run


def _format(run):
    return FileFormat(encoding=run.encoding, delimiter=run.delimiter, headers=run.headers)


def _raw(run, mapping, cells):
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


def _width_error(run, cells):
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


def shape(run, mapping, record):
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


def _row(run, mapping, record, raw=None):
    if raw is None:
        refused, raw = shape(run, mapping, record)
        if refused is not None:
            return refused
    line, cells = record.line, record.cells
    warnings = []
    values, errors = parse_row(run.kind, raw, warnings)
    return Row(line=line, values=values, errors=errors, raw=cells, warnings=warnings)


def preview(run, mapping=None, limit=PREVIEW_ROWS):
    """The first rows, parsed with `mapping`: what will be imported and what refused."""
    mapping = run.mapping if mapping is None else mapping
    rows = []
    with RowReader(run.upload_path, _format(run)) as reader:
        for record in reader:
            rows.append(_row(run, mapping, record))
            if len(rows) >= limit:
                break
    # The store check too: a manager sees at once that another store's rows will not go in.
    stores = dict(db.session.execute(db.select(Store.code, Store.id)).all())
    codes = {id_: code for code, id_ in stores.items()}
    for row in rows:
        if not row.errors:
            resolve_store(row, stores, codes, Scope(store_id=run.store_id))
    return rows


def confirm(run_id, mapping, *, enqueue=True):
    """Keep the mapping (and remember it for the kind), then queue the run."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status != "draft":
        raise ImportError_(_l("Cet import a déjà été lancé."))
    mapping = {
        header: field for header, field in mapping.items() if field and header in run.headers
    }
    errors = mappings.check(run.kind, mapping)
    if errors:
        raise ImportError_(" ".join(map(str, errors)))  # said in the person's language
    run.mapping = mapping
    mappings.remember(run.kind, mapping)
    run.status, run.progress_at = "queued", utcnow()
    db.session.commit()
    if enqueue:
        _enqueue(run.id)
    return run


def _enqueue(run_id, *, resume=False):
    """Queue the job; when Redis is down the run stays « En attente » and the sweep
    queues it again (every minute), so the person is never left with an error page."""
    return background.import_file(run_id, resume)


def abandon(run_id):
    """A draft the person cancelled: its upload goes, nothing was imported."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status != "draft":
        raise ImportError_(_l("Seul un import pas encore lancé peut être abandonné."))
    Path(run.upload_path).unlink(missing_ok=True)
    db.session.delete(run)
    db.session.commit()


def continue_later(run_id):
    """The job used its time budget: the rest goes in a job behind the waiting ones."""
    return _enqueue(run_id, resume=True)


STUCK_QUEUED = timedelta(minutes=2)


def stuck(run):
    """A queued run nobody picked up (Redis was down, the job was lost)."""
    moment = run.progress_at or run.created_at
    return run.status == "queued" and moment is not None and utcnow() - moment > STUCK_QUEUED


def retry(run_id):
    """Run a failed (or stuck) import again from the start: rows already written count
    as unchanged this time."""
    run = db.session.get(ImportRun, run_id)
    if (
        run is None
        or not (run.status == "failed" or stuck(run))
        or not Path(run.upload_path).exists()
    ):
        raise ImportError_(
            _l("Cet import ne peut pas être relancé : importez le fichier à nouveau.")
        )
    run.status, run.error, run.progress_at = "queued", "", utcnow()
    db.session.commit()
    _enqueue(run.id)
    return run


def column_label(run, field_name):
    """The file's header that fed `field_name` (what the person will look for)."""
    for header, mapped in run.mapping.items():
        if mapped == field_name:
            return header
    field = field_map(run.kind).get(field_name)
    return str(field.label) if field else field_name


from .job import run, sweep  # noqa: E402 — job.py uses the helpers above

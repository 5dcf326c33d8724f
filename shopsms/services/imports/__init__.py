"""Taking in the point of sale's client file: clients, purchases and repair tickets.

`start` keeps the upload and detects its format, `preview` shows the first rows as they
will be imported, `confirm` remembers the mapping and queues the run, and `run` (the RQ
job) streams the file in batches, upserting by external id and writing every refused
row, with its line, column and reason, to a reject file. Nothing is dropped silently:
read = created + updated + unchanged + rejected.
"""

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from flask_babel import lazy_gettext as _l

from ...access import Person
from ...extensions import db
from ...models import Store, utcnow
from ...models.integration import IMPORT_KINDS, ImportRun
from . import mapping as mappings
from .fields import FIELDS, KIND_LABELS, field_map, parse_row
from .job import run, sweep
from .reading import FileError, PathLike, RowReader, detect
from .runs import file_format, import_path, queue_run, read_row, stuck
from .upsert import Outcome, Row, Scope, resolve_store, upsert

log = logging.getLogger(__name__)

__all__ = [
    "FIELDS",
    "IMPORT_KINDS",
    "KIND_LABELS",
    "FileError",
    "ImportError_",
    "Outcome",
    "Row",
    "Scope",
    "abandon",
    "confirm",
    "field_map",
    "import_path",
    "parse_row",
    "preview",
    "retry",
    "run",
    "start",
    "sweep",
    "upsert",
]

PREVIEW_ROWS = 10


class ImportError_(ValueError):  # noqa: N801 — ImportError is a builtin
    """A message for the person importing (a lazy string: str() says it in their
    language)."""


def start(
    path: PathLike,
    *,
    kind: str,
    filename: str = "",
    user: Person | None = None,
    store_id: int | None = None,
) -> ImportRun:
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


def preview(
    run: ImportRun, mapping: Mapping[str, str] | None = None, limit: int = PREVIEW_ROWS
) -> list[Row]:
    """The first rows, parsed with `mapping`: what will be imported and what refused."""
    mapping = run.mapping if mapping is None else mapping
    rows = []
    with RowReader(run.upload_path, file_format(run)) as reader:
        for record in reader:
            rows.append(read_row(run, mapping, record))
            if len(rows) >= limit:
                break
    # The store check too: a manager sees at once that another store's rows will not go in.
    stores = dict(db.session.execute(db.select(Store.code, Store.id)).all())
    codes = {id_: code for code, id_ in stores.items()}
    for row in rows:
        if not row.errors:
            resolve_store(row, stores, codes, Scope(store_id=run.store_id))
    return rows


def confirm(run_id: int, mapping: Mapping[str, str], *, enqueue: bool = True) -> ImportRun:
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
        queue_run(run.id)
    return run


def abandon(run_id: int) -> None:
    """A draft the person cancelled: its upload goes, nothing was imported."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status != "draft":
        raise ImportError_(_l("Seul un import pas encore lancé peut être abandonné."))
    Path(run.upload_path).unlink(missing_ok=True)
    db.session.delete(run)
    db.session.commit()


def continue_later(run_id: int) -> bool:
    """The job used its time budget: the rest goes in a job behind the waiting ones."""
    return queue_run(run_id, resume=True)


def retry(run_id: int) -> ImportRun:
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
    queue_run(run.id)
    return run

"""The import job: stream the file, upsert batch by batch, record progress as it goes.

A run works for a time budget, then stops at a record boundary (the byte offset and
line count are stored) and queues its own continuation, so that SMS jobs on the single
worker interleave with a million-row import. The sweep takes care of the runs a dead
worker or a Redis outage left behind, and of old files.
"""

import hashlib
import heapq
import logging
import time
from array import array
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import utcnow
from ...models.integration import ImportRun
from ..skip_reasons import N_
from . import fastpath, staging
from .fields import FIELDS, CellError, field_map
from .reading import Record, RowReader
from .rejects import Rejects
from .runs import column_label, file_format, import_dir, queue_run, read_row, shape, stuck
from .upsert import Outcome, Row, Scope, screen, upsert

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
# PostgreSQL writes a batch in a few set-based statements (staging.py): bigger batches
# spread their fixed cost (the staging table, the commit) over more rows.
PG_BATCH_SIZE = 10000
# Kept in ImportRun.error as their French text, a catalogue entry: the page says it in
# the reader's language (templates/integration/_progress.html).
FAILED = N_(
    "L'import s'est arrêté sur une erreur inattendue. Relancez-le ; si l'erreur revient, "
    "contactez le support en indiquant le n° d'import."
)
STALE_RUNNING = N_("L'import s'est arrêté (le serveur a redémarré ?) : relancez-le.")


def _seen_path(run: ImportRun) -> Path:
    return import_dir() / f"vus-{run.id}.bin"


def id_hash(external_id: str) -> int:
    """64 bits of an external id: the run-wide duplicate check keeps these, not strings."""
    return int.from_bytes(
        hashlib.blake2b(external_id.encode(), digest_size=8).digest(), "big", signed=True
    )


class _Seen:
    """External ids met earlier in the run, kept on disk between its jobs. In memory as
    8-byte hashes in a sorted array (plus a set of the recent ones, merged into it now
    and then), so that a 10-million-row file does not hold 10 million Python ints."""

    RECENT = 100_000

    def __init__(self, run: ImportRun, fresh: bool) -> None:
        self.path = _seen_path(run)
        if fresh:
            self.path.unlink(missing_ok=True)
        stored = array("q")
        if self.path.exists():
            with open(self.path, "rb") as file:
                stored.frombytes(file.read())
        self.sorted = array("q", sorted(stored))
        self.recent: set[int] = set()
        self.pending = array("q")

    def _known(self, value: int) -> bool:
        if value in self.recent:
            return True
        index = bisect_left(self.sorted, value)
        return index < len(self.sorted) and self.sorted[index] == value

    def __contains__(self, external_id: str) -> bool:
        return self._known(id_hash(external_id))

    def add(self, external_id: str) -> None:
        value = id_hash(external_id)
        if not self._known(value):
            self.recent.add(value)
            self.pending.append(value)

    def forget_pending(self) -> None:
        self.recent.difference_update(self.pending)
        self.pending = array("q")

    def save(self) -> None:
        with open(self.path, "ab") as file:
            file.write(self.pending.tobytes())
        self.pending = array("q")
        if len(self.recent) > self.RECENT:
            self.sorted = array("q", heapq.merge(self.sorted, sorted(self.recent)))
            self.recent = set()


def _budget() -> int:
    return current_app.config.get("IMPORT_JOB_SECONDS", 25)


def run(run_id: int, *, resume: bool = False, budget: float | None = None) -> ImportRun | None:
    """Import run `run_id`: all of it (budget None), or for `budget` seconds then stop
    with status "running" for a continuation (`resume=True`) to go on."""
    import_run = db.session.get(ImportRun, run_id)
    if import_run is None:
        return None
    if resume:
        if import_run.status != "running":
            return None
    elif import_run.status not in ("queued", "failed"):
        return None  # already done, running elsewhere, or abandoned
    else:
        import_run.status, import_run.started_at = "running", utcnow()
        import_run.rows_read = import_run.rows_created = import_run.rows_updated = 0
        import_run.rows_unchanged = import_run.rows_rejected = import_run.rows_warned = 0
        import_run.bytes_done = import_run.lines_done = 0
        if import_run.reject_path:
            Path(import_run.reject_path).unlink(missing_ok=True)
            import_run.reject_path = ""
    import_run.progress_at = utcnow()
    db.session.commit()
    try:
        paused = _work(import_run, fresh=not resume, budget=budget)
    except Exception as error:
        db.session.rollback()
        log.exception("import run %s failed", run_id)
        import_run = db.session.get(ImportRun, run_id)
        if import_run is None:  # deleted meanwhile (nothing deletes a running import)
            return None
        import_run.status, import_run.finished_at = "failed", utcnow()
        import_run.error = _failure_message(error)[:2000]
        db.session.commit()
        return import_run
    if paused:
        return import_run
    import_run.status, import_run.finished_at = "done", utcnow()
    import_run.bytes_done = import_run.size_bytes
    Path(import_run.upload_path).unlink(missing_ok=True)
    _seen_path(import_run).unlink(missing_ok=True)
    db.session.commit()
    return import_run


def _failure_message(error: Exception) -> str:
    if isinstance(error, FileNotFoundError):
        return N_("Le fichier n'est plus sur le serveur : importez-le à nouveau.")
    if isinstance(error, OSError) and error.errno == 28:
        return N_("Le disque du serveur est plein : prévenez le support, puis relancez l'import.")
    return FAILED


def _work(import_run: ImportRun, *, fresh: bool, budget: float | None) -> bool:
    """True when it stopped for the time budget, False when the file is done."""
    deadline = None if budget is None else time.monotonic() + budget
    scope = Scope(store_id=import_run.store_id, how="import", user_id=import_run.user_id)
    rejects = Rejects(import_run, import_dir(), column_label)
    seen = _Seen(import_run, fresh)
    try:
        where = {"offset": import_run.bytes_done, "lines": import_run.lines_done}
        with RowReader(import_run.upload_path, file_format(import_run), **where) as reader:
            batch = []
            size = PG_BATCH_SIZE if _staged() else BATCH_SIZE
            for record in reader:
                batch.append(record)
                if len(batch) >= size:
                    _flush(import_run, batch, scope, rejects, reader, seen)
                    batch = []
                    if deadline is not None and time.monotonic() > deadline:
                        return True
            _flush(import_run, batch, scope, rejects, reader, seen)
    finally:
        rejects.close()
    return False


def _flush(
    import_run: ImportRun,
    records: Sequence[Record],
    scope: Scope,
    rejects: Rejects,
    reader: RowReader,
    seen: _Seen,
) -> None:
    try:
        outcome = _upsert(import_run, records, scope, seen)
    except IntegrityError:
        # Another writer (the API, a second import) created the same external id or
        # brand between our read and our write: its rows exist now, so once more.
        db.session.rollback()
        seen.forget_pending()
        outcome = _upsert(import_run, records, scope, seen)
    rejects.write(outcome.rejected + outcome.warned)
    import_run.rows_read += len(records)
    import_run.rows_created += outcome.created
    import_run.rows_updated += outcome.updated
    import_run.rows_unchanged += outcome.unchanged
    import_run.rows_rejected += len(outcome.rejected)
    import_run.rows_warned += len(outcome.warned)
    import_run.bytes_done, import_run.lines_done = reader.offset, reader.lines
    import_run.progress_at = utcnow()
    # The seen ids go to disk before the commit: a resumed run must know them all.
    seen.save()
    db.session.commit()
    # The batch's clients are written: let the session forget them (bounded memory).
    db.session.expunge_all()
    db.session.add(import_run)


def _staged() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _upsert(import_run: ImportRun, records: Sequence[Record], scope: Scope, seen: _Seen) -> Outcome:
    mapping = import_run.mapping
    if not _staged():
        rows = [read_row(import_run, mapping, record) for record in records]
        return upsert(import_run.kind, rows, scope, seen=seen)
    # PostgreSQL: COPY into a staging table, then set-based statements (staging.py).
    plan = staging.Plan(import_run.kind, mapping.values())
    if import_run.kind == "clients":
        return _upsert_fast(import_run, plan, records, scope, seen)
    rows = [plan.derive(read_row(import_run, mapping, record)) for record in records]
    outcome = Outcome()
    live = screen(rows, scope, outcome, seen=seen)
    if live:
        outcome.add(staging.write(plan, live, scope))
    return outcome


_ID, _STORE = (FIELDS["clients"][0].parse, field_map("clients")["store"].parse)


def _upsert_fast(
    import_run: ImportRun,
    plan: staging.Plan,
    records: Sequence[Record],
    scope: Scope,
    seen: _Seen,
) -> Outcome:
    """Clients on PostgreSQL: the raw cells go to SQL, which reads the usual forms
    (fastpath.py); only the rows it cannot decide are read by fields.py's parsers."""
    mapping, today = import_run.mapping, date.today()
    fast = fastpath.FastPath(plan, today)
    shaped, raws = [], []
    for record in records:
        refused, raw = shape(import_run, mapping, record)
        shaped.append((record, refused, raw))
        if raw is not None and "\x00" not in "".join(raw.values()):
            raws.append((record.line, [raw[name] for name in fast.fields]))
    cursor = staging.session_cursor()
    try:
        staging.no_jit(cursor)
        fast.create(cursor)
        fast.copy(cursor, raws)
        slow = fast.slow_lines(cursor)
    finally:
        cursor.close()
    copied = {line for line, _ in raws}
    rows = []
    for record, refused, raw in shaped:
        if refused is not None:
            rows.append(refused)
            continue
        row = None
        if raw is not None and record.line in copied and record.line not in slow:
            row = _fast_row(record, raw)
        if row is None:
            row = plan.derive(read_row(import_run, mapping, record, raw))
        rows.append(row)
    outcome = Outcome()
    live = screen(rows, scope, outcome, seen=seen)
    if live:
        outcome.add(staging.write(plan, live, scope, fast))
    return outcome


def _fast_row(record: Record, raw: Mapping[str, str]) -> Row | None:
    """A row whose other cells SQL read: its id and store read here as fields.py does
    (the run's duplicates and the stores are checked in Python); None when Python has
    to read the whole row (an empty or unreadable id…)."""
    if not raw["external_id"].strip():
        return None
    try:
        values = {"external_id": _ID(raw["external_id"])}
        if "store" in raw:
            values["store"] = _STORE(raw["store"])
    except CellError:
        return None
    return Row(line=record.line, values=values, raw=record.cells)


def sweep() -> dict[str, int]:
    """Called by the every-minute sweep: queue runs nobody picked up, fail runs whose
    worker died, drop abandoned drafts and the files of old runs. Returns counts."""
    config = current_app.config
    now = utcnow()
    stale = now - timedelta(minutes=config.get("IMPORT_STALE_MINUTES", 15))
    counts = {"requeued": 0, "failed": 0, "drafts": 0, "files": 0}
    for import_run in db.session.scalars(select(ImportRun).where(ImportRun.status == "queued")):
        if stuck(import_run) and queue_run(import_run.id):
            import_run.progress_at = now
            counts["requeued"] += 1
    running = select(ImportRun).where(ImportRun.status == "running", ImportRun.progress_at < stale)
    for import_run in db.session.scalars(running):
        import_run.status, import_run.finished_at = "failed", now
        import_run.error = STALE_RUNNING
        counts["failed"] += 1
    drafts = select(ImportRun).where(
        ImportRun.status == "draft", ImportRun.created_at < now - timedelta(hours=24)
    )
    for import_run in db.session.scalars(drafts):
        Path(import_run.upload_path).unlink(missing_ok=True)
        db.session.delete(import_run)
        counts["drafts"] += 1
    keep = now - timedelta(days=config.get("IMPORT_KEEP_DAYS", 30))
    old = select(ImportRun).where(
        ImportRun.status.in_(("done", "failed")),
        ImportRun.finished_at < keep,
        (ImportRun.reject_path != "") | (ImportRun.upload_path != ""),
    )
    for import_run in db.session.scalars(old):
        for path in (import_run.upload_path, import_run.reject_path):
            if path:
                Path(path).unlink(missing_ok=True)
        _seen_path(import_run).unlink(missing_ok=True)
        import_run.upload_path = import_run.reject_path = ""
        counts["files"] += 1
    db.session.commit()
    return counts

"""The reject file: every refused row with its line, column and reason, then the row
itself, so that the person fixes it in a spreadsheet and imports the file again."""

import csv
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import IO, TYPE_CHECKING

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ...models.integration import ImportRun

if TYPE_CHECKING:  # the job imports this module, and upsert through it
    from .upsert import Row

# A cell starting with one of these is a formula for a spreadsheet (CSV injection):
# the reject file repeats what came in, so it must not run it. fields.text() takes the
# quote away again when the corrected file comes back.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def language(run: ImportRun) -> str:
    """The file is written by a job, with nobody's request: in the language of the person
    who started the import (their choice in ShopSMS), else the application's."""
    chosen = run.user.locale if run.user is not None else None
    config = current_app.config
    return (
        chosen
        if chosen is not None and chosen in config["LANGUAGES"]
        else config["BABEL_DEFAULT_LOCALE"]
    )


class Rejects:
    """Opened at the first refused row (appending when a run resumes), in UTF-8 with a
    BOM and ';' so that a spreadsheet opens it."""

    def __init__(
        self, run: ImportRun, folder: Path, label: Callable[[ImportRun, str], str]
    ) -> None:
        self.run, self.folder, self.label = run, folder, label
        self.file: IO[str] | None = None
        self.language = language(run)

    def _open(self) -> IO[str]:
        path = Path(self.run.reject_path or self.folder / f"rejets-{self.run.id}.csv")
        fresh = not path.exists() or not self.run.reject_path
        encoding = "utf-8-sig" if fresh else "utf-8"
        # Client data: readable by ShopSMS's own account only, whatever the umask.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)
        file = open(path, "w" if fresh else "a", encoding=encoding, newline="")  # noqa: SIM115
        self.file, self.writer = file, csv.writer(file, delimiter=";")
        if fresh:
            titles = (_l("Ligne"), _l("Colonne"), _l("Motif"))
            self.writer.writerow([*map(str, titles), *map(safe, self.run.headers)])
        self.run.reject_path = str(path)
        return file

    def write(self, rows: Collection["Row"]) -> None:
        """Refused rows (their errors) and imported ones with a cell left aside (their
        warnings), in line order."""
        if not rows:
            return
        with force_locale(self.language):
            file = self.file if self.file is not None else self._open()
            for row in sorted(rows, key=lambda row: row.line):
                problems = row.errors or row.warnings
                columns = ", ".join(
                    dict.fromkeys(self.label(self.run, f) for f, _ in problems if f)
                )
                reasons = " ; ".join(str(message) for _, message in problems)
                if not row.errors:
                    reasons = str(_l("Importée, sauf : %(reasons)s", reasons=reasons))
                cells = row.raw if isinstance(row.raw, list) else []
                self.writer.writerow([row.line, safe(columns), safe(reasons), *map(safe, cells)])
        file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

"""Reading point-of-sale CSV exports as they come: `;` or `,`, UTF-8 or Windows-1252,
streamed row by row so that a file of a million clients never sits in memory.

A bad byte never changes how the whole file reads: it becomes U+FFFD and only its row
is refused (with its line number). Reading can start again at a byte offset, which is
how an import hands the worker over to SMS jobs and resumes where it stopped.
"""

import codecs
import contextlib
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeAlias

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
MAX_FIELD = 1024 * 1024
# A line longer than this (no line break at all: not a CSV) is refused, not buffered.
MAX_LINE_BYTES = 4 * MAX_FIELD
# A spreadsheet cell can be long (a comment); a single field is still bounded.
csv.field_size_limit(MAX_FIELD)

REPLACEMENT = "\ufffd"
NOT_CSV = _l(
    "Ce fichier n'est pas un fichier CSV (classeur Excel, PDF, image…). "
    "Enregistrez le fichier au format CSV (séparateur point-virgule) depuis votre tableur, "
    "puis importez-le."
)
_TOO_LONG = _l("Ligne trop longue : ce n'est pas une ligne de CSV.")


# A message for the person importing: a lazy string, or a plain one.
Message: TypeAlias = "str | LazyString"
# An upload's path, as the page's steps and the tests give it.
PathLike: TypeAlias = "str | os.PathLike[str]"


class FileError(ValueError):
    """The file cannot be read at all (not a CSV, no header): the message says why."""


@dataclass(frozen=True)
class FileFormat:
    encoding: str  # "utf-8-sig" or "cp1252"
    delimiter: str  # ";" or ","
    headers: list[str]


def detect_encoding(path: PathLike) -> str:
    """UTF-8 when the file starts with a BOM or when its non-ASCII text is mostly valid
    UTF-8 (a stray byte in a UTF-8 file only spoils its own row), else Windows-1252 (what
    French point-of-sale software writes). Streams: one chunk in memory."""
    with open(path, "rb") as file:
        if file.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        file.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        valid = invalid = 0
        while chunk := file.read(CHUNK_BYTES):
            text = decoder.decode(chunk)
            if text.isascii():
                continue
            invalid += text.count(REPLACEMENT)
            # Each valid multi-byte character reads as fewer characters than bytes.
            valid += max(0, len(chunk) - len(text))
        invalid += decoder.decode(b"", final=True).count(REPLACEMENT)
    if invalid == 0 or valid >= invalid:
        return "utf-8-sig"
    return "cp1252"


def detect_delimiter(sample: str) -> str:
    first_line = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        # The header line alone decides: French exports use ';' because of "359,00";
        # Excel's « Texte Unicode » separates with tabs.
        return max(";,\t", key=lambda sep: (first_line.count(sep), sep == ";"))


def _utf16_to_utf8(path: PathLike, raw: bytes) -> None:
    """Excel's « Texte Unicode » is UTF-16 with a BOM: rewritten once as UTF-8 (with its
    BOM), in chunks, so that the line reader and its resumable byte offsets work as for
    any other file."""
    encoding = "utf-16-le" if raw.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    converted = f"{path}.utf8"
    with open(path, "rb") as source, open(converted, "wb") as target:
        source.seek(2)
        target.write(codecs.BOM_UTF8)
        while chunk := source.read(CHUNK_BYTES):
            target.write(decoder.decode(chunk).encode("utf-8"))
        target.write(decoder.decode(b"", final=True).encode("utf-8"))
    os.replace(converted, path)


def _looks_binary(raw: bytes) -> bool:
    # .xlsx/.ods/.docx are zip files; NUL bytes mean a binary file (or UTF-16).
    return raw.startswith((b"PK\x03\x04", b"%PDF")) or b"\x00" in raw


def detect(path: PathLike) -> FileFormat:
    with open(path, "rb") as file:
        raw = file.read(SAMPLE_BYTES)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _utf16_to_utf8(path, raw)
        with open(path, "rb") as file:
            raw = file.read(SAMPLE_BYTES)
    if _looks_binary(raw):
        raise FileError(NOT_CSV)
    encoding = detect_encoding(path)
    # Cut at the last complete line so that the sniffer never sees half a row.
    if len(raw) == SAMPLE_BYTES and b"\n" in raw:
        raw = raw[: raw.rindex(b"\n")]
    sample = raw.decode(encoding, errors="replace")
    if not sample.strip():
        raise FileError(_l("Le fichier est vide."))
    delimiter = detect_delimiter(sample)
    try:
        headers = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    except csv.Error as error:
        raise FileError(NOT_CSV) from error
    headers = [header.strip() for header in headers]
    while len(headers) > 1 and not headers[-1]:
        headers.pop()  # a trailing separator on every line is not a column
    if not any(headers):
        raise FileError(_l("La première ligne doit contenir le nom des colonnes."))
    if len(headers) < 2:
        raise FileError(_l("Une seule colonne trouvée : le séparateur doit être « ; » ou « , »."))
    if any(REPLACEMENT in header for header in headers):
        raise FileError(
            _l(
                "La première ligne (noms des colonnes) contient des caractères illisibles : "
                "enregistrez le fichier en UTF-8 ou en CSV Windows."
            )
        )
    return FileFormat(encoding=encoding, delimiter=delimiter, headers=headers)


class _LongLine(csv.Error):
    pass


@dataclass
class Record:
    line: int  # the file's line where the record starts
    cells: list[str] | None  # None when the record could not be read (see `error`)
    error: Message = ""
    last_line: int = 0


class RowReader:
    """Iterates Records after the header. `offset` is the byte offset just after the last
    record returned and `lines` the lines read so far: both resume a later reading."""

    def __init__(
        self, path: PathLike, file_format: FileFormat, *, offset: int = 0, lines: int = 0
    ) -> None:
        self._binary = open(path, "rb")  # noqa: SIM115 — closed by close()/with
        self._encoding = "utf-8" if file_format.encoding.startswith("utf-8") else "cp1252"
        self.offset, self.lines = offset, lines
        if offset:
            self._binary.seek(offset)
        self._reader = csv.reader(self._lines(), delimiter=file_format.delimiter)
        if not offset:
            self._skip_header()

    def _skip_header(self) -> None:
        with contextlib.suppress(csv.Error):
            next(self._reader, None)
        self.offset = self._binary.tell()

    def _lines(self) -> Iterator[str]:
        binary, encoding = self._binary, self._encoding
        first = self.offset == 0
        while True:
            line = binary.readline(MAX_LINE_BYTES)
            if not line:
                return
            self.lines += 1
            if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
                while (more := binary.readline(MAX_LINE_BYTES)) and not more.endswith(b"\n"):
                    pass
                raise _LongLine()
            if first:
                first = False
                if line.startswith(codecs.BOM_UTF8):
                    line = line[3:]
            yield line.decode(encoding, errors="replace")

    @property
    def bytes_done(self) -> int:
        return self.offset

    def __iter__(self) -> Iterator[Record]:
        while True:
            start = self.lines + 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except _LongLine:
                self.offset = self._binary.tell()
                yield Record(start, None, _TOO_LONG, self.lines)
                continue
            except csv.Error:
                # The csv module resets itself at the next record: read on.
                self.offset = self._binary.tell()
                yield Record(
                    start,
                    None,
                    _l(
                        "Valeur trop longue (plus de %(kib)s Kio) ou guillemet non "
                        "fermé : vérifiez les guillemets de cette ligne.",
                        kib=MAX_FIELD // 1024,
                    ),
                    self.lines,
                )
                continue
            self.offset = self._binary.tell()
            if not "".join(cells).strip():
                continue  # blank lines are not rows
            yield Record(start, cells, "", self.lines)

    def close(self) -> None:
        self._binary.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

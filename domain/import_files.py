"""Reading an uploaded CSV or XLSX file row by row, within limits, and writing safe CSV cells.

Both formats stream: CSV through the standard library's reader over a strict UTF-8 decoder,
XLSX through openpyxl's read-only mode (rows come off the zipped XML one at a time). openpyxl
over python-calamine: calamine is faster but loads the whole sheet into memory, and openpyxl
also writes XLSX, which the tests and the benchmark need to make their files.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from domain.errors import DomainError

SNIFF_BYTES = 16_384
DELIMITERS = (",", ";", "\t")
MAX_CELL_LENGTH = 10_000
# A cell starting with one of these is a formula to a spreadsheet program.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ImportFileCode(StrEnum):
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    BAD_ENCODING = "BAD_ENCODING"
    BROKEN_FILE = "BROKEN_FILE"
    EMPTY_FILE = "EMPTY_FILE"
    NO_HEADER = "NO_HEADER"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    TOO_MANY_COLUMNS = "TOO_MANY_COLUMNS"


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """The largest file, the most data rows and columns an import takes, and its batch size."""

    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 200_000
    max_columns: int = 100
    batch_rows: int = 500


def file_error(code: ImportFileCode, message: str) -> DomainError:
    return DomainError(code, message, "file")


def format_of(file_name: str, head: bytes) -> FileFormat:
    """XLSX by its zip signature or name, CSV by name or as text; anything else refused."""
    name = file_name.lower()
    if head.startswith(b"PK\x03\x04") or name.endswith(".xlsx"):
        return FileFormat.XLSX
    if name.endswith((".csv", ".txt")) or not name.rpartition(".")[1]:
        return FileFormat.CSV
    raise file_error(ImportFileCode.UNSUPPORTED_FORMAT, "Upload a .csv (UTF-8) or an .xlsx file.")


def _cell(value: Any) -> str:
    """A cell as text: whole numbers without `.0`, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()[:MAX_CELL_LENGTH]


def _csv_rows(path: Path) -> Generator[list[str]]:
    with path.open("rb") as raw:
        sample = raw.read(SNIFF_BYTES)
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if len(sample) < SNIFF_BYTES or exc.start < len(sample) - 4:  # not a cut character
            raise _bad_encoding(exc) from exc
    # The separator is the one the header uses most (spreadsheets in many locales write `;`).
    header = sample.decode("utf-8-sig", errors="ignore").split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=header.count)
    with path.open(encoding="utf-8-sig", errors="strict", newline="") as handle:
        try:
            for row in csv.reader(handle, delimiter=delimiter):
                yield [cell.strip()[:MAX_CELL_LENGTH] for cell in row]
        except UnicodeDecodeError as exc:
            raise _bad_encoding(exc) from exc
        except csv.Error as exc:
            raise file_error(
                ImportFileCode.BROKEN_FILE, f"Not a readable CSV file: {exc}."
            ) from exc


def _bad_encoding(exc: UnicodeDecodeError) -> DomainError:
    return file_error(
        ImportFileCode.BAD_ENCODING,
        f"The file is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8 and upload again.",
    )


def _xlsx_rows(path: Path) -> Generator[list[str]]:
    from openpyxl import load_workbook  # heavy import, only for spreadsheets

    # A file object, not the path: openpyxl refuses a path without an .xlsx extension.
    with path.open("rb") as handle:
        try:
            book = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # zip, XML and openpyxl's own InvalidFileException
            raise file_error(ImportFileCode.BROKEN_FILE, "Not a readable XLSX workbook.") from exc
        try:
            if not book.worksheets:
                return
            try:
                for values in book.worksheets[0].iter_rows(values_only=True):
                    yield [_cell(v) for v in values]
            except (zipfile.BadZipFile, KeyError, ValueError) as exc:
                raise file_error(ImportFileCode.BROKEN_FILE, "The workbook is damaged.") from exc
        finally:
            book.close()


def file_rows(path: Path, file_format: FileFormat) -> Generator[list[str]]:
    """Every row of the file (the header first), as text cells."""
    return _csv_rows(path) if file_format is FileFormat.CSV else _xlsx_rows(path)


def _trimmed(row: list[str]) -> list[str]:
    while row and not row[-1]:
        row = row[:-1]
    return row


def header_of(rows: Iterator[list[str]], limits: ImportLimits) -> list[str]:
    """The column names: the first non-blank row, every name given and distinct."""
    for row in rows:
        header = _trimmed(row)
        if not header:
            continue
        if len(header) > limits.max_columns:
            raise file_error(
                ImportFileCode.TOO_MANY_COLUMNS,
                f"The file has {len(header)} columns; at most {limits.max_columns} are taken.",
            )
        if any(not name for name in header) or len(set(header)) != len(header):
            raise file_error(
                ImportFileCode.NO_HEADER,
                "The first row must name every column, each once (it is the header).",
            )
        return header
    raise file_error(ImportFileCode.EMPTY_FILE, "The file has no rows.")


def data_rows(rows: Iterator[list[str]], width: int) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of the rows after the header, numbered from 1 as they stand in the
    file (so the report's numbers find them); blank rows are passed over."""
    for number, row in enumerate(rows, start=1):
        if any(row):
            yield number, (row + [""] * width)[:width]


@dataclass(frozen=True, slots=True)
class FileSummary:
    columns: list[str]
    samples: list[list[str]]
    total_rows: int


def summarise(
    path: Path, file_format: FileFormat, limits: ImportLimits, samples: int
) -> FileSummary:
    """Read the whole file once: its header, first rows and row count, or why it is refused."""
    first: list[list[str]] = []
    total = 0
    with contextlib.closing(file_rows(path, file_format)) as rows:
        columns = header_of(rows, limits)
        for _, row in data_rows(rows, len(columns)):
            total += 1
            if total > limits.max_rows:
                raise file_error(
                    ImportFileCode.TOO_MANY_ROWS,
                    f"At most {limits.max_rows} rows are taken at once.",
                )
            if len(first) < samples:
                first.append(row)
    if total == 0:
        raise file_error(ImportFileCode.EMPTY_FILE, "The file has a header but no rows.")
    return FileSummary(columns, first, total)


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP: prefix a quote)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_report(rows: list[tuple[int, str, str]]) -> str:
    """The error report: one line per problem (row, column, why), every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "problem"])
    for number, column, message in rows:
        writer.writerow([number, safe_cell(column), safe_cell(message)])
    return out.getvalue()

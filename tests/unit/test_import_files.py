"""Import files without a database: safe report cells, header rules, row numbers, mapping
suggestions."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from domain.errors import DomainError
from domain.import_files import (
    FileFormat,
    ImportLimits,
    csv_report,
    data_rows,
    file_rows,
    header_of,
    safe_cell,
)
from domain.import_runs import probe_for
from domain.imports import TARGETS, suggest_mapping


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2", "@SUM(A1)", "\t=x"])
def test_a_cell_a_spreadsheet_would_run_is_quoted(cell: str) -> None:
    assert safe_cell(cell) == f"'{cell}"


def test_the_report_quotes_formulas_in_every_cell_it_writes() -> None:
    report = csv_report([(3, "=HYPERLINK(x)", "-not a number"), (4, "Email", "fine")])
    rows = list(csv.reader(io.StringIO(report)))
    assert rows == [
        ["row", "column", "problem"],
        ["3", "'=HYPERLINK(x)", "'-not a number"],
        ["4", "Email", "fine"],
    ]


def test_rows_keep_their_numbers_in_the_file_and_blank_ones_are_passed_over(
    tmp_path: Path,
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("\ufeffName;Mail\nAda;a@x.io\n;\nGrace\n", encoding="utf-8")
    rows = file_rows(path, FileFormat.CSV)
    assert header_of(rows, ImportLimits()) == ["Name", "Mail"]
    assert list(data_rows(rows, 2)) == [(1, ["Ada", "a@x.io"]), (3, ["Grace", ""])]


def test_a_header_with_a_repeated_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Name,Name\nAda,Ada\n", encoding="utf-8")
    with pytest.raises(DomainError) as refused:
        header_of(file_rows(path, FileFormat.CSV), ImportLimits())
    assert str(refused.value.code) == "NO_HEADER"


def test_the_suggestion_reads_common_spellings_once_per_field() -> None:
    columns = ["E-Mail Address", "Given name", "Surname", "Mobile", "Phone", "Notes"]
    assert suggest_mapping(TARGETS["contact"], columns, []) == {
        "E-Mail Address": "email",
        "Given name": "first_name",
        "Surname": "last_name",
        "Mobile": "phone",
        "Notes": "notes",
    }


def test_rows_are_matched_by_the_detector_s_keys_whatever_their_spacing() -> None:
    spaced = probe_for("contact", {"first_name": "Ada", "phones": ["+44 20 7946-0018"]})
    packed = probe_for("contact", {"first_name": "ADA", "phones": ["+442079460018"]})
    assert spaced is not None
    assert packed is not None
    assert spaced.keys("GB") == packed.keys("GB")
    assert probe_for("lead", {"title": "A lead"}) is None

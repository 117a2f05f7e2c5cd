"""The lifecycles page (docs/lifecycles.md, linked from the README) shows each lifecycle as its
machine renders it; this keeps the two in step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.lifecycles import describe
from domain.lifecycles.registry import MACHINES

LIFECYCLES = Path(__file__).resolve().parents[2] / "docs" / "lifecycles.md"


@pytest.mark.parametrize("record_type", sorted(MACHINES))
def test_readme_diagram_matches_the_machine(record_type: str) -> None:
    start, end = f"<!-- lifecycle:{record_type} -->", f"<!-- /lifecycle:{record_type} -->"
    block = re.search(rf"{start}\n```mermaid\n(.*?)```\n{end}", LIFECYCLES.read_text(), re.DOTALL)
    assert block is not None, f"docs/lifecycles.md has no diagram for {record_type}"
    assert block.group(1) == describe(MACHINES[record_type]).diagram

"""No file in the repository holds a merge's conflict markers: one once reached the README
and the benchmark manual unnoticed, since Markdown renders them as text."""

from __future__ import annotations

import re
import subprocess

from crm.settings import REPO_ROOT

MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)
TEXT_SUFFIXES = {".md", ".py", ".graphql", ".toml", ".yaml", ".yml", ".json", ".html", ".cfg"}


def tracked_text_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    return [
        name
        for name in listed
        if name and (name.endswith(tuple(TEXT_SUFFIXES)) or name.rsplit("/", 1)[-1] == "Makefile")
    ]


def test_no_tracked_file_holds_conflict_markers() -> None:
    files = tracked_text_files()
    assert "README.md" in files
    marked = [
        name
        for name in files
        if (REPO_ROOT / name).is_file()
        and MARKER.search((REPO_ROOT / name).read_text(encoding="utf-8", errors="replace"))
    ]
    assert marked == []

"""Flow definitions in files: the defaults in temporal.yaml, and files given to `crm flows`.

A file holds one definition, a list of them, or a `flows:` list beside other keys (as
temporal.yaml does), in YAML or JSON (JSON is YAML, so one reader serves both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from crm.settings import read_yaml
from domain.flows.definitions import (
    DefinitionProblem,
    FlowDefinition,
    InvalidDefinition,
    definition_problems,
)
from domain.flows.records import flow_vocabulary


class FlowFileError(Exception):
    """The file cannot be read as YAML or JSON, or does not hold definitions."""


def read_flow_file(path: Path) -> Any:
    try:
        return read_yaml(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FlowFileError(f"{path}: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise FlowFileError(f"{path}: not YAML or JSON: {error}") from error


def definitions_in(data: Any) -> list[tuple[str, Any]]:
    """(where, definition) for each definition the file holds; `where` prefixes its problems."""
    if isinstance(data, dict) and "steps" not in data:
        if "flows" not in data:
            raise FlowFileError("expected a definition, a list of them, or a flows: list")
        data = data["flows"] or []
        prefix = "flows"
    elif isinstance(data, list):
        prefix = ""
    else:
        return [("", data)]
    if not isinstance(data, list):
        raise FlowFileError("flows: must be a list of definitions")
    return [(f"{prefix}[{i}]", item) for i, item in enumerate(data)]


def _labelled(where: str, problem: DefinitionProblem) -> DefinitionProblem:
    if not where:
        return problem
    path = f"{where}.{problem.path}" if problem.path else where
    return DefinitionProblem(path, problem.message)


def file_problems(data: Any) -> list[DefinitionProblem]:
    """Every problem of every definition in a file's content, and keys given twice."""
    problems: list[DefinitionProblem] = []
    seen: dict[str, str] = {}
    for where, item in definitions_in(data):
        problems += [_labelled(where, p) for p in definition_problems(item, flow_vocabulary())]
        key = item.get("key") if isinstance(item, dict) else None
        if isinstance(key, str):
            if key in seen:
                problems.append(
                    _labelled(where, DefinitionProblem("key", f"duplicate key (also {seen[key]})"))
                )
            seen.setdefault(key, where or "above")
    return problems


def load_default_flows(path: Path) -> list[FlowDefinition]:
    """The `flows:` of temporal.yaml, checked; raises InvalidDefinition listing every problem."""
    data = read_flow_file(path) or {}
    if not isinstance(data, dict) or "flows" not in data:
        return []
    problems = file_problems(data)
    if problems:
        raise InvalidDefinition(problems)
    return [FlowDefinition.model_validate(item) for _, item in definitions_in(data)]


def load_default_templates(path: Path) -> list[dict[str, Any]]:
    """The `templates:` of temporal.yaml as written (`seed_default_templates` checks them)."""
    data = read_flow_file(path) or {}
    templates = data.get("templates") if isinstance(data, dict) else None
    if templates is None:
        return []
    if not isinstance(templates, list) or not all(isinstance(t, dict) for t in templates):
        raise FlowFileError(f"{path}: templates: must be a list of templates")
    return templates

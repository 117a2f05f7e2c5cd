"""`crm flows validate FILE`: every problem printed with its path, exit 1 when there is any."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from crm import cli
from tests.fixtures.flows import DEFAULT_FLOWS

GOOD: dict[str, Any] = {
    "key": "hello",
    "name": "Hello",
    "record_type": "contact",
    "trigger": {"manual": True},
    "steps": [{"id": "tell", "type": "notify", "to": "owner", "message": "Hi {first_name}"}],
}


@pytest.fixture(autouse=True)
def no_logging_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """`main` configures the root logger; pytest's own logging stays as it is."""
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)


def test_the_shipped_temporal_yaml_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["flows", "validate", str(DEFAULT_FLOWS)]) == 0

    assert capsys.readouterr().out == f"{DEFAULT_FLOWS}: 4 definition(s), no problems\n"


def test_problems_are_printed_with_the_path_of_the_bad_step_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {
        **GOOD,
        "steps": [
            {"id": "pause", "type": "wait", "duration": "2 days"},
            {"id": "tell", "type": "notify", "to": "owner", "message": "Hi", "goto": "x"},
        ],
    }
    file = tmp_path / "flows.yaml"
    file.write_text(yaml.safe_dump({"flows": [GOOD, broken]}))

    assert cli.main(["flows", "validate", str(file)]) == 1

    output = capsys.readouterr()
    assert output.out.splitlines() == [
        f"{file}: flows[1].steps[0].duration: '2 days' is not a duration like 30m, 2h, 3d or 1w2d",
        f"{file}: flows[1].steps[1].goto: unknown step 'x'",
        f"{file}: flows[1].key: duplicate key (also flows[0])",
    ]
    assert "3 problem(s) found" in output.err


def test_a_json_file_with_one_definition_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "hello.json"
    file.write_text(json.dumps(GOOD))

    assert cli.main(["flows", "validate", str(file)]) == 0
    assert "1 definition(s), no problems" in capsys.readouterr().out


def test_graph_problems_are_found_once_the_shape_is_right(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "hello.json"
    file.write_text(json.dumps({**GOOD, "steps": [{**GOOD["steps"][0], "goto": "tell"}]}))

    assert cli.main(["flows", "validate", str(file)]) == 1
    assert capsys.readouterr().out == (
        f"{file}: steps[0]: steps 'tell' form a cycle without a wait "
        "(add a wait or wait_for_signal to it)\n"
    )


def test_a_file_that_is_not_yaml_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "broken.yaml"
    file.write_text("key: [unclosed\n")

    assert cli.main(["flows", "validate", str(file)]) == 1
    assert "not YAML or JSON" in capsys.readouterr().err


def test_a_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["flows", "validate", str(tmp_path / "nope.yaml")]) == 1
    assert "No such file" in capsys.readouterr().err

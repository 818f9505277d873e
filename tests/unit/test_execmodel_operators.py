"""Operators from YAML: every field of the seed, and every bad input named by file and field
(digest §5, behaviour 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from execmodel_ops import operator, write_op

from runwright.domain.execmodel.operators import FailureAction, InputType
from runwright.domain.execmodel.registry import DEFAULT_REGISTRY
from runwright.errors import ConfigError, NotFound
from runwright.execmodel.loader import load_operator_file, load_operators, validate_files

ROOT = Path(__file__).resolve().parents[2]


def _load(tmp_path: Path, spec: dict[str, Any]) -> Any:
    return load_operator_file(write_op(tmp_path, spec), DEFAULT_REGISTRY)


def _error(tmp_path: Path, spec: dict[str, Any]) -> ConfigError:
    path = write_op(tmp_path, spec)
    with pytest.raises(ConfigError) as err:
        load_operator_file(path, DEFAULT_REGISTRY)
    assert str(path) in str(err.value), "the error names the file"
    return err.value


def test_a_full_operator_loads_with_every_seed_field(tmp_path: Path) -> None:
    """op_id … evidence_pattern and the template's purpose, preconditions, next_pointer_rule."""
    spec = operator(
        failure_paths=[
            {"when": "fail", "action": "retry", "max_retries": 2},
            {"when": "fail", "action": "switch_mode", "to_mode": "CONTRACT", "note": "repro"},
        ],
        evidence_pattern=["manifest"],
    )
    op = _load(tmp_path, spec)
    assert op.op_id == "WriteRows"
    assert op.mode_ids == ["PIPELINE"]
    assert op.inputs["rows"].type == InputType.INT
    assert op.steps[0].run[0] == "{python}"
    assert op.outputs[0].path == "{workdir}/rows.csv"
    assert op.acceptance_checks[0].probes[0].probe == "file"
    assert op.timebox_minutes == 2
    assert [f.action for f in op.failure_paths] == [FailureAction.RETRY, FailureAction.SWITCH_MODE]
    assert op.item_ids() == ["manifest"]
    assert op.purpose
    assert op.preconditions == ["nothing"]
    assert op.next_pointer_rule == "file rows.csv ({result})"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"mode_ids": None}, "mode_ids", "no mode"),
        ({"mode_ids": []}, "mode_ids", "no mode"),
        ({"acceptance_checks": None}, "acceptance_checks", "no check"),
        ({"acceptance_checks": []}, "acceptance_checks", "no check"),
        ({"timebox_minutes": None}, "timebox_minutes", "no timebox"),
        ({"timebox_minutes": 0}, "timebox_minutes", "greater than 0"),
    ],
)
def test_an_operator_without_mode_check_or_timebox_is_rejected(
    tmp_path: Path, change: dict[str, Any], field: str, words: str
) -> None:
    """Behaviour 4: no mode, no check, or no timebox → rejected at load, naming file and field."""
    err = _error(tmp_path, operator(**change))
    assert f": {field}:" in str(err)
    assert words in str(err)
    assert err.fields["field"] == field


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"mode_ids": ["PIPELINE", "DANCE"]}, "mode_ids[1]"),
        ({"mode_ids": ["MODEL/ANALYZE"]}, "mode_ids[0]"),
        ({"op_id": "write rows"}, "op_id"),
        ({"steps": [{"id": "a", "run": ["x"], "call": "m:f"}]}, "steps[0]"),
        ({"steps": [{"id": "a", "run": ["x"]}, {"id": "a", "run": ["y"]}]}, "steps"),
        ({"steps": [{"id": "a", "run": ["echo", "{nope}"]}]}, "steps[0].run[1]"),
        ({"steps": [{"id": "a", "run": ["echo", "{oops"]}]}, "steps[0].run[1]"),
        ({"steps": [{"id": "a", "call": "not a path"}]}, "steps[0].call"),
        ({"steps": [{"id": "a", "run": ["x"], "satisfies": ["usage"]}]}, "steps[0].satisfies"),
        (
            {
                "acceptance_checks": [
                    {"id": "c", "check_type": "health_check", "probes": [{"probe": "sha256"}]}
                ]
            },
            "acceptance_checks[0]",
        ),
        (
            {
                "acceptance_checks": [
                    {
                        "id": "c",
                        "check_type": "content_validation",
                        "probes": [{"probe": "json_schema", "path": "x.json"}],
                    }
                ]
            },
            "acceptance_checks[0].probes[0]",
        ),
        (
            {
                "acceptance_checks": [
                    {
                        "id": "c",
                        "check_type": "smoke",
                        "probes": [{"probe": "exit_code", "step": "ghost"}],
                    }
                ]
            },
            "acceptance_checks[0].probes[0].step",
        ),
        ({"failure_paths": [{"action": "switch_mode"}]}, "failure_paths[0]"),
        ({"failure_paths": [{"action": "switch_mode", "to_mode": "DANCE"}]}, "to_mode"),
        (
            {"failure_paths": [{"when": "check_failed", "check": "x", "action": "escalate"}]},
            "check",
        ),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_operator_fields_are_named(
    tmp_path: Path, change: dict[str, Any], fragment: str
) -> None:
    """Unknown modes, bad ids, run+call, duplicate ids, unknown placeholders, probes that do
    not fit the check type, dangling references and unknown fields all name the field."""
    err = _error(tmp_path, operator(**change))
    assert fragment in str(err)


def test_invalid_yaml_and_non_mappings_name_the_file(tmp_path: Path) -> None:
    """A YAML syntax error or a list instead of a mapping is refused naming the file."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("op_id: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*not valid YAML"):
        load_operator_file(bad, DEFAULT_REGISTRY)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_operator_file(bad, DEFAULT_REGISTRY)


def test_a_duplicate_op_id_names_both_files(tmp_path: Path) -> None:
    """Two files with one op_id: the second is refused, naming the first."""
    write_op(tmp_path, operator(), "one")
    write_op(tmp_path, operator(), "two")
    with pytest.raises(ConfigError, match=r"two\.yaml.*one\.yaml"):
        load_operators(tmp_path, DEFAULT_REGISTRY)


def test_validate_reports_every_file(tmp_path: Path) -> None:
    """validate_files returns each file with its first problem (None when valid)."""
    write_op(tmp_path, operator(), "good")
    write_op(tmp_path, operator(op_id="NoBox", timebox_minutes=None), "nobox")
    results = dict(validate_files(tmp_path, DEFAULT_REGISTRY))
    assert results[tmp_path / "good.yaml"] is None
    assert "no timebox" in (results[tmp_path / "nobox.yaml"] or "")


def test_a_missing_operators_folder_says_how_to_create_one(tmp_path: Path) -> None:
    """No operators folder → NotFound with a hint."""
    with pytest.raises(NotFound) as err:
        load_operators(tmp_path / "nowhere", DEFAULT_REGISTRY)
    assert ".runwright/operators" in (err.value.hint or "")


def test_the_example_operators_cover_every_mode() -> None:
    """examples/operators holds a valid operator for each of the six modes."""
    found = load_operators(ROOT / "examples" / "operators", DEFAULT_REGISTRY)
    modes = {m for lo in found for m in lo.operator.mode_ids}
    assert modes == set(DEFAULT_REGISTRY.ids())


def test_validate_imports_the_callables_of_call_steps(tmp_path: Path) -> None:
    """A `call` step naming a function that cannot be imported is reported by validate."""
    steps = [{"id": "c", "call": "execmodel_ops:no_such_function"}]
    write_op(tmp_path, operator(steps=steps), "ghost")
    [(_, problem)] = validate_files(tmp_path, DEFAULT_REGISTRY)
    assert problem is not None
    assert "steps[0].call" in problem
    assert "cannot import" in problem

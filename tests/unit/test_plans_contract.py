"""The plan contract: what a valid plan is, and the clear errors for everything else."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from plans_support import EXAMPLE, example_plan

from runwright.domain.plans import Gate, PhaseType, PlanSpec, Stage
from runwright.plans.contract import PlanInvalid, load_plan, load_plan_text, parse_plan


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(data, source="plan.yaml")
    return caught.value.problems


@pytest.mark.parametrize("name", ["greet", "greet-retries", "greet-escalates"])
def test_every_example_plan_loads(name: str) -> None:
    """The example plans are valid contracts."""
    plan = load_plan(EXAMPLE / "plans" / f"{name}.yaml")
    assert plan.plan_id == name


def test_phases_know_their_stage_and_the_gate_before_them() -> None:
    """Test phases run after preflight, implementation after the test gate."""
    plan = PlanSpec.model_validate(example_plan("greet"))
    t1, i1 = plan.phase("T1"), plan.phase("I1")
    assert (t1.stage, t1.gate_before) == (Stage.TESTS, Gate.PREFLIGHT)
    assert (i1.stage, i1.gate_before) == (Stage.IMPLEMENTATION, Gate.TEST)
    assert [p.phase_id for p in plan.phases_of(Stage.TESTS)] == ["T1", "T2"]


def test_a_dependency_cycle_is_rejected_with_its_path() -> None:
    """Cyclic depends_on is rejected at load, naming the cycle (workstream rule 39)."""
    data = example_plan("greet")
    data["phases"][2]["depends_on"] = ["T1", "I2"]
    data["phases"][3]["depends_on"] = ["T2", "I1"]
    problems = _problems(data)
    assert any("dependency cycle" in p and "I1" in p and "I2" in p for p in problems)


def test_an_unknown_owner_role_is_rejected() -> None:
    """A phase owned by a role the plan does not declare is rejected, naming the field."""
    data = example_plan("greet")
    data["phases"][0]["owner_role"] = "ghost-writer"
    problems = _problems(data)
    assert any("owner_role" in p and "ghost-writer" in p for p in problems)


def test_a_phase_without_an_owner_is_rejected() -> None:
    """Missing ownership is rejected at load."""
    data = example_plan("greet")
    del data["phases"][1]["owner_role"]
    problems = _problems(data)
    assert any(p.startswith("phases[1].owner_role") for p in problems)


def test_a_phase_may_not_weaken_the_plan_constraints() -> None:
    """Constraints only tighten: a looser phase value is constraint_weakened, naming the field."""
    data = example_plan("greet")
    data["phases"][2]["constraints"] = {"max_lines_changed": 500}
    problems = _problems(data)
    assert any("max_lines_changed" in p and "constraint_weakened" in p for p in problems)


def test_a_phase_may_tighten_the_plan_constraints() -> None:
    """A stricter phase value is fine."""
    data = example_plan("greet")
    data["phases"][2]["constraints"] = {"max_lines_changed": 50}
    assert parse_plan(data, source="plan.yaml").phase("I1").constraints is not None


def test_a_phase_scope_outside_the_plan_scope_is_rejected() -> None:
    """Scopes only narrow: plan ∩ phase; a phase writing outside the plan is rejected."""
    data = example_plan("greet")
    data["phases"][2]["scope"] = {"write": ["docs/**"]}
    problems = _problems(data)
    assert any("scope.write" in p and "docs/**" in p for p in problems)


def test_a_task_may_not_widen_its_phase() -> None:
    """Scopes narrow plan ∩ phase ∩ task: a task writing outside its phase is rejected."""
    data = example_plan("greet")
    data["phases"][2]["tasks"] = [
        {"task_id": "a", "objective": "x", "scope": {"write": ["greet/bye.py"]}}
    ]
    problems = _problems(data)
    assert any("tasks[0].scope.write" in p for p in problems)


def test_an_exception_needs_a_reason() -> None:
    """test_not_applicable without a reason is refused."""
    data = example_plan("greet")
    data["phases"][2]["test_not_applicable"] = True
    problems = _problems(data)
    assert any("test_not_applicable_reason" in p for p in problems)


def test_a_test_phase_cannot_depend_on_implementation() -> None:
    """Test-first: a test phase depending on an implementation phase is rejected."""
    data = example_plan("greet")
    data["phases"][0]["depends_on"] = ["I2"]
    problems = _problems(data)
    assert any("runs after this test phase" in p for p in problems)


def test_the_retry_budget_is_at_most_two() -> None:
    """At most two correction retries per gate."""
    data = example_plan("greet")
    data["retry_budget"] = 3
    problems = _problems(data)
    assert any(p.startswith("retry_budget") for p in problems)


def test_commands_are_argv_lists() -> None:
    """A shell line as test_command is refused with the fix."""
    data = example_plan("greet")
    data["test_command"] = "python -m unittest"
    problems = _problems(data)
    assert any("argv" in p for p in problems)


def test_unknown_requirement_and_dependency_are_named() -> None:
    """A phase naming an unknown requirement or phase gets one problem for each."""
    data = example_plan("greet")
    data["phases"][0]["requirements"] = ["R9"]
    data["phases"][2]["depends_on"] = ["T9"]
    problems = _problems(data)
    assert any("no requirement 'R9'" in p for p in problems)
    assert any("no phase 'T9'" in p for p in problems)


def test_a_broken_yaml_file_names_the_file(tmp_path: Path) -> None:
    """Unparseable YAML is refused naming the file."""
    path = tmp_path / "bad.yaml"
    path.write_text("plan_id: [unclosed\n")
    with pytest.raises(PlanInvalid) as caught:
        load_plan(path)
    assert str(path) in caught.value.message


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    """A plan path that does not exist is a clear error."""
    with pytest.raises(Exception, match="no such plan file"):
        load_plan(tmp_path / "nope.yaml")


def test_every_problem_is_listed_not_just_the_first() -> None:
    """Validation reports every problem at once."""
    data = copy.deepcopy(example_plan("greet"))
    data["phases"][0]["owner_role"] = "nobody"
    data["phases"][1]["requirements"] = ["R7"]
    assert len(_problems(data)) >= 2


def test_phase_types_are_the_three_of_the_seed() -> None:
    """phase_type is test | implementation | validation-support."""
    assert {t.value for t in PhaseType} == {"test", "implementation", "validation-support"}
    text = yaml.safe_dump({**example_plan("greet"), "plan_id": "x"})
    data = yaml.safe_load(text)
    data["phases"][0]["phase_type"] = "docs"
    assert any("phase_type" in p for p in _problems(data))
    assert load_plan_text(text, source="x").plan_id == "x"

"""The UET WorkstreamSpec artifact: a DAG of tasks, validated like plans (workstream rule 39)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from runwright.domain.workstreams import WorkstreamSpec


def spec(tasks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "workstream_id": "WS-01",
        "project_id": "p",
        "phase_id": "PH-CORE-01",
        "name": "core",
        "objective": "make it work",
        "tasks": tasks,
        **extra,
    }


def task(tid: str, *deps: str) -> dict[str, Any]:
    return {"task_id": tid, "name": tid, "kind": "code_edit", "depends_on": list(deps)}


def test_a_dag_of_tasks_is_a_valid_workstream() -> None:
    """Tasks with acyclic dependencies, concurrency and an error strategy load."""
    ws = WorkstreamSpec.model_validate(
        spec(
            [task("a"), task("b", "a")],
            concurrency={"max_parallel": 1},
            error_handling={"strategy": "continue"},
        )
    )
    assert ws.concurrency.max_parallel == 1
    assert ws.error_handling.strategy.value == "continue"


def test_a_cyclic_workstream_is_rejected_with_its_cycle() -> None:
    """Cyclic depends_on is rejected, naming the cycle."""
    with pytest.raises(ValidationError, match="dependency cycle"):
        WorkstreamSpec.model_validate(spec([task("a", "b"), task("b", "a")]))


def test_unknown_dependencies_and_duplicate_ids_are_named() -> None:
    """A dependency on no task and a repeated task id are each reported."""
    with pytest.raises(ValidationError) as caught:
        WorkstreamSpec.model_validate(spec([task("a", "zz"), task("a")]))
    text = str(caught.value)
    assert "no task 'zz'" in text
    assert "'a' appears more than once" in text


def test_max_parallel_must_be_positive() -> None:
    """concurrency.max_parallel ≥ 1."""
    with pytest.raises(ValidationError):
        WorkstreamSpec.model_validate(spec([task("a")], concurrency={"max_parallel": 0}))

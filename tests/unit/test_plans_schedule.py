"""Parallelism inside a stage: only parallel_safe phases with disjoint file scopes and no
dependency edge run together, never more than max_parallel; the rest is serialized with a reason
(execution-lead behaviour 22, workstream rule 39)."""

from __future__ import annotations

from typing import Any

from runwright.domain.plan_schedule import globs_overlap, schedule
from runwright.domain.plans import PlanPhase


def phase(
    pid: str, write: list[str], *, safe: bool = True, deps: list[str] | None = None
) -> PlanPhase:
    data: dict[str, Any] = {
        "phase_id": pid,
        "name": pid,
        "phase_type": "implementation",
        "owner_role": "implement-plan",
        "objective": "do it",
        "commit_intent": f"feat: {pid}",
        "parallel_safe": safe,
        "depends_on": deps or [],
        "scope": {"write": write},
    }
    return PlanPhase.model_validate(data)


def test_disjoint_independent_safe_phases_run_together() -> None:
    """Two parallel_safe phases with disjoint files and no edge share a batch."""
    sched = schedule([phase("A", ["src/a.py"]), phase("B", ["src/b/**"])], max_parallel=4)
    assert [b.phase_ids for b in sched.batches] == [["A", "B"]]
    assert sched.serialized == []


def test_overlapping_files_are_serialized_with_the_reason() -> None:
    """Two parallel_safe phases whose file scopes overlap run one after the other."""
    sched = schedule([phase("A", ["src/**"]), phase("B", ["src/b.py"])], max_parallel=4)
    assert [b.phase_ids for b in sched.batches] == [["A"], ["B"]]
    (why,) = sched.serialized
    assert why.phase_id == "B"
    assert "overlap" in why.reason


def test_a_dependency_edge_is_never_parallel() -> None:
    """A depends_on edge puts the dependent in a later batch."""
    sched = schedule([phase("A", ["a.py"]), phase("B", ["b.py"], deps=["A"])], max_parallel=4)
    assert [b.phase_ids for b in sched.batches] == [["A"], ["B"]]


def test_a_phase_that_is_not_parallel_safe_runs_alone() -> None:
    """parallel_safe: false serializes, saying which phase is not safe."""
    sched = schedule([phase("A", ["a.py"]), phase("B", ["b.py"], safe=False)], max_parallel=4)
    assert [b.phase_ids for b in sched.batches] == [["A"], ["B"]]
    assert "B is not parallel_safe" in sched.serialized[0].reason


def test_max_parallel_one_runs_one_phase_at_a_time() -> None:
    """max_parallel=1: at most one phase runs at a time (workstream rule 39)."""
    sched = schedule([phase(p, [f"{p}.py"]) for p in "ABC"], max_parallel=1)
    assert [b.phase_ids for b in sched.batches] == [["A"], ["B"], ["C"]]
    assert all("max_parallel=1" in s.reason for s in sched.serialized)


def test_max_parallel_bounds_each_batch() -> None:
    """Five independent phases with max_parallel=2 make batches of at most two."""
    sched = schedule([phase(p, [f"{p}.py"]) for p in "ABCDE"], max_parallel=2)
    assert [len(b.phase_ids) for b in sched.batches] == [2, 2, 1]


def test_a_phase_without_a_file_scope_overlaps_everything() -> None:
    """Undeclared scope is treated as touching anything: serialized."""
    sched = schedule([phase("A", []), phase("B", ["b.py"])], max_parallel=4)
    assert len(sched.batches) == 2


def test_glob_overlap_is_conservative_but_separates_distinct_folders() -> None:
    """Distinct literal paths and folders are disjoint; a folder and a file in it are not."""
    assert not globs_overlap("tests/test_a.py", "tests/test_b.py")
    assert not globs_overlap("src/a/**", "src/b/**")
    assert globs_overlap("src/**", "src/b/c.py")
    assert globs_overlap("**/*.py", "src/a.py")
    assert not globs_overlap("**/*.py", "docs/x.md")
    assert globs_overlap("*.md", "docs/readme.md")

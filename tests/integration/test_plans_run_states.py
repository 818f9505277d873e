"""Runs of a plan tell the truth, on SQLite and PostgreSQL, in a real git repository with the
real scripted agent: a phase that does not commit ends its phase run failed with the reason
(the plan still reads its outcome and goes on to corrections or escalation), the agent-tool
run whose patch was quarantined ends failed with the quarantine reason, and a correction
prompt carries the test output once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plans_support import make_repo, open_client, variant, write_plan

from runwright.api.client import Client
from runwright.api.plans import PlanView
from runwright.domain.plan_records import PhaseDelegation
from runwright.domain.states import RunState

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example repository, fresh for each test."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def pc(repo: Path, db_url: str) -> Iterator[Client]:
    """A client on the repository, SQLite or PostgreSQL."""
    client = open_client(repo, db_url)
    yield client
    client.close()


def _no_retry(data: dict[str, Any]) -> None:
    data["retry_budget"] = 0


def _one_retry(data: dict[str, Any]) -> None:
    data["retry_budget"] = 1


def _run(pc: Client, repo: Path, name: str, edit: Any) -> PlanView:
    path = write_plan(repo, name, variant("greet-escalates", name, edit))
    return pc.plans.run(path, timeout=300)


def _delegation(view: PlanView, phase_id: str, round_: int) -> PhaseDelegation:
    (found,) = [d for d in view.phases if d.phase_id == phase_id and d.round == round_]
    return found


def test_a_phase_that_does_not_commit_fails_its_run_with_the_reason(pc: Client, repo: Path) -> None:
    """I1's patch fails verification: its phase run ends failed (reason: patch quarantined,
    message: why), while the plan records the outcome and escalates as before."""
    view = _run(pc, repo, "no-retry", _no_retry)
    assert view.waiting_for_decision()
    i1 = _delegation(view, "I1", 0)
    assert i1.status.value == "failed"
    assert i1.outcome["patch_ids"]
    assert "verification failed" in str(i1.outcome["error"])
    assert i1.child_run_id is not None
    run = pc.get(i1.child_run_id)
    assert run.state is RunState.FAILED
    assert run.state_reason == "patch quarantined"
    assert run.failure is not None
    assert run.failure.message.startswith("phase I1 did not commit: patch ")
    assert "verification failed" in run.failure.message
    assert "last lines of the test output" not in run.failure.message


def test_a_committed_phase_and_its_agent_run_succeed(pc: Client, repo: Path) -> None:
    """T1 commits: its phase run and its agent-tool run succeed, the patch verified in it."""
    view = _run(pc, repo, "no-retry", _no_retry)
    t1 = _delegation(view, "T1", 0)
    assert t1.status.value == "committed"
    assert t1.child_run_id is not None
    assert pc.get(t1.child_run_id).state is RunState.SUCCEEDED
    (agent_run,) = t1.outcome["agent_run_ids"]  # type: ignore[misc]
    agent = pc.get(str(agent_run))
    assert agent.state is RunState.SUCCEEDED
    assert agent.result["state"] == "verified"
    assert agent.result["judged"]["test_files"] == ["tests/test_greet.py"]


def test_an_agent_run_whose_patch_is_quarantined_fails_with_the_reason(
    pc: Client, repo: Path
) -> None:
    """The agent-tool run of I1 ends failed, saying its patch was quarantined and why."""
    view = _run(pc, repo, "no-retry", _no_retry)
    i1 = _delegation(view, "I1", 0)
    (agent_run,) = i1.outcome["agent_run_ids"]  # type: ignore[misc]
    (patch_id,) = i1.outcome["patch_ids"]  # type: ignore[misc]
    run = pc.get(str(agent_run))
    assert run.state is RunState.FAILED
    assert run.state_reason == "patch quarantined"
    assert run.failure is not None
    assert f"patch {patch_id} ended quarantined: verification failed" in run.failure.message
    assert pc.patches.get(str(patch_id)).entry.state.value == "quarantined"


def test_a_correction_prompt_carries_the_test_output_once(pc: Client, repo: Path) -> None:
    """The correction after I1's failed gate shows the failing tests' output one time only."""
    view = _run(pc, repo, "one-retry", _one_retry)
    fix = _delegation(view, "I1", 1)
    assert fix.correction is not None
    (agent_run,) = fix.outcome["agent_run_ids"]  # type: ignore[misc]
    (prompt,) = pc.patches.prompts(str(agent_run))
    text = prompt.rendered
    assert "CORRECTION 1 of " in text
    assert "the implementation gate failed." in text
    assert text.count("Test output (last lines):") == 1
    assert text.count("AssertionError: 'Hello Ada' != 'Hello, Ada!'") == 1
    assert "--- last lines of the test output ---" not in text
    assert "gate 'implementation'" not in text

"""Budgets for agent work, on SQLite and PostgreSQL, in a real git repository with real agent
processes that report their usage as Claude Code does (or nothing at all): spend recorded per
call and shown, an agent stopped mid-call (its whole process group) when its reported tokens
pass the budget, the decision-needed escalation, raising the budget or stopping, and calls and
wall time bounding agents whose usage is unknown."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from budget_support import budget_plan, reporting_app
from plans_support import make_repo, open_client

from runwright.api.client import Client
from runwright.api.plans import PlanView
from runwright.domain.plan_completion import CompletionContract
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


def run(pc: Client, path: Path) -> PlanView:
    return pc.plans.run(path, timeout=300)


def contract(view: PlanView) -> CompletionContract:
    assert view.record.completion is not None
    return CompletionContract.model_validate(view.record.completion)


def bundle(pc: Client, run_id: str) -> dict[str, Any]:
    """The plan run's latest evidence bundle."""
    links = [e for e in pc.evidence(run_id) if e.artifact_path == "evidence-bundle.json"]
    data: dict[str, Any] = json.loads(pc.blobs.read(links[-1].sha256))
    return data


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped is dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def test_spend_is_recorded_per_call_and_shown_in_the_view_contract_and_bundle(
    pc: Client, repo: Path
) -> None:
    """Each agent call's tokens in/out, cost and session are recorded; the view, the completion
    contract and the evidence bundle carry the totals and one row per call."""
    reporting_app(
        repo,
        "tests-reporting",
        "tests-writer",
        "--input",
        "1000",
        "--output",
        "100",
        "--cost",
        "0.01",
        "--session",
        "sess-tests",
    )
    reporting_app(
        repo,
        "coder-reporting",
        "coder",
        "--input",
        "2000",
        "--output",
        "200",
        "--cost",
        "0.02",
        "--session",
        "sess-code",
    )

    def limits(data: dict[str, Any]) -> None:
        data["budget"] = {"max_tokens": 100000, "max_cost_usd": 5, "max_agent_calls": 10}

    view = run(pc, budget_plan(repo, "spend", limits))
    assert view.run.state is RunState.SUCCEEDED
    rows = view.spend.rows
    assert sorted(r.phase_id for r in rows) == ["I1", "I2", "T1", "T2"]
    by_phase = {r.phase_id: r for r in rows}
    assert (by_phase["T1"].input_tokens, by_phase["T1"].output_tokens) == (1000, 100)
    assert by_phase["I2"].cost_usd == pytest.approx(0.02)
    assert by_phase["I1"].session_id == "sess-code"
    assert all(r.round == 0 and r.attempt == 1 and r.stopped_by is None for r in rows)
    assert all(r.wall_seconds > 0 for r in rows)
    assert view.spend.totals.tokens == 2 * 1100 + 2 * 2200
    assert view.spend.budget is not None
    assert view.spend.budget.max_tokens == 100000
    c = contract(view)
    assert c.spend.totals.calls == 4
    assert c.spend.totals.cost_usd == pytest.approx(0.06)
    assert len(c.spend.rows) == 4
    assert bundle(pc, view.run_id)["spend"]["totals"]["tokens"] == 6600


def test_a_token_budget_stops_the_agent_mid_call_then_a_raise_finishes_the_plan(
    pc: Client, repo: Path, tmp_path: Path
) -> None:
    """I1's agent reports 1,100 tokens against a 500-token phase budget and hangs: it and its
    child are killed at once; the plan escalates decision-needed with the limit and the spend;
    raising the budget does I1 again and the plan completes."""
    child_pid = tmp_path / "child.pid"
    reporting_app(repo, "tests-reporting", "tests-writer", "--input", "50", "--output", "5")
    reporting_app(
        repo,
        "coder-reporting",
        "coder",
        "--hang-once",
        str(tmp_path / "hung"),
        "--child-pid",
        str(child_pid),
    )

    def limits(data: dict[str, Any]) -> None:
        data["phases"][2]["budget"] = {"max_tokens": 500}

    started = time.monotonic()
    view = run(pc, budget_plan(repo, "stop", limits))
    assert time.monotonic() - started < 200  # the agent would hang for 300 s
    assert view.waiting_for_decision()
    (stopped,) = [r for r in view.spend.rows if r.phase_id == "I1"]
    assert stopped.stopped_by == "max_tokens"
    assert stopped.input_tokens == 1000
    assert stopped.wall_seconds < 60
    pid = int(child_pid.read_text())
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), "the agent's child survived the stop"
    esc = view.open_escalation()
    assert esc is not None
    assert esc.blocker_class.value == "decision-needed"
    assert esc.budget is not None
    assert (esc.budget.scope.value, esc.budget.phase_id, esc.budget.limit) == (
        "phase",
        "I1",
        "max_tokens",
    )
    assert (esc.budget.limit_value, esc.budget.spent) == (500, 1100)
    assert esc.budget.moment.value == "during_call"
    assert [o.effect.value for o in esc.options] == ["raise_budget", "block"]
    assert {d.phase_id: d.status.value for d in view.phases}["I2"] == "committed"
    assert contract(view).execution_status.value == "escalated"

    pc.plans.decide(view.run_id, option="A", by="alice", budget=_budget(max_tokens=5000))
    view = pc.plans.drive(view.run_id, timeout=300)
    assert view.run.state is RunState.SUCCEEDED
    i1 = [r for r in view.spend.rows if r.phase_id == "I1"]
    assert [r.stopped_by for r in i1] == ["max_tokens", None]
    assert view.spend.phase_budgets["I1"].max_tokens == 5000
    c = contract(view)
    assert c.execution_status.value == "complete"
    assert isinstance(c.implementation_commit_hashes, list)
    assert len(c.implementation_commit_hashes) == 2
    answer = view.escalations[0].answer
    assert answer is not None
    assert answer.budget is not None
    assert answer.budget.max_tokens == 5000


def test_max_agent_calls_bounds_agents_that_report_nothing_and_stop_blocks(
    pc: Client, repo: Path
) -> None:
    """Agents with no usage report: their tokens and cost are unknown, not zero; after two
    calls the plan's max_agent_calls leaves nothing for the implementation phases, which
    escalates before any is delegated; answering B ends the plan blocked."""
    reporting_app(repo, "tests-reporting", "tests-writer", "--report", "none", usage="none")
    reporting_app(repo, "coder-reporting", "coder", "--report", "none", usage="none")

    def limits(data: dict[str, Any]) -> None:
        data["budget"] = {"max_agent_calls": 2, "max_tokens": 10}

    view = run(pc, budget_plan(repo, "calls", limits))
    assert view.waiting_for_decision()
    assert [r.phase_id for r in sorted(view.spend.rows, key=lambda r: r.phase_id)] == ["T1", "T2"]
    assert all(r.input_tokens is None and r.cost_usd is None for r in view.spend.rows)
    assert (view.spend.totals.unknown_tokens, view.spend.totals.tokens) == (2, 0)
    esc = view.open_escalation()
    assert esc is not None
    assert esc.budget is not None
    assert (esc.budget.scope.value, esc.budget.limit, esc.budget.spent) == (
        "plan",
        "max_agent_calls",
        2,
    )
    assert esc.budget.moment.value == "before_call"
    assert esc.blocked_gate == "implementation"
    assert not [d for d in view.phases if d.phase_id.startswith("I")]

    pc.plans.decide(view.run_id, option="B", by="alice", note="over budget")
    view = pc.plans.drive(view.run_id, timeout=120)
    assert view.run.state is RunState.FAILED
    c = contract(view)
    assert c.execution_status.value == "blocked"
    assert isinstance(c.open_issues, list)
    assert any("max_agent_calls" in i.summary for i in c.open_issues)


def test_max_wall_seconds_caps_a_silent_slow_agent(pc: Client, repo: Path) -> None:
    """A phase's wall budget caps its agent's timeout: the slow agent (no usage reported) is
    stopped when the budget's time is up and the plan escalates on max_wall_seconds."""
    reporting_app(repo, "tests-reporting", "tests-writer", "--report", "none", usage="none")
    reporting_app(
        repo, "coder-reporting", "coder", "--report", "none", "--sleep", "60", usage="none"
    )

    def limits(data: dict[str, Any]) -> None:
        data["phases"][2]["budget"] = {"max_wall_seconds": 2}
        data["roles"]["quick-coder"] = {"tools": ["coder"]}
        data["phases"][3]["owner_role"] = "quick-coder"

    view = run(pc, budget_plan(repo, "wall", limits))
    assert view.waiting_for_decision()
    (i1,) = [r for r in view.spend.rows if r.phase_id == "I1"]
    assert i1.stopped_by == "max_wall_seconds"
    assert i1.wall_seconds < 30
    assert i1.input_tokens is None
    esc = view.open_escalation()
    assert esc is not None
    assert esc.budget is not None
    assert (esc.budget.phase_id, esc.budget.limit) == ("I1", "max_wall_seconds")


def _budget(**limits: Any) -> Any:
    from runwright.domain.budgets import Budget

    return Budget.model_validate(limits)

"""``error_handling`` and the retry budget, on SQLite and PostgreSQL: every value gets its
``retry_budget`` correction rounds first; the value decides what happens to the other phases
of the stage when one fails; the escalation that follows says how many correction rounds
were really delegated — never a retry that did not happen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plans_support import make_repo, open_client, variant, write_plan

from runwright.api.client import Client
from runwright.api.plans import PlanView
from runwright.domain.plan_records import Escalation
from runwright.patches.agent import AGENT_JOB

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


def failing_i1(handling: str, budget: int) -> Any:
    """greet with I1 owned by an implementer that never gets it right, I1 before I2."""

    def edit(data: dict[str, Any]) -> None:
        data["max_parallel"] = 1
        data["error_handling"] = handling
        data["retry_budget"] = budget
        data["roles"]["stubborn-coder"] = {"tools": ["coder-stubborn"]}
        data["phases"][2]["owner_role"] = "stubborn-coder"

    return edit


def run_plan(pc: Client, repo: Path, handling: str, budget: int) -> PlanView:
    name = f"eh-{handling.replace('_', '-')}-{budget}"
    path = write_plan(repo, name, variant("greet", name, failing_i1(handling, budget)))
    view = pc.plans.run(path, timeout=300)
    assert view.waiting_for_decision(), view.run
    return view


def delegated(pc: Client, view: PlanView, phase_id: str) -> list[int]:
    """The rounds in which the phase's tool really ran (an agent-tool run exists)."""
    rounds = []
    for d in view.phases:
        if d.phase_id != phase_id or d.child_run_id is None:
            continue
        if any(r.job_name == AGENT_JOB for r in pc.children(d.child_run_id)):
            rounds.append(d.round)
    return sorted(rounds)


def statuses(view: PlanView, phase_id: str) -> list[str]:
    return [
        d.status.value for d in sorted(view.phases, key=lambda d: d.round) if d.phase_id == phase_id
    ]


def escalation_texts(esc: Escalation) -> str:
    return "\n".join([esc.summary, esc.schedule_impact, *(o.summary for o in esc.options)])


def assert_says_rounds(esc: Escalation, rounds: int) -> None:
    """Every text of the escalation names the rounds done, and none claims a retry."""
    assert esc.round == rounds
    phrase = {0: "no correction round", 1: "1 correction round", 2: "2 correction rounds"}
    option_b = next(o.summary for o in esc.options if o.id == "B")
    assert esc.summary.startswith("the implementation gate ")
    assert phrase[rounds] in esc.summary
    assert phrase[rounds] in option_b
    text = escalation_texts(esc)
    assert "retries" not in text
    assert "1 correction rounds" not in text
    for other in set(phrase) - {rounds}:
        assert phrase[other] not in text.replace(phrase[rounds], "")


def test_fail_fast_corrects_twice_then_escalates_skipping_the_rest_each_round(
    pc: Client, repo: Path
) -> None:
    """fail_fast: I1 fails in round 0 and in both correction rounds, I2 (after it) never
    starts; the escalation comes after the two correction rounds and says so."""
    view = run_plan(pc, repo, "fail_fast", 2)
    assert delegated(pc, view, "I1") == [0, 1, 2]
    assert delegated(pc, view, "I2") == []
    assert statuses(view, "I2") == ["skipped", "skipped", "skipped"]
    esc = view.open_escalation()
    assert esc is not None
    assert_says_rounds(esc, 2)
    assert esc.summary.startswith("the implementation gate still failed after 2 correction rounds")


def test_continue_corrects_twice_while_the_independent_phase_commits(
    pc: Client, repo: Path
) -> None:
    """continue: I2 (independent of I1) runs and commits in round 0; I1 gets its two
    correction rounds, then the escalation says two were done."""
    view = run_plan(pc, repo, "continue", 2)
    assert delegated(pc, view, "I1") == [0, 1, 2]
    assert delegated(pc, view, "I2") == [0]
    assert statuses(view, "I2") == ["committed"]
    esc = view.open_escalation()
    assert esc is not None
    assert_says_rounds(esc, 2)


def test_escalate_uses_the_retry_budget_before_escalating(pc: Client, repo: Path) -> None:
    """escalate: a failed phase does not escalate at round 0; the two correction rounds are
    delegated first (I2 waits, as with fail_fast), then the escalation names both."""
    view = run_plan(pc, repo, "escalate", 2)
    assert [g.passed for g in view.gates if g.gate == "implementation"] == [False, False, False]
    assert delegated(pc, view, "I1") == [0, 1, 2]
    assert delegated(pc, view, "I2") == []
    esc = view.open_escalation()
    assert esc is not None
    assert_says_rounds(esc, 2)
    prompts = [
        p.rendered
        for d in view.phases
        if d.phase_id == "I1" and d.round > 0
        for r in pc.children(d.child_run_id or "")
        if r.job_name == AGENT_JOB
        for p in pc.patches.prompts(r.run_id)
    ]
    assert [("CORRECTION 1 of 2" in p, "CORRECTION 2 of 2" in p) for p in prompts] == [
        (True, False),
        (False, True),
    ]


@pytest.mark.parametrize("budget", [1, 0])
def test_the_escalation_counts_the_rounds_a_smaller_budget_allowed(
    pc: Client, repo: Path, budget: int
) -> None:
    """retry_budget 1 → one correction round, "after 1 correction round"; retry_budget 0 →
    none, and the escalation says no correction round was allowed."""
    view = run_plan(pc, repo, "escalate", budget)
    assert delegated(pc, view, "I1") == list(range(budget + 1))
    esc = view.open_escalation()
    assert esc is not None
    assert_says_rounds(esc, budget)


def test_a_granted_round_is_counted_in_the_next_escalation(pc: Client, repo: Path) -> None:
    """After a human grants one more round (A), the next escalation says two rounds were done
    with a budget of one, and the granted round's prompt says CORRECTION 2 of 2."""
    view = run_plan(pc, repo, "fail_fast", 1)
    pc.plans.decide(view.run_id, option="A", note="try harder", by="alice")
    view = pc.plans.drive(view.run_id, timeout=300)
    assert view.waiting_for_decision()
    assert delegated(pc, view, "I1") == [0, 1, 2]
    esc = view.open_escalation()
    assert esc is not None
    assert_says_rounds(esc, 2)
    (granted,) = [d for d in view.phases if d.phase_id == "I1" and d.round == 2]
    assert granted.correction is not None
    assert (granted.correction.round, granted.correction.budget) == (2, 2)

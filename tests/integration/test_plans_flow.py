"""Plans run test-first through their gates, on SQLite and PostgreSQL, in a real git repository
with a real scripted agent: intake, preflight, test phases, test gate, implementation, its gate,
validation, completion — with corrections, escalations and human decisions (execution-lead
behaviours 15 to 24 and workstream rule 39)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from plans_support import (
    add_app,
    commits_touching,
    files_of,
    git,
    make_repo,
    open_client,
    variant,
    write_plan,
)

from runwright.api.client import Client
from runwright.api.inbox import Inbox
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


def run(pc: Client, path: Path, **kw: Any) -> PlanView:
    return pc.plans.run(path, timeout=300, **kw)


def contract(view: PlanView) -> CompletionContract:
    assert view.record.completion is not None
    return CompletionContract.model_validate(view.record.completion)


def gate_rounds(view: PlanView, gate: str) -> list[bool]:
    return [g.passed for g in view.gates if g.gate == gate]


# ---- the whole flow ------------------------------------------------------------------------
def test_a_plan_runs_test_first_to_a_complete_contract(pc: Client, repo: Path) -> None:
    """Tests are committed before and apart from code; the contract is complete and on disk."""
    view = run(pc, repo / "plans" / "greet.yaml")
    assert view.run.state is RunState.SUCCEEDED
    c = contract(view)
    assert c.execution_status.value == "complete"
    assert c.requirement_coverage == "full"
    assert c.open_issues == "none"
    assert c.escalations == "none"
    assert isinstance(c.test_commit_hashes, list)
    assert isinstance(c.implementation_commit_hashes, list)
    for commit in c.test_commit_hashes:
        assert all(f.startswith("tests/") for f in files_of(repo, commit))
    for commit in c.implementation_commit_hashes:
        assert not any(f.startswith("tests/") for f in files_of(repo, commit))
    subjects = git(repo, "log", "--reverse", "--format=%s").splitlines()
    assert subjects[1:] == [
        "test: greet(name)",
        "test: farewell(name)",
        "feat: greet(name)",
        "feat: farewell(name)",
    ]
    on_disk = json.loads((repo / view.record.completion_path).read_text())  # type: ignore[operator]
    assert on_disk["execution_status"] == "complete"
    assert (repo / c.validation_report_path).is_file()


def test_every_member_session_is_a_child_run_of_the_plan(pc: Client, repo: Path) -> None:
    """Delegation evidence names real runs of the three members, children of the plan run."""
    view = run(pc, repo / "plans" / "greet.yaml")
    for member in contract(view).member_delegations:
        assert member.outcome == "complete"
        assert isinstance(member.session_ids, list)
        for session in member.session_ids:
            assert pc.get(session).parent_run_id == view.run_id


def test_nothing_downstream_starts_before_its_gate_passes(pc: Client, repo: Path) -> None:
    """Behaviour 17: implement-plan starts after the test gate, validate-plan after its gate."""
    view = run(pc, repo / "plans" / "greet.yaml")
    passed = {g.gate: g.evaluated_at for g in view.gates if g.passed}
    starts = {d.phase_id: d.started_at for d in view.phases}
    assert passed["preflight"] <= min(starts["T1"], starts["T2"])
    assert passed["test"] <= min(starts["I1"], starts["I2"])
    (validator,) = contract(view).member_delegations[2].session_ids
    assert passed["implementation"] <= pc.get(validator).created_at


def test_parallel_safe_disjoint_phases_share_a_batch(pc: Client, repo: Path) -> None:
    """Behaviour 22: T1 and T2 (disjoint, independent, parallel_safe) were started together."""
    view = run(pc, repo / "plans" / "greet.yaml")
    tests = view.record.schedule["tests"]
    assert isinstance(tests, dict)
    assert tests["batches"] == [{"phase_ids": ["T1", "T2"]}]


def test_overlapping_phases_are_serialized_and_the_reason_recorded(pc: Client, repo: Path) -> None:
    """Behaviour 22: overlapping file scopes serialize, and the plan run records why."""

    def overlap(data: dict[str, Any]) -> None:
        data["phases"][1]["scope"] = {"write": ["tests/**"]}

    path = write_plan(repo, "overlap", variant("greet", "overlap", overlap))
    view = run(pc, path)
    tests = view.record.schedule["tests"]
    assert isinstance(tests, dict)
    assert tests["batches"] == [{"phase_ids": ["T1"]}, {"phase_ids": ["T2"]}]
    assert "overlap" in tests["serialized"][0]["reason"]
    assert view.run.state is RunState.SUCCEEDED


# ---- retries and escalation -----------------------------------------------------------------
def test_an_implementation_defect_gets_two_corrections_then_passes(pc: Client, repo: Path) -> None:
    """Behaviour 19: fail, retry 1, retry 2 — each retry carries the four fields — then pass."""
    view = run(pc, repo / "plans" / "greet-retries.yaml")
    assert view.run.state is RunState.SUCCEEDED
    assert gate_rounds(view, "implementation") == [False, False, True]
    fixes = [d for d in view.phases if d.phase_id == "I1" and d.round > 0]
    assert [d.round for d in fixes] == [1, 2]
    for d in fixes:
        c = d.correction
        assert c is not None
        assert c.gate == "implementation"
        assert "did not commit" in c.defect
        assert c.required_correction
        assert any("requirement R1" in a for a in c.acceptance_criteria)
    agent_run = fixes[0].outcome["agent_run_ids"][0]  # type: ignore[index]
    (prompt,) = pc.patches.prompts(str(agent_run))
    assert "CORRECTION 1 of 2" in prompt.rendered
    assert "Acceptance criteria (unchanged)" in prompt.rendered
    assert commits_touching(repo, "greet/hello.py") == ["feat: greet(name) (correction 2)"]


def test_the_third_failure_escalates_without_a_third_retry(pc: Client, repo: Path) -> None:
    """Behaviour 19: the third failure of a gate escalates; the payload is stored and shown."""
    view = run(pc, repo / "plans" / "greet-escalates.yaml")
    assert view.waiting_for_decision()
    assert gate_rounds(view, "implementation") == [False, False, False]
    assert max(d.round for d in view.phases if d.phase_id == "I1") == 2
    esc = view.open_escalation()
    assert esc is not None
    assert esc.blocker_class.value == "implementation-defect"
    assert esc.blocked_gate == "implementation"
    assert esc.evidence_refs
    assert {o.id for o in esc.options} == {"A", "B"}
    assert contract(view).execution_status.value == "escalated"
    items = [i for i in Inbox(pc).items() if i.section == "plan_escalations"]
    assert [i.item_id for i in items] == [esc.escalation_id]


def test_answer_b_ends_the_plan_blocked(pc: Client, repo: Path) -> None:
    """A human choosing B ends the plan blocked, with the decision on record."""
    view = run(pc, repo / "plans" / "greet-escalates.yaml")
    pc.plans.decide(view.run_id, option="B", note="not worth it", by="alice")
    view = pc.plans.drive(view.run_id, timeout=120)
    assert view.run.state is RunState.FAILED
    c = contract(view)
    assert c.execution_status.value == "blocked"
    assert view.escalations[0].answer is not None
    assert view.escalations[0].answer.by == "alice"


def test_answer_a_grants_one_more_correction_carrying_the_guidance(pc: Client, repo: Path) -> None:
    """A human choosing A gets one more correction round with their note in it."""
    view = run(pc, repo / "plans" / "greet-escalates.yaml")
    pc.plans.decide(view.run_id, option="A", note="use an f-string", by="alice")
    view = pc.plans.drive(view.run_id, timeout=120)
    third = [d for d in view.phases if d.phase_id == "I1" and d.round == 3]
    assert third
    assert third[0].correction is not None
    assert third[0].correction.guidance == "use an f-string"
    assert view.waiting_for_decision()
    assert len(view.escalations) == 2


def test_an_answered_escalation_cannot_be_answered_again(pc: Client, repo: Path) -> None:
    """Deciding twice is refused with a clear conflict."""
    view = run(pc, repo / "plans" / "greet-escalates.yaml")
    esc = view.open_escalation()
    assert esc is not None
    pc.plans.decide(esc.escalation_id, option="B", by="alice")
    with pytest.raises(Exception, match="already answered"):
        pc.plans.decide(esc.escalation_id, option="A", by="bob")


# ---- intake and preflight -------------------------------------------------------------------
def test_a_missing_worktree_path_blocks_at_intake_with_nothing_delegated(
    pc: Client, repo: Path
) -> None:
    """Behaviour 15: no execution_worktree_path → blocked with owned blockers, no delegation."""

    def handoff(data: dict[str, Any]) -> None:
        data["handoff"] = {
            "issuer": "tech-lead",
            "item_workspace_path": str(repo),
            "package_directory_path": str(repo / "plans"),
        }

    path = write_plan(repo, "no-worktree", variant("greet", "no-worktree", handoff))
    view = run(pc, path)
    assert view.run.state is RunState.FAILED
    ack = view.record.acknowledgment
    assert ack is not None
    assert not ack.sufficiency_for_execution
    assert [g.field for g in ack.blocking_gaps] == ["handoff.execution_worktree_path"]
    assert ack.blocking_gaps[0].owner == "tech-lead"
    assert view.phases == []
    assert view.gates == []
    c = contract(view)
    assert c.execution_status.value == "blocked"
    assert all(m.session_ids == "none" for m in c.member_delegations)


def test_a_handoff_from_the_shaper_is_blocked_and_routed_to_tech_lead(
    pc: Client, repo: Path
) -> None:
    """Behaviour 16: issuer shaper without an override → blocked, routed to tech-lead."""

    def shaper(data: dict[str, Any]) -> None:
        data["handoff"] = {
            "issuer": "shaper",
            "item_workspace_path": str(repo),
            "package_directory_path": str(repo / "plans"),
            "execution_worktree_path": str(repo),
        }

    path = write_plan(repo, "shaper", variant("greet", "shaper", shaper))
    view = run(pc, path)
    ack = view.record.acknowledgment
    assert ack is not None
    assert ack.routed_to == "tech-lead"
    assert view.run.state is RunState.FAILED
    assert view.phases == []


def test_a_decision_owner_override_lets_another_issuer_hand_off(pc: Client, repo: Path) -> None:
    """Behaviour 16: with decision_owner_override the shaper's handoff is executed."""

    def override(data: dict[str, Any]) -> None:
        data["handoff"] = {
            "issuer": "shaper",
            "decision_owner_override": True,
            "item_workspace_path": str(repo),
            "package_directory_path": str(repo / "plans"),
            "execution_worktree_path": str(repo),
        }

    path = write_plan(repo, "override", variant("greet", "override", override))
    assert run(pc, path).run.state is RunState.SUCCEEDED


def _exception_plan(data: dict[str, Any]) -> None:
    data["phases"] = [p for p in data["phases"] if p["phase_id"] == "I1"]
    data["phases"][0].update(
        depends_on=[],
        test_not_applicable=True,
        test_not_applicable_reason="a migration checked by importing the module",
    )
    data["requirements"] = data["requirements"][:1]
    data["test_command"] = ["{python}", "-c", "import greet.hello"]


def test_an_acknowledged_exception_skips_the_test_gate(pc: Client, repo: Path) -> None:
    """Behaviour 18: test_not_applicable with a reason acknowledged at preflight skips it."""
    path = write_plan(repo, "exception", variant("greet", "exception", _exception_plan))
    view = run(pc, path, acknowledge=["I1"])
    assert view.run.state is RunState.SUCCEEDED
    (test_gate,) = [g for g in view.gates if g.gate == "test"]
    assert test_gate.skipped_reason
    c = contract(view)
    assert c.test_commit_hashes == "none"
    assert c.test_gate_exception
    assert c.member_delegations[0].outcome == "exception"


def test_an_unacknowledged_exception_is_refused_until_a_human_accepts(
    pc: Client, repo: Path
) -> None:
    """Behaviour 18: without acknowledgment preflight refuses; accepting it (A) goes on."""
    path = write_plan(repo, "exception", variant("greet", "exception", _exception_plan))
    view = run(pc, path)
    esc = view.open_escalation()
    assert esc is not None
    assert esc.blocked_gate == "preflight"
    assert esc.blocker_class.value == "decision-needed"
    assert view.phases == []
    pc.plans.decide(view.run_id, option="A", by="alice")
    assert pc.plans.drive(view.run_id, timeout=120).run.state is RunState.SUCCEEDED


def test_an_open_decision_escalates_at_once_to_the_decision_owner(pc: Client, repo: Path) -> None:
    """Behaviour 20: decision-needed escalates immediately (no retries) with options A/B."""

    def open_decision(data: dict[str, Any]) -> None:
        data["decisions"] = [{"id": "D2", "question": "Localise now?", "status": "open"}]

    path = write_plan(repo, "open", variant("greet", "open", open_decision))
    view = run(pc, path)
    esc = view.open_escalation()
    assert esc is not None
    assert (esc.blocked_gate, esc.round, esc.routed_to) == ("preflight", 0, "decision-owner")
    assert view.phases == []


def test_a_package_defect_escalates_at_once_and_a_recheck_resumes(pc: Client, repo: Path) -> None:
    """Behaviour 20: a missing test spec goes to tech-lead at once; after a fix, A re-checks."""

    def missing_spec(data: dict[str, Any]) -> None:
        data["test_spec"] = "docs/missing-spec.md"

    path = write_plan(repo, "nospec", variant("greet", "nospec", missing_spec))
    view = run(pc, path)
    esc = view.open_escalation()
    assert esc is not None
    assert (esc.blocker_class.value, esc.routed_to, esc.round) == ("package-defect", "tech-lead", 0)
    (repo / "docs" / "missing-spec.md").write_text("# spec\n- R1, R2 as in test-spec.md\n")
    pc.plans.decide(view.run_id, option="A", by="tech-lead")
    assert pc.plans.drive(view.run_id, timeout=300).run.state is RunState.SUCCEEDED


def test_an_implementation_that_rewrites_tests_is_rejected(pc: Client, repo: Path) -> None:
    """Implementation changes that touch test files are refused before reaching the checkout."""
    add_app(repo, "coder-cheat", "code", "--mode", "cheat")

    def cheat(data: dict[str, Any]) -> None:
        data["roles"]["implement-plan"] = {"tools": ["coder-cheat"]}
        data["retry_budget"] = 0

    path = write_plan(repo, "cheat", variant("greet-retries", "cheat", cheat))
    view = run(pc, path)
    (i1,) = [d for d in view.phases if d.phase_id == "I1"]
    assert i1.status.value == "failed"
    assert "tests/test_greet.py" in str(i1.outcome["error"])
    assert commits_touching(repo, "tests/test_greet.py") == ["test: greet(name)"]
    assert view.waiting_for_decision()


# ---- workstream rules (39) ------------------------------------------------------------------
def _two_impl(handling: str) -> Any:
    def edit(data: dict[str, Any]) -> None:
        data["max_parallel"] = 1
        data["error_handling"] = handling
        data["retry_budget"] = 0
        data["roles"]["stubborn-coder"] = {"tools": ["coder-stubborn"]}
        data["phases"][2]["owner_role"] = "stubborn-coder"

    return edit


def test_fail_fast_stops_starting_phases_after_one_fails(pc: Client, repo: Path) -> None:
    """fail_fast: once a phase exhausts its attempts, later phases of the stage do not start."""
    path = write_plan(repo, "ff", variant("greet", "ff", _two_impl("fail_fast")))
    view = run(pc, path)
    status = {d.phase_id: d.status.value for d in view.phases if d.round == 0}
    assert status["I1"] == "failed"
    assert status["I2"] == "skipped"


def test_continue_lets_independent_phases_proceed(pc: Client, repo: Path) -> None:
    """continue: an independent phase still runs after another failed."""
    path = write_plan(repo, "cont", variant("greet", "cont", _two_impl("continue")))
    view = run(pc, path)
    status = {d.phase_id: d.status.value for d in view.phases if d.round == 0}
    assert status["I1"] == "failed"
    assert status["I2"] == "committed"
    impl = view.record.schedule["implementation"]
    assert isinstance(impl, dict)
    assert impl["batches"] == [{"phase_ids": ["I1"]}, {"phase_ids": ["I2"]}]


# ---- package defects and cancellation ---------------------------------------------------------
def test_a_role_the_router_refuses_fails_preflight_before_any_delegation(
    pc: Client, repo: Path
) -> None:
    """A role mapped to an app that cannot take its task kind (a dry route refuses it): the
    preflight gate fails with a plan defect naming the role, its tools, why and the fix,
    escalated at once to tech-lead; no phase is delegated."""
    path = repo / ".runwright" / "router.yaml"
    config = yaml.safe_load(path.read_text())
    config["apps"]["tests-writer"]["capabilities"] = {"task_kinds": ["analysis"]}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    view = run(pc, repo / "plans" / "greet.yaml")
    esc = view.open_escalation()
    assert esc is not None
    assert (esc.blocked_gate, esc.blocker_class.value, esc.round) == (
        "preflight",
        "plan-defect",
        0,
    )
    assert esc.routed_to == "tech-lead"
    assert view.phases == []
    [defect] = [d for g in view.gates for d in g.defects if d.code == "role_task_not_routable"]
    assert defect.phase_id == "T1"
    assert "role test-implementer (phases T1, T2)" in defect.message
    assert "['tests-writer']" in defect.message
    assert "none of its tools takes that task kind" in defect.message
    assert "tests-writer takes analysis" in defect.message
    assert "roles.test-implementer.tools" in defect.required_correction
    assert "rerun `runwright init`" in defect.required_correction


def test_a_canceled_plan_leaves_nothing_in_the_inbox(pc: Client, repo: Path) -> None:
    """Canceling a plan that waits on an escalation removes it from the inbox."""
    view = run(pc, repo / "plans" / "greet-escalates.yaml")
    assert view.waiting_for_decision()
    pc.cancel(view.run_id)
    assert pc.get(view.run_id).state is RunState.CANCELED
    assert [i for i in Inbox(pc).items() if i.section == "plan_escalations"] == []

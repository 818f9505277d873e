"""Routing state on SQLite and PostgreSQL: the round-robin counter and the auto strategy's
records persist; decisions and prompts are kept with runs (UET §5 behaviours 36-38)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from patches_support import init_repo, write_router

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.domain.events import EventKind
from runwright.domain.ids import new_id
from runwright.domain.router_decision import RejectionCode
from runwright.engine.clock import FakeClock
from runwright.patches.routing import Router
from runwright.store.core.records import NewRun

APPS = {
    "a": {"command": ["a"], "capabilities": {"task_kinds": ["code_edit"]}},
    "b": {"command": ["b"], "capabilities": {"task_kinds": ["code_edit"]}},
}


@pytest.fixture
def pc(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Client]:
    """A client on a git project with a router.yaml."""
    repo = init_repo(tmp_path / "repo")
    write_router(
        repo / ".runwright",
        APPS,
        [
            {
                "id": "rr",
                "match": {"task_kind": ["code_edit"]},
                "select_from": ["a", "b"],
                "strategy": "round_robin",
            },
            {
                "id": "best",
                "match": {"task_kind": ["review"]},
                "select_from": ["a", "b"],
                "strategy": "auto",
            },
        ],
    )
    client = Client.open(
        load_settings(env={}, overrides={"home": repo / ".runwright", "database_url": db_url}),
        clock=clock,
    )
    yield client
    client.close()


def test_round_robin_survives_new_processes(pc: Client) -> None:
    """Behaviour 37: a, b, a — the counter lives in the database, so a fresh router (another
    process) continues where the last left off; a dry run does not advance it."""
    picks = [pc.patches.route(pc.patches.request("code_edit")).selected for _ in range(2)]
    assert pc.patches.route(pc.patches.request("code_edit"), dry_run=True).selected == "a"
    fresh = Router(pc.store.db, pc.patches.env)
    picks.append(fresh.route(pc.patches.request("code_edit")).selected)
    assert picks == ["a", "b", "a"]


def test_auto_learns_from_recorded_outcomes(pc: Client) -> None:
    """auto picks the unseen tool (0.5) over a failing one, then the one that succeeds fast."""
    router = pc.patches.router
    for n in range(3):
        router.record_outcome(
            tool_id="a", run_id=new_id(), attempt_key=f"a:{n}", success=False, latency_seconds=9
        )
    first = pc.patches.route(pc.patches.request("review"))
    assert first.selected == "b"
    assert first.scores["b"] == 0.5
    assert first.scores["a"] < 0.5
    for n in range(3):
        router.record_outcome(
            tool_id="a", run_id=new_id(), attempt_key=f"a:ok{n}", success=True, latency_seconds=0
        )
        router.record_outcome(
            tool_id="b", run_id=new_id(), attempt_key=f"b:{n}", success=False, latency_seconds=1
        )
    assert pc.patches.route(pc.patches.request("review")).selected == "a"


def test_recording_an_outcome_twice_counts_once(pc: Client) -> None:
    """Outcomes are keyed by (run, attempt): a step re-run after a crash does not skew stats."""
    router, run_id = pc.patches.router, new_id()
    for _ in range(3):
        router.record_outcome(
            tool_id="a", run_id=run_id, attempt_key="a:1", success=True, latency_seconds=1
        )
    assert router.store.stats(pc.settings.project_id, ["a"])["a"].runs == 1


def test_decisions_are_recorded_in_the_run_log(pc: Client) -> None:
    """With a run, the decision is appended as route_decided with its explanation."""
    run = pc.store.create_run(
        NewRun(job_name="test.route", project_id=pc.settings.project_id), pc.clock.now()
    )
    decision = pc.patches.route(pc.patches.request("code_edit"), run_id=run.run_id)
    events = [e for e in pc.events(run.run_id) if e.kind is EventKind.ROUTE_DECIDED]
    assert events[0].payload["selected"] == decision.selected
    assert events[0].payload["explanation"] == decision.explanation
    assert pc.verify(run.run_id).ok


def test_an_invalid_request_or_unknown_prompt_is_rejected_with_its_code(pc: Client) -> None:
    """A request failing its schema → request_invalid_schema naming the field; a prompt_spec
    naming no stored prompt → prompt_spec_invalid; an undeclared phase → phase_not_found."""
    bad = pc.patches.route({"request_id": new_id(), "project_id": "p", "phase_id": "x"})
    assert bad.rejection_code is RejectionCode.REQUEST_INVALID_SCHEMA
    assert "task_kind" in (bad.message or "")
    unknown = pc.patches.route(
        pc.patches.request("code_edit").model_copy(update={"prompt_spec": new_id()})
    )
    assert unknown.rejection_code is RejectionCode.PROMPT_SPEC_INVALID
    phases = pc.patches.env.home / "phases"
    phases.mkdir()
    (phases / "core.yaml").write_text("phase_id: PH-CORE\nname: Core\ncategory: implementation\n")
    missing = pc.patches.route(pc.patches.request("code_edit", phase_id="PH-OTHER"))
    assert missing.rejection_code is RejectionCode.PHASE_NOT_FOUND
    assert pc.patches.route(pc.patches.request("code_edit", phase_id="PH-CORE")).accepted


def test_prompts_are_stored_with_their_run(pc: Client) -> None:
    """A rendered prompt saved for a run is listed with it and noted as prompt_rendered; a
    request may then name it as its prompt_spec."""
    run = pc.store.create_run(
        NewRun(job_name="test.prompt", project_id=pc.settings.project_id), pc.clock.now()
    )
    request = pc.patches.request("code_edit", objective="Rename x to y", files=["src/app.py"])
    prompt = pc.patches.render_prompt(request, tool="a").model_copy(
        update={"run_id": run.run_id, "created_at": pc.clock.now()}
    )
    pc.patches.router.store.save_prompt(
        prompt, project_id=pc.settings.project_id, now=pc.clock.now()
    )
    stored = pc.patches.prompts(run.run_id)
    assert [p.prompt_instance_id for p in stored] == [prompt.prompt_instance_id]
    assert "Rename x to y" in stored[0].rendered
    assert stored[0].sections.OBJECTIVE == "Rename x to y"
    assert EventKind.PROMPT_RENDERED in [e.kind for e in pc.events(run.run_id)]
    named = request.model_copy(update={"prompt_spec": prompt.prompt_instance_id})
    assert pc.patches.route(named).accepted

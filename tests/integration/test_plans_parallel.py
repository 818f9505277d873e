"""Parallel phases, for real: four parallel_safe test phases of one batch run their agents at
the same time in real worker processes, each in its own worktree made from the same base
commit, and their commits land on the branch in the plan's phase order — with no git lock
error anywhere — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from plans_support import git, make_repo, open_client, variant, write_plan

from runwright.api.client import Client
from runwright.domain.runs import Run
from runwright.domain.states import TERMINAL_RUN_STATES, RunState
from runwright.patches.agent import AGENT_JOB
from tests.workers import start_worker

pytestmark = pytest.mark.slow

AGENT = Path(__file__).resolve().parents[1] / "jobs" / "parallel_agent.py"
WORKERS = 4
LOCK_ERRORS = re.compile(
    r"index\.lock|could not lock|cannot lock ref|unable to create|another git process", re.I
)


def four_phase_plan() -> dict[str, Any]:
    """Four independent, disjoint, parallel_safe test phases, then one implementation."""
    ids = [f"R{n}" for n in range(1, 5)]
    tests = [
        {
            "phase_id": f"T{n}",
            "name": f"Tests p{n}",
            "phase_type": "test",
            "owner_role": "test-implementer",
            "objective": f"Write tests/test_p{n}.py.",
            "parallel_safe": True,
            "commit_intent": f"test: p{n}",
            "proof_artifact": f"tests/test_p{n}.py",
            "files": [f"tests/test_p{n}.py"],
            "scope": {"write": [f"tests/test_p{n}.py"]},
            "requirements": [f"R{n}"],
        }
        for n in range(1, 5)
    ]
    impl = {
        "phase_id": "I1",
        "name": "Notes",
        "phase_type": "implementation",
        "owner_role": "implement-plan",
        "objective": "Write greet/notes.py.",
        "depends_on": [t["phase_id"] for t in tests],
        "commit_intent": "feat: notes",
        "files": ["greet/notes.py"],
        "scope": {"write": ["greet/notes.py"]},
        "requirements": ids,
    }
    return {
        "plan_id": "four-at-once",
        "title": "Four test phases at once",
        "test_spec": "docs/test-spec.md",
        "test_command": ["{python}", "-m", "unittest", "-q", "{tests}"],
        "test_paths": ["tests/**"],
        "requirements": [{"id": r, "text": f"requirement {r} holds"} for r in ids],
        "roles": {
            "test-implementer": {"tools": ["parallel"]},
            "implement-plan": {"tools": ["parallel"]},
        },
        "max_parallel": 4,
        "error_handling": "fail_fast",
        "retry_budget": 0,
        "scope": {"write": ["greet/**", "tests/**"]},
        "phases": [*tests, impl],
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example repository with a router app running the parallel agent."""
    made = make_repo(tmp_path / "repo")
    path = made / ".runwright" / "router.yaml"
    config = yaml.safe_load(path.read_text())
    config["apps"]["parallel"] = {
        **config["apps"]["coder"],
        "command": [sys.executable, str(AGENT), "{worktree}", "{prompt_file}"],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return made


@pytest.fixture
def pc(repo: Path, db_url: str) -> Iterator[Client]:
    """A client on the repository (the real clock: the workers share it)."""
    client = open_client(repo, db_url)
    yield client
    client.close()


def _all_runs(pc: Client, root: str) -> list[Run]:
    found, todo = [], [root]
    while todo:
        run = pc.get(todo.pop())
        found.append(run)
        todo += [c.run_id for c in pc.children(run.run_id)]
    return found


def _run_with_workers(pc: Client, repo: Path, db_url: str, log: Path, plan: Path) -> str:
    run = pc.plans.start(plan)
    home = repo / ".runwright"
    workers = [start_worker(home, db_url, log=log) for _ in range(WORKERS)]
    deadline = time.monotonic() + 300
    try:
        while True:
            view = pc.plans.get(run.run_id)
            if view.run.state in TERMINAL_RUN_STATES or view.waiting_for_decision():
                return run.run_id
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck worker
                os.killpg(w.pid, signal.SIGKILL)
                w.wait(timeout=30)


def test_four_parallel_phases_run_at_once_and_land_in_plan_order(
    pc: Client, repo: Path, db_url: str, tmp_path: Path
) -> None:
    """Four parallel_safe phases in one batch, four real workers: the four agent runs overlap
    in time, all start from the plan's commit at the start of the batch, the four commits are
    on the branch in phase order (though the first phase's agent finishes last), and no run's
    events, failure or the workers' output mention a git lock error."""
    base = git(repo, "rev-parse", "HEAD").strip()
    plan = write_plan(repo, "four", four_phase_plan())
    log = tmp_path / "workers.log"
    run_id = _run_with_workers(pc, repo, db_url, log, plan)

    view = pc.plans.get(run_id)
    assert view.run.state is RunState.SUCCEEDED, log.read_text()[-3000:]
    batches = view.record.schedule["tests"]
    assert isinstance(batches, dict)
    assert batches["batches"] == [{"phase_ids": ["T1", "T2", "T3", "T4"]}]

    delegations = sorted(
        (d for d in view.phases if d.stage == "tests" and d.round == 0), key=lambda d: d.phase_id
    )
    agents: list[Run] = []
    for d in delegations:
        assert d.child_run_id is not None
        (agent,) = [r for r in pc.children(d.child_run_id) if r.job_name == AGENT_JOB]
        agents.append(agent)
    starts = [a.started_at for a in agents if a.started_at]
    ends = [a.ended_at for a in agents if a.ended_at]
    assert len(starts) == len(ends) == 4
    assert max(starts) < min(ends), (starts, ends)
    assert {a.args[0]["base_commit"] for a in agents} == {base}

    subjects = git(repo, "log", "--reverse", "--format=%s").splitlines()
    assert subjects[1:] == ["test: p1", "test: p2", "test: p3", "test: p4", "feat: notes"]
    assert ends[0] > ends[3]  # T1's agent finished after T4's, yet T1 committed first

    texts = [log.read_text(errors="replace")]
    for run in _all_runs(pc, run_id):
        texts.append(json.dumps(run.failure.model_dump(mode="json") if run.failure else None))
        texts += [json.dumps(e.payload) for e in pc.events(run.run_id)]
    found = [m.group(0) for t in texts for m in LOCK_ERRORS.finditer(t)]
    assert found == []


CONFLICT_AGENT = Path(__file__).resolve().parents[1] / "jobs" / "conflict_agent.py"


def test_a_patch_that_no_longer_applies_fails_its_phase_not_the_run(pc: Client, repo: Path) -> None:
    """I1's branch moved under it (its file was committed meanwhile): its patch no longer
    applies, so I1 fails with that reason and its patch is rolled back; the plan goes on, and
    the correction round — made from the new HEAD — commits."""
    path = repo / ".runwright" / "router.yaml"
    config = yaml.safe_load(path.read_text())
    scripted = config["apps"]["coder"]["command"][1]
    config["apps"]["coder-conflict"] = {
        **config["apps"]["coder"],
        "command": [
            sys.executable,
            str(CONFLICT_AGENT),
            scripted,
            "{repo}",
            "{worktree}",
            "{prompt_file}",
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))

    def edit(data: dict[str, Any]) -> None:
        data["roles"]["conflict-coder"] = {"tools": ["coder-conflict"]}
        data["phases"][2]["owner_role"] = "conflict-coder"

    plan = write_plan(repo, "conflict", variant("greet", "conflict", edit))
    view = pc.plans.run(plan, timeout=300)
    assert view.run.state is RunState.SUCCEEDED
    first, second = sorted((d for d in view.phases if d.phase_id == "I1"), key=lambda d: d.round)
    assert first.status.value == "failed"
    assert first.outcome is not None
    assert "no longer applies" in str(first.outcome["error"])
    (patch_id,) = first.outcome["patch_ids"]
    assert pc.patches.get(str(patch_id)).entry.state.value == "rolled_back"
    assert second.status.value == "committed"
    assert "feat: greet(name) (correction 1)" in git(repo, "log", "--format=%s").splitlines()

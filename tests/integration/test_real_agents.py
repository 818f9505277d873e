"""Plans drive the real agent CLIs — Claude Code, Codex CLI and aider — against the scripted
model server, on SQLite and PostgreSQL: a test phase and an implementation phase run to
`complete` with the real CLI editing its worktree; an implementation attempt that edits a test
file is refused; the failing gate's correction rounds reach the real CLI (the request the model
server received carries the failed gate, the defect, the required correction and the unchanged
criteria); the agent's own usage report is recorded per delegation round.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from agents_support import agent_app, write_router
from plans_support import commits_touching, git, make_repo, open_client, write_plan

from runwright.api.client import Client
from runwright.domain.plan_completion import CompletionContract
from runwright.domain.states import TERMINAL_RUN_STATES
from runwright.testing.models import ModelStub, parse_script

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agents"
SCRIPT = parse_script((EXAMPLE / "script.yaml").read_text(), source="examples/agents/script.yaml")
TESTS = SCRIPT.conversations[0].turns[0].actions[0].write_file.content  # type: ignore[union-attr]


def plan() -> dict[str, Any]:
    """The example's two-phase plan; its roles use the router app named ``agent``."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLE / "plan.yaml").read_text())
    return data


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[ModelStub]:
    """The scripted model server for one plan run."""
    with ModelStub(SCRIPT, record=tmp_path / "model-requests.jsonl") as s:
        yield s


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example repository (a tiny greet package and its test spec), committed."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def pc(repo: Path, db_url: str) -> Iterator[Client]:
    """A client on the repository, SQLite or PostgreSQL."""
    client = open_client(repo, db_url)
    yield client
    client.close()


@pytest.mark.parametrize("agent", ["claude", "codex", "aider"])
def test_a_real_agent_takes_a_plan_through_refusal_and_corrections_to_complete(
    agent: str, stub: ModelStub, repo: Path, pc: Client, tmp_path: Path
) -> None:
    """The real CLI writes the tests, its test-file edit in the implementation phase is
    quarantined, two correction rounds reach it with the gate, defect, required correction and
    unchanged criteria, and the plan completes with both commits and recorded usage."""
    write_router(repo, {"agent": agent_app(agent, stub, tmp_path / "agent-home")})
    path = write_plan(repo, "greet-by-agent", plan())
    view = pc.plans.run(path, timeout=600)
    assert view.record.status.value == "complete", view.record.model_dump_json(indent=1)
    contract = CompletionContract.model_validate(view.record.completion)
    assert contract.execution_status.value == "complete"

    # The real CLI edited its worktree; the commits landed in the plan's order.
    assert commits_touching(repo, "tests/test_greet.py") == ["test: greet(name)"]
    assert commits_touching(repo, "greet/hello.py") == ["feat: greet(name) (correction 2)"]
    assert 'f"Hello, {name}!"' in git(repo, "show", "HEAD:greet/hello.py")
    assert git(repo, "show", "HEAD:tests/test_greet.py") == TESTS

    # Every scripted conversation was served, each to the real agent.
    served = [r["conversation"] for r in stub.requests]
    for name in ("tests", "cheat", "correction-1", "correction-2"):
        assert name in served, served

    # The test-file edit was refused before it reached the checkout.
    cheat = [
        p
        for p in pc.patches.list()
        if p.artifact.scope and "tests/test_greet.py" in p.artifact.scope.files_touched
    ]
    assert any(p.entry.state.value == "quarantined" for p in cheat)

    # The correction reached the real CLI: what the model server was told.
    (first_correction,) = {r["prompt"] for r in stub.requests_for("correction-1")}
    assert "the implementation gate failed" in first_correction
    assert "Defect observed:" in first_correction
    assert "Required correction:" in first_correction
    assert "Acceptance criteria (unchanged):" in first_correction
    assert "tests/test_greet.py" in first_correction  # the refused edit is the defect
    (second_correction,) = {r["prompt"] for r in stub.requests_for("correction-2")}
    assert "CORRECTION 2 of 2" in second_correction
    assert "Hello, Ada!" in second_correction  # the failing test's output tail

    # The agent's own usage report is recorded per delegation round.
    rows = view.spend.rows
    assert [(r.phase_id, r.round, r.tool) for r in rows] == [
        ("T1", 0, "agent"),
        ("I1", 0, "agent"),
        ("I1", 1, "agent"),
        ("I1", 2, "agent"),
    ]
    per_call = 1 if agent == "aider" else 2  # model requests per call: aider stops after one
    assert {(r.input_tokens, r.output_tokens) for r in rows} == {(1500 * per_call, 120 * per_call)}
    if agent == "codex":  # Codex reports tokens, not cost
        assert {r.cost_usd for r in rows} == {None}
    else:
        assert all(r.cost_usd and r.cost_usd > 0 for r in rows)
    if agent != "aider":  # aider reports no session id
        assert all(r.session_id for r in rows)
    assert contract.model_dump(mode="json").get("spend"), "the contract carries the spend"

    # The spec text reached the agent in its prompt.
    (tests_prompt,) = {r["prompt"] for r in stub.requests_for("tests")}
    spec = (repo / "docs" / "test-spec.md").read_text()
    assert spec.strip().splitlines()[0] in tests_prompt


def parallel_script() -> str:
    """Four test phases, each a Claude Code session that takes a few seconds, then the code."""
    test = (
        "import unittest\n\nfrom greet import notes\n\n\n"
        "class P{n}(unittest.TestCase):\n"
        "    def test_note(self):\n"
        "        self.assertEqual(notes.NOTE{n}, {n})\n"
    )
    conversations: list[dict[str, Any]] = [
        {
            "name": f"T{n}",
            "match": [f"Write tests/test_p{n}.py."],
            "turns": [
                {
                    "delay_seconds": 3,
                    "actions": [
                        {"write_file": {"path": f"tests/test_p{n}.py", "content": test.format(n=n)}}
                    ],
                },
                {"text": f"Tests for p{n} written."},
            ],
        }
        for n in range(1, 5)
    ]
    notes = "".join(f"NOTE{n} = {n}\n" for n in range(1, 5))
    conversations.append(
        {
            "name": "notes",
            "match": ["Write greet/notes.py."],
            "turns": [
                {"actions": [{"write_file": {"path": "greet/notes.py", "content": notes}}]},
                {"text": "Notes written."},
            ],
        }
    )
    return yaml.safe_dump({"conversations": conversations})


def test_four_real_claude_sessions_run_at_once_and_land_in_plan_order(
    repo: Path, pc: Client, db_url: str, tmp_path: Path
) -> None:
    """Four parallel_safe test phases, four real worker processes, the real Claude Code: the four
    agent sessions overlap in time (the model server saw them at once), each works in its own
    worktree from the same commit, the commits land in phase order, and no git lock error
    appears in the workers' output."""
    from tests.integration.test_plans_parallel import LOCK_ERRORS, four_phase_plan
    from tests.workers import start_worker

    with ModelStub(parse_script(parallel_script()), record=tmp_path / "requests.jsonl") as stub:
        write_router(repo, {"parallel": agent_app("claude", stub, tmp_path / "agent-home")})
        plan = write_plan(repo, "four", four_phase_plan())
        run = pc.plans.start(plan)
        log = tmp_path / "workers.log"
        workers = [start_worker(repo / ".runwright", db_url, log=log) for _ in range(4)]
        try:
            view = pc.plans.get(run.run_id)
            deadline = time.monotonic() + 300
            while view.run.state not in TERMINAL_RUN_STATES and not view.waiting_for_decision():
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
                view = pc.plans.get(run.run_id)
        finally:
            for w in workers:
                os.killpg(w.pid, signal.SIGTERM)
            for w in workers:
                w.wait(timeout=60)
        requests = list(stub.requests)
    assert view.record.status.value == "complete", log.read_text()[-3000:]
    spans = []
    for n in range(1, 5):
        times = [r["time"] for r in requests if r["conversation"] == f"T{n}"]
        spans.append((min(times), max(times)))
    assert max(s for s, _ in spans) < min(e for _, e in spans), spans  # all four at once
    subjects = git(repo, "log", "--reverse", "--format=%s").splitlines()
    assert subjects[-5:] == ["test: p1", "test: p2", "test: p3", "test: p4", "feat: notes"]
    assert LOCK_ERRORS.findall(log.read_text(errors="replace")) == []


OVERSPEND = """
conversations:
  - name: tests
    match: ["Write unittest tests for greet"]
    turns:
      - text: "Reading the whole repository first."
        usage: {input_tokens: 50000, output_tokens: 40}
        actions:
          - run: {command: "ls"}
      - delay_seconds: 60
        text: "Still thinking."
"""


def test_a_token_budget_stops_the_real_claude_code_mid_call_and_escalates(
    repo: Path, pc: Client, tmp_path: Path
) -> None:
    """A phase whose budget the real Claude Code's first answer already exceeds: its process
    group is stopped at once (not after the model's next, slow answer), the spend is recorded
    with what it reported, and the plan escalates as decision-needed: raise the budget or stop."""
    with ModelStub(parse_script(OVERSPEND)) as stub:
        write_router(repo, {"agent": agent_app("claude", stub, tmp_path / "agent-home")})
        data = plan()
        data["phases"][0]["budget"] = {"max_tokens": 20000}
        path = write_plan(repo, "greet-by-agent", data)
        started = time.monotonic()
        view = pc.plans.run(path, timeout=300)
        elapsed = time.monotonic() - started
    assert elapsed < 45, elapsed  # the scripted second answer would have taken 60 s
    assert view.waiting_for_decision()
    escalation = view.open_escalation()
    assert escalation is not None
    assert escalation.blocker_class.value == "decision-needed"
    assert "max_tokens" in escalation.summary
    (row,) = view.spend.rows
    assert row.input_tokens == 50000
    assert row.stopped_by
    options = {o.id: o.summary.lower() for o in escalation.options}
    assert "raise" in options["A"]
    assert "stop" in options["B"]
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "agent-home")], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout.strip() == ""

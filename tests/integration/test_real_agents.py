"""Plans drive the real agent CLIs — Claude Code, Codex CLI and aider — against the scripted
model server, on SQLite and PostgreSQL: a test phase and an implementation phase run to
`complete` with the real CLI editing its worktree; an implementation attempt that edits a test
file is refused; the failing gate's correction rounds reach the real CLI (the request the model
server received carries the failed gate, the defect, the required correction and the unchanged
criteria); the agent's own usage report is recorded per delegation round.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agents_support import agent_app, write_router
from plans_support import commits_touching, git, make_repo, open_client, write_plan

from runwright.api.client import Client
from runwright.domain.plan_completion import CompletionContract
from runwright.testing.models import ModelStub, parse_script

pytestmark = pytest.mark.slow

TESTS = """import unittest

from greet.hello import greet


class GreetTest(unittest.TestCase):
    def test_greets_by_name(self):
        self.assertEqual(greet("Ada"), "Hello, Ada!")

    def test_refuses_an_empty_name(self):
        with self.assertRaises(ValueError):
            greet("")
"""
WRONG = 'def greet(name):\n    return "Hi " + name\n'
RIGHT = """def greet(name):
    if not name:
        raise ValueError("name must not be empty")
    return f"Hello, {name}!"
"""
IMPLEMENT = "Implement greet.hello.greet"
SCRIPT = f"""
model: claude-sonnet-4-5
usage: {{input_tokens: 1500, output_tokens: 120}}
conversations:
  - name: tests
    match: ["Write unittest tests for greet"]
    turns:
      - text: "I will write the tests the spec asks for."
        actions:
          - write_file: {{path: tests/test_greet.py, content: {json.dumps(TESTS)}}}
      - text: "Tests written."
  - name: cheat
    match: ["{IMPLEMENT}"]
    turns:
      - actions:
          - write_file: {{path: greet/hello.py, content: {json.dumps(WRONG)}}}
          - write_file: {{path: tests/test_greet.py, content: "# emptied\\n"}}
      - text: "Implemented (and simplified the tests)."
  - name: correction-1
    match: ["{IMPLEMENT}", "CORRECTION 1 of 2"]
    turns:
      - actions:
          - write_file: {{path: greet/hello.py, content: {json.dumps(WRONG)}}}
      - text: "Implemented greet."
  - name: correction-2
    match: ["{IMPLEMENT}", "CORRECTION 2 of 2"]
    turns:
      - actions:
          - write_file: {{path: greet/hello.py, content: {json.dumps(RIGHT)}}}
      - text: "Fixed greet."
"""


def plan(agent: str) -> dict[str, Any]:
    """A two-phase plan whose roles are the real agent."""
    return {
        "plan_id": f"real-{agent}",
        "title": f"greet, test-first, by {agent}",
        "test_spec": "docs/test-spec.md",
        "test_command": ["{python}", "-m", "unittest", "-q", "{tests}"],
        "test_paths": ["tests/**"],
        "requirements": [
            {"id": "R1", "text": "greet(name) returns 'Hello, NAME!'", "critical": True}
        ],
        "roles": {
            "test-implementer": {"tools": [agent], "task_kind": "test_write"},
            "implement-plan": {"tools": [agent], "task_kind": "code_edit"},
        },
        "retry_budget": 2,
        "scope": {"write": ["greet/**", "tests/**"]},
        "phases": [
            {
                "phase_id": "T1",
                "name": "Tests for greet",
                "phase_type": "test",
                "owner_role": "test-implementer",
                "objective": "Write unittest tests for greet.hello.greet as the test spec says.",
                "commit_intent": "test: greet(name)",
                "proof_artifact": "tests/test_greet.py",
                "scope": {"write": ["tests/test_greet.py"]},
                "requirements": ["R1"],
                "timeout_seconds": 180,
            },
            {
                "phase_id": "I1",
                "name": "Implement greet",
                "phase_type": "implementation",
                "owner_role": "implement-plan",
                "objective": f"{IMPLEMENT} so that the R1 tests pass.",
                "depends_on": ["T1"],
                "commit_intent": "feat: greet(name)",
                "files": ["greet/hello.py", "tests/test_greet.py"],
                "scope": {"write": ["greet/hello.py"]},
                "requirements": ["R1"],
                "timeout_seconds": 180,
            },
        ],
    }


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[ModelStub]:
    """The scripted model server for one plan run."""
    with ModelStub(parse_script(SCRIPT), record=tmp_path / "model-requests.jsonl") as s:
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
    write_router(repo, {agent: agent_app(agent, stub, tmp_path / "agent-home")})
    path = write_plan(repo, f"real-{agent}", plan(agent))
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

    # The spec text reached the agent in its prompt.
    (tests_prompt,) = {r["prompt"] for r in stub.requests_for("tests")}
    spec = (repo / "docs" / "test-spec.md").read_text()
    assert spec.strip().splitlines()[0] in tests_prompt

"""Plans drive the real agent CLIs — Claude Code, Codex CLI and aider — against the scripted
model server, on SQLite and PostgreSQL: a test phase and an implementation phase run to
`complete` with the real CLI editing its worktree; an implementation attempt that edits a test
file is refused; the failing gate's correction rounds reach the real CLI (the request the model
server received carries the failed gate, the defect, the required correction and the unchanged
criteria); the agent's own usage report is recorded per delegation round.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from agents_support import agent_app, write_router
from plans_support import commits_touching, git, make_repo, open_client, write_plan

from runwright.api.client import Client
from runwright.domain.plan_completion import CompletionContract
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

    # The spec text reached the agent in its prompt.
    (tests_prompt,) = {r["prompt"] for r in stub.requests_for("tests")}
    spec = (repo / "docs" / "test-spec.md").read_text()
    assert spec.strip().splitlines()[0] in tests_prompt

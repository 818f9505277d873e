"""Agent tools as durable runs, with real scripts that edit files: routed, run in a fresh
worktree, their edits captured as a patch and sent through the ledger, on both databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from patches_support import agent, fake_agent_clis, git, head, init_repo, write_policy, write_router

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.domain.events import EventKind
from runwright.domain.patches_ledger import PatchState
from runwright.domain.states import RunState
from runwright.engine.clock import FakeClock

FILES = {
    "src/calc.py": "def add(a, b):\n    return a - b\n",
    "tests/check.py": (
        "import sys\nsys.path.insert(0, 'src')\nfrom calc import add\nassert add(2, 3) == 5\n"
    ),
}
FIX = ("replace", "src/calc.py", "a - b", "a + b")
CHECKS = {"kind": "validator", "command": ["python3", "tests/check.py"]}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project whose add() subtracts."""
    return init_repo(tmp_path / "repo", FILES)


@pytest.fixture
def pc(repo: Path, db_url: str, clock: FakeClock) -> Iterator[Client]:
    """A client on the project, SQLite or PostgreSQL."""
    client = Client.open(
        load_settings(env={}, overrides={"home": repo / ".runwright", "database_url": db_url}),
        clock=clock,
    )
    yield client
    client.close()


def route_to(
    repo: Path, apps: dict[str, Any], rule: dict[str, Any] | None = None, **defaults: Any
) -> None:
    """router.yaml sending code_edit to ``apps`` (first is selected) with the checks validator."""
    names = [n for n, a in apps.items() if a.get("kind") != "validator"]
    write_router(
        repo / ".runwright",
        {**apps, "checks": CHECKS},
        [
            {
                "id": "edit",
                "match": {"task_kind": ["code_edit"]},
                "select_from": names[:1],
                "fallback_to": names[1:],
                "validate_with": ["checks"],
                "required": True,
                **(rule or {}),
            }
        ],
        **({"defaults": defaults} if defaults else {}),
    )


def run_tool(pc: Client, **options: Any) -> Any:
    """Run the routed tool on the standard request."""
    request = pc.patches.request("code_edit", objective="Make add() add", files=["src/calc.py"])
    return pc.patches.run_agent_tool(request, timeout=120, **options)


def test_a_real_tool_edit_becomes_a_verified_patch(pc: Client, repo: Path) -> None:
    """The tool edits a fresh worktree; its edit is a patch that is validated, applied and
    verified; prompt, route, output and diff are evidence of the run; the checkout is untouched."""
    route_to(repo, {"fixer": {"command": agent(*FIX)}})
    before = head(repo)
    result = run_tool(pc)
    run, patch = result.run, result.patch
    assert run.state is RunState.SUCCEEDED
    assert patch is not None
    assert patch.entry.state is PatchState.VERIFIED
    assert patch.entry.validation.tests_passed
    assert patch.artifact.origin.tool_id == "fixer"
    assert patch.artifact.origin.tool_run_id == run.run_id
    assert patch.artifact.origin.prompt_id == result.prompt.prompt_instance_id
    assert "+    return a + b" in patch.artifact.diff_text
    assert head(repo) == before
    assert "a - b" in (repo / "src/calc.py").read_text()
    names = {link.artifact_path for link in pc.evidence(run.run_id)}
    assert {"prompt.md", "fixer-1.stdout.txt", f"patch-{patch.patch_id}.diff"} <= names
    kinds = [e.kind for e in pc.events(run.run_id)]
    assert EventKind.ROUTE_DECIDED in kinds
    assert EventKind.PROMPT_RENDERED in kinds
    assert pc.patches.prompts(run.run_id)[0].sections.OBJECTIVE == "Make add() add"
    assert pc.get(run.run_id).counters.patches_created == 1
    assert pc.verify(run.run_id).ok
    assert not list((repo / ".runwright" / "worktrees").glob("agent-*"))


def test_auto_commit_lands_the_verified_patch(pc: Client, repo: Path) -> None:
    """With auto_commit the verified patch is committed to the current branch."""
    route_to(repo, {"fixer": {"command": agent(*FIX)}})
    result = run_tool(pc, auto_commit=True)
    assert result.patch is not None
    assert result.patch.entry.state is PatchState.COMMITTED
    assert "a + b" in (repo / "src/calc.py").read_text()
    assert git(repo, "log", "-1", "--format=%s").strip() == "Make add() add"


def test_a_failing_tool_is_retried_then_replaced_by_its_fallback(
    pc: Client, repo: Path, tmp_path: Path
) -> None:
    """A tool failing max_attempts times hands over to the fallback; every attempt's outcome is
    recorded for the auto strategy."""
    counter = tmp_path / "flaky-count"
    flaky = {"command": agent("flaky", str(counter), "9", "src/calc.py", "x")}
    route_to(repo, {"flaky": flaky, "steady": {"command": agent(*FIX)}}, max_attempts=2)
    result = run_tool(pc)
    assert result.patch is not None
    assert result.patch.artifact.origin.tool_id == "steady"
    assert counter.read_text() == "2"
    stats = pc.patches.router.store.stats(pc.settings.project_id, ["flaky", "steady"])
    assert (stats["flaky"].runs, stats["flaky"].successes) == (2, 0)
    assert (stats["steady"].runs, stats["steady"].successes) == (1, 1)


@pytest.mark.parametrize(("mode", "why"), [(("fail",), "exited 3"), (("noop",), "changed nothing")])
def test_when_every_tool_fails_the_error_pipeline_is_triggered(
    pc: Client, repo: Path, mode: tuple[str, ...], why: str
) -> None:
    """No usable edit from any tool → the run fails naming each attempt, and the request goes
    to the error pipeline; no patch is recorded."""
    route_to(repo, {"broken": {"command": agent(*mode)}})
    result = run_tool(pc)
    assert result.run.state is RunState.FAILED
    assert result.patch is None
    assert result.run.failure is not None
    assert why in result.run.failure.message
    errors = [
        e for e in pc.events(result.run.run_id) if e.kind is EventKind.ERROR_PIPELINE_TRIGGERED
    ]
    assert errors[0].payload["cause"] == "final_failure"
    assert pc.get(result.run.run_id).counters.errors == 1


def test_a_tool_past_its_timeout_is_stopped(pc: Client, repo: Path, tmp_path: Path) -> None:
    """An app's limits.timeout_seconds stops a tool that hangs; the attempt fails as timed out."""
    slow = {
        "command": agent("sleep-then-write", str(tmp_path / "m"), "30", "src/calc.py", "x"),
        "limits": {"timeout_seconds": 1},
    }
    route_to(repo, {"slow": slow})
    result = run_tool(pc)
    assert result.run.failure is not None
    assert "timed out" in result.run.failure.message


@pytest.mark.parametrize(
    ("mode", "policy", "reason"),
    [
        (("symlink-out", "src/escape"), {}, "leads out of the repository"),
        (("binary", "src/blob.bin"), {}, "binary"),
        (
            ("write", "secrets/token.txt", "s3cr3t"),
            {"forbid_touching_paths": ["secrets/**"]},
            "forbidden",
        ),
    ],
)
def test_hostile_edits_are_quarantined_never_applied(
    pc: Client, repo: Path, mode: tuple[str, ...], policy: dict[str, Any], reason: str
) -> None:
    """A tool that plants a symlink out of the repository, a binary, or a forbidden file gets
    its patch quarantined; the run fails with the reason; nothing reaches the checkout."""
    if policy:
        write_policy(repo / ".runwright", global_=policy)
    route_to(repo, {"evil": {"command": agent(*mode)}})
    result = run_tool(pc)
    assert result.patch is not None
    assert result.patch.entry.state is PatchState.QUARANTINED
    assert reason in (result.patch.entry.quarantine.quarantine_reason or "")
    assert result.run.state is RunState.FAILED
    assert "ended quarantined" in (result.run.failure.message if result.run.failure else "")
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / "src" / "escape").exists()
    assert not (repo / "secrets").exists()


@pytest.mark.parametrize("tool", ["aider", "claude", "codex"])
def test_shipped_adapters_pass_each_cli_its_batch_mode_flags(
    pc: Client, repo: Path, tmp_path: Path, tool: str
) -> None:
    """The aider, claude and codex adapters run an executable of that name the way its batch
    mode expects (message file or stdin, its flags) — here a stand-in that checks the flags; the
    file it edits becomes the patch. The real CLIs are driven in test_real_agents.py."""
    env = fake_agent_clis(tmp_path / "bin")
    old = os.environ["PATH"]
    os.environ["PATH"] = env["PATH"]
    try:
        route_to(repo, {tool: {"adapter": tool}})
        result = run_tool(pc)
    finally:
        os.environ["PATH"] = old
    assert result.run.state is RunState.SUCCEEDED, result.run.failure
    assert result.patch is not None
    assert result.patch.entry.state is PatchState.VERIFIED
    assert f"+# edited by {tool}" in result.patch.artifact.diff_text
    assert result.prompt.template_id == tool

"""`runwright patch …` and `runwright route` as a user runs them: subprocesses, JSON, exit
codes, one-line errors; the end-to-end agent flow on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from patches_support import agent, git, head, init_repo, make_diff, write_policy, write_router

from tests.workers import worker_env

FILES = {
    "src/calc.py": "def add(a, b):\n    return a - b\n",
    "tests/check.py": (
        "import sys\nsys.path.insert(0, 'src')\nfrom calc import add\nassert add(2, 3) == 5\n"
    ),
}
ROUTER_APPS = {
    "fixer": {
        "command": agent("replace", "src/calc.py", "a - b", "a + b"),
        "capabilities": {"task_kinds": ["code_edit"]},
    },
    "leaker": {
        "command": agent("write", "secrets/token.txt", "s3cr3t"),
        "capabilities": {"task_kinds": ["leak"]},
    },
    "checks": {"kind": "validator", "command": ["python3", "tests/check.py"]},
}
ROUTER_RULES = [
    {
        "id": "edits",
        "match": {"task_kind": ["code_edit"]},
        "select_from": ["fixer"],
        "validate_with": ["checks"],
        "required": True,
    },
]


def rw(
    repo: Path, *args: str, db_url: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `python -m runwright` in ``repo``."""
    home = repo / ".runwright"
    proc = subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        env=worker_env(home, db_url or f"sqlite:///{home / 'state.db'}"),
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"runwright {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def rwj(repo: Path, *args: str, db_url: str | None = None, check: bool = True) -> Any:
    """Run a command with --json and parse its output."""
    return json.loads(rw(repo, *args, "--json", db_url=db_url, check=check).stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project with a router that sends code_edit to a real editing script."""
    root = init_repo(tmp_path / "repo", FILES)
    write_router(root / ".runwright", ROUTER_APPS, ROUTER_RULES)
    return root


def test_an_agent_patch_goes_from_tool_to_commit_on_both_databases(repo: Path, db_url: str) -> None:
    """End to end from the CLI: route explains, `patch agent` runs the real tool in a worktree
    and leaves a verified patch; the checkout changes only on `patch commit`; the run's
    evidence verifies."""
    decision = rwj(repo, "route", "--task-kind", "code_edit", db_url=db_url)
    assert decision["selected"] == "fixer"
    assert decision["rule_id"] == "edits"
    before = head(repo)
    result = rwj(
        repo,
        "patch",
        "agent",
        "--task-kind",
        "code_edit",
        "--objective",
        "Make add() add",
        "--file",
        "src/calc.py",
        db_url=db_url,
    )
    assert result["run"]["state"] == "succeeded"
    patch_id = result["patch"]["artifact"]["patch_id"]
    assert result["patch"]["entry"]["state"] == "verified"
    assert head(repo) == before
    assert "a - b" in (repo / "src/calc.py").read_text()
    committed = rwj(repo, "patch", "commit", patch_id, db_url=db_url)
    assert committed["entry"]["state"] == "committed"
    assert head(repo) == committed["entry"]["apply"]["commit_hash"]
    assert "a + b" in (repo / "src/calc.py").read_text()
    history = rwj(repo, "patch", "ledger", patch_id, db_url=db_url)["state_history"]
    assert [h["state"] for h in history] == [
        "created",
        "validated",
        "queued",
        "applied",
        "verified",
        "committed",
    ]
    assert rwj(repo, "evidence", "verify", result["run"]["run_id"], db_url=db_url)["ok"] is True


def test_an_agent_patch_breaking_policy_is_quarantined_on_both_databases(
    repo: Path, db_url: str
) -> None:
    """End to end: a tool writing under a forbidden path gets its patch quarantined (exit 1);
    the diff is kept; applying it without an override is a one-line error."""
    write_policy(repo / ".runwright", project={"forbid_touching_paths": ["secrets/**"]})
    out = rw(
        repo,
        "patch",
        "agent",
        "--task-kind",
        "leak",
        "--objective",
        "store the token",
        "--json",
        db_url=db_url,
        check=False,
    )
    assert out.returncode == 1
    patch = json.loads(out.stdout)["patch"]
    assert patch["entry"]["state"] == "quarantined"
    kept = Path(patch["entry"]["quarantine"]["quarantine_path"])
    assert kept.is_file()
    assert "s3cr3t" in kept.read_text()
    refused = rw(repo, "patch", "apply", patch["artifact"]["patch_id"], db_url=db_url, check=False)
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "override" in refused.stderr
    assert not (repo / "secrets").exists()


def test_a_submitted_diff_walks_the_ledger_by_hand(repo: Path) -> None:
    """submit → validate → apply → verify --test-command → commit, each with --json; list and
    show report the patch; a premature commit is a one-line error with exit 1."""
    diff_file = repo.parent / "fix.diff"
    diff_file.write_text(make_diff(repo, {"src/calc.py": "def add(a, b):\n    return a + b\n"}))
    rec = rwj(repo, "patch", "submit", str(diff_file), "--summary", "Fix #7: add adds")
    pid = rec["artifact"]["patch_id"]
    assert rec["artifact"]["scope"] == {
        "files_touched": ["src/calc.py"],
        "line_insertions": 1,
        "line_deletions": 1,
        "hunks": 1,
    }
    assert rwj(repo, "patch", "validate", pid)["entry"]["state"] == "validated"
    early = rw(repo, "patch", "commit", pid, check=False)
    assert early.returncode == 1
    assert early.stderr.count("\n") == 1
    assert "cannot move from validated to committed" in early.stderr
    assert rwj(repo, "patch", "apply", pid)["entry"]["state"] == "applied"
    verified = rwj(repo, "patch", "verify", pid, "--test-command", "python3 tests/check.py")
    assert verified["entry"]["validation"]["tests_passed"] is True
    assert rwj(repo, "patch", "commit", pid)["entry"]["state"] == "committed"
    listed = rwj(repo, "patch", "list")
    assert [p["artifact"]["patch_id"] for p in listed] == [pid]
    assert "committed" in rw(repo, "patch", "show", pid).stdout
    assert rwj(repo, "patch", "ledger")[0]["state"] == "committed"


def test_hostile_and_lying_submissions_are_refused(repo: Path, tmp_path: Path) -> None:
    """A traversal diff is quarantined (exit 1) and nothing is written outside; an artifact
    whose declared scope lies is quarantined; an empty diff is dropped."""
    evil = tmp_path / "evil.diff"
    evil.write_text("--- /dev/null\n+++ b/../../outside.txt\n@@ -0,0 +1 @@\n+pwned\n")
    out = rw(repo, "patch", "submit", str(evil), "--validate", "--json", check=False)
    assert out.returncode == 1
    assert json.loads(out.stdout)["entry"]["state"] == "quarantined"
    assert not (tmp_path / "outside.txt").exists()
    assert not (tmp_path.parent / "outside.txt").exists()
    lying = tmp_path / "lying.json"
    lying.write_text(
        json.dumps(
            {
                "diff_text": make_diff(repo, {"src/calc.py": "x\ny\nz\n"}),
                "summary": "tiny change",
                "scope": {
                    "files_touched": ["src/calc.py"],
                    "line_insertions": 1,
                    "line_deletions": 0,
                    "hunks": 1,
                },
            }
        )
    )
    out = rw(repo, "patch", "submit", str(lying), "--validate", "--json", check=False)
    entry = json.loads(out.stdout)["entry"]
    assert out.returncode == 1
    assert entry["state"] == "quarantined"
    assert any("line_insertions" in e for e in entry["validation"]["validation_errors"])
    empty = tmp_path / "empty.diff"
    empty.write_text("")
    dropped = rw(repo, "patch", "submit", str(empty), "--validate", "--json", check=False)
    assert json.loads(dropped.stdout)["entry"]["state"] == "dropped"


def test_route_explains_round_robin_and_rejections(repo: Path) -> None:
    """`runwright route` alternates a round-robin rule across invocations, explains itself,
    and exits 1 with the UET code when nothing can take the request."""
    write_router(
        repo / ".runwright",
        {"a": {"command": ["a"]}, "b": {"command": ["b"]}},
        [
            {
                "id": "rr",
                "match": {"task_kind": ["code_edit"]},
                "select_from": ["a", "b"],
                "strategy": "round_robin",
            }
        ],
    )
    picks = [rwj(repo, "route", "--task-kind", "code_edit")["selected"] for _ in range(3)]
    assert picks == ["a", "b", "a"]
    human = rw(repo, "route", "--task-kind", "code_edit", "--dry-run").stdout
    assert "→ b" in human
    assert "round_robin" in human
    out = rw(repo, "route", "--task-kind", "deploy", "--json", check=False)
    assert out.returncode == 1
    assert json.loads(out.stdout)["rejection_code"] == "no_routable_tool_for_phase"


def test_broken_config_files_are_one_line_errors_naming_file_and_field(repo: Path) -> None:
    """A shell string as a command, or a policy level that weakens another, is refused in one
    line naming the file and the field."""
    (repo / ".runwright" / "router.yaml").write_text(
        "version: '1'\napps:\n  t:\n    command: 'aider --yes'\n"
    )
    out = rw(repo, "route", "--task-kind", "code_edit", check=False)
    assert out.returncode == 1
    assert len(out.stderr.strip().splitlines()) == 1
    assert "router.yaml" in out.stderr
    assert "apps.t.command" in out.stderr
    write_policy(
        repo / ".runwright", global_={"max_lines_changed": 100}, project={"max_lines_changed": 900}
    )
    out = rw(repo, "patch", "policy", check=False)
    assert out.returncode == 1
    assert "policy.yaml" in out.stderr
    assert "max_lines_changed" in out.stderr
    assert git(repo, "status", "--porcelain") == ""

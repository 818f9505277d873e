"""A repository bootstrapped by `runwright init` and used as generated: `.runwright/` can be
committed (runtime state stays ignored), no generated file names this machine's paths, the
generated commands run through the `{python}` placeholder (an operator run, a patch verify),
and a plan whose roles no tool can take stops at its preflight gate naming each role (SQLite
and PostgreSQL)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runwright.api.client import Client
from runwright.bootstrap.runner import init_project
from runwright.config import load_settings
from runwright.domain.execmodel.checks import CheckStatus
from runwright.domain.patches_ledger import PatchState
from runwright.plans.contract import load_plan
from runwright.plans.routability import route_warnings
from tests.integration.test_bootstrap_init import PY_PACKAGE, make_repo, tool_env

pytestmark = pytest.mark.slow

IDENTITY = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false"]
#: The configuration init writes, which a user commits.
CONFIGURATION = {
    ".runwright/.gitignore",
    ".runwright/config.toml",
    ".runwright/policy.yaml",
    ".runwright/router.yaml",
    ".runwright/profile.json",
    ".runwright/operators/check_python.yaml",
    ".runwright/operators/smoke_check.yaml",
    ".runwright/phases/PH-CORE-01.yaml",
    ".runwright/phases/adhoc.yaml",
    ".runwright/plans/example-change.yaml",
    ".runwright/plans/test-spec.md",
}
#: What runwright writes while it runs (the SQLite files, scratch folders, logs, plan runs).
RUNTIME = [
    ".runwright/state.db",
    ".runwright/state.db-wal",
    ".runwright/state.db-shm",
    ".runwright/state.db-journal",
    ".runwright/evidence/ab/cdef",
    ".runwright/worktrees/patch-x/file.py",
    ".runwright/quarantine/p.diff",
    ".runwright/patches/01ABC/verify-0.stdout",
    ".runwright/opruns/01ABC/steps/tests/out",
    ".runwright/demo/x",
    ".runwright/keys/key.pem",
    ".runwright/bootstrap.log",
    ".runwright/plans/commit.lock",
    ".runwright/plans/01KAZ3M0Q8W5TS2V6N7P4YH1XD/completion.json",
]
#: Something that looks like an absolute path (a slash not preceded by a path character).
ABSOLUTE = re.compile(r"(?<![\w.*\]-])/[\w.-]+/[\w.-]+")


def git(repo: Path, *args: str) -> str:
    """git's stdout in ``repo`` (raises on failure)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return done.stdout


def rw(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m runwright ARGS` in ``cwd``, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def committed_project(root: Path, env: dict[str, str]) -> Path:
    """The Python package, initialised, with everything (``.runwright/`` included) committed."""
    repo = make_repo(root, PY_PACKAGE)
    init_project(repo, env=env)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "calc with runwright")
    return repo


@pytest.fixture
def client_for(db_url: str) -> Iterator[object]:
    """Open clients on a repository's project (closed afterwards)."""
    opened: list[Client] = []

    def open_client(repo: Path) -> Client:
        settings = load_settings(
            env={}, overrides={"home": repo / ".runwright", "database_url": db_url}
        )
        client = Client.open(settings)
        opened.append(client)
        return client

    yield open_client
    for c in opened:
        c.close()


def test_runwright_folder_is_committed_without_its_runtime_state(tmp_path: Path) -> None:
    """After `runwright init`, `git add .runwright` stages the configuration, router, policy,
    operators, phases, plan and test spec; after an operator run and a plan run (and with
    every kind of runtime file present) nothing more is staged, while a plan folder a user
    names is not ignored."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    assert rw(repo, env, "init").returncode == 0
    git(repo, "add", ".runwright")
    staged = set(git(repo, "diff", "--cached", "--name-only").splitlines())
    assert staged >= CONFIGURATION
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "calc with runwright")
    op = rw(repo, env, "op", "run", "SmokeCheckRepository")
    assert op.returncode == 0, op.stdout + op.stderr
    rw(repo, env, "plan", "run", ".runwright/plans/example-change.yaml")
    assert list((repo / ".runwright" / "plans").glob("*/completion.json"))
    for rel in RUNTIME:
        path = repo / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("runtime\n")
    git(repo, "add", ".runwright")
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    ignored = git(repo, "check-ignore", "--no-index", *RUNTIME).splitlines()
    assert ignored == RUNTIME
    mine = repo / ".runwright/plans/feature/plan.yaml"
    mine.parent.mkdir()
    mine.write_text("plan_id: mine\n")
    assert git(repo, "status", "--porcelain").strip() == "?? .runwright/plans/feature/"


def test_generated_files_name_no_machine_path(tmp_path: Path) -> None:
    """With a project virtualenv and agent CLIs present, no file init writes (report and log
    included) holds the project's folder, the interpreter running runwright, the virtualenv's
    interpreter or any other absolute path; project paths are relative (project_root '.')."""
    bin_dir = tmp_path / "bin"
    env = tool_env(tmp_path, claude="1.0.3 (Claude Code)", codex="codex 0.1", aider="aider 0.80")
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    venv = repo / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    result = init_project(repo, env=env)
    assert result.discovery.discovery.available_tools[0].detected_via == "venv:.venv"
    forbidden = {
        str(tmp_path),
        str(repo),
        os.path.realpath(repo),
        sys.executable,
        os.path.realpath(sys.executable),
        sys.prefix,
        str(bin_dir),
        str(shutil.which("git")),
    }
    files = [p for p in (repo / ".runwright").rglob("*") if p.is_file()]
    assert len(files) >= len(CONFIGURATION) + 3
    for path in files:
        text = path.read_text()
        rel = path.relative_to(repo)
        for needle in forbidden:
            assert needle not in text, f"{rel} holds {needle}"
        if path.name != ".gitignore":
            assert not ABSOLUTE.findall(text), f"{rel}: {ABSOLUTE.findall(text)}"
    assert '"project_root": "."' in (repo / ".runwright/profile.json").read_text()
    assert result.report.project_root == "."
    assert any(".venv/bin/python" in s for s in result.report.next_steps.for_human)


def test_generated_commands_run_through_the_placeholder(tmp_path: Path, client_for: object) -> None:
    """The generated operator runs pytest with `{python}` and passes; a patch verified with
    policy.yaml's `{python}` test command passes, recording the interpreter it ran."""
    repo = committed_project(tmp_path / "calc", tool_env(tmp_path))
    policy = (repo / ".runwright/policy.yaml").read_text()
    assert "test_command: ['{python}', -m, pytest" in policy
    assert "'{python}'" in (repo / ".runwright/operators/check_python.yaml").read_text()
    client: Client = client_for(repo)  # type: ignore[operator]
    op = client.ops.operator("CheckPythonProject", repo / ".runwright" / "operators").operator
    [view] = client.ops.run_operator(op, {})
    assert view.record.result == CheckStatus.PASS
    (repo / "src/calc/ops.py").write_text(
        '"""More operations."""\n\n\ndef sub(a: int, b: int) -> int:\n    return a - b\n\n\n'
        "def neg(a: int) -> int:\n    return -a\n"
    )
    diff = git(repo, "diff")
    git(repo, "checkout", "--", "src/calc/ops.py")
    patches = client.patches
    record = patches.validate(patches.submit(diff).patch_id)
    record = patches.apply(record.patch_id)
    assert record.entry.state is PatchState.APPLIED
    verified = patches.verify(record.patch_id)
    assert verified.entry.state is PatchState.VERIFIED, verified.entry.state_history[-1]
    assert verified.entry.validation.test_commands[0][:3] == [sys.executable, "-m", "pytest"]


def test_a_plan_whose_roles_no_tool_takes_fails_preflight_naming_each_role(
    tmp_path: Path, client_for: object
) -> None:
    """Without an agent CLI the generated plan is structurally valid, but its roles route to
    the generic tidy tool (format only): `plan validate`'s routing check warns for each role,
    and the preflight gate fails with a plan defect per role (its tools, why, the fix) before
    anything is delegated."""
    repo = committed_project(tmp_path / "calc", tool_env(tmp_path))
    path = repo / ".runwright/plans/example-change.yaml"
    plan = load_plan(path)
    warnings = route_warnings(plan, repo / ".runwright")
    assert [w.split(" (")[0] for w in warnings] == [
        "role test-implementer",
        "role implement-plan",
        "role validate-plan",
    ]
    client: Client = client_for(repo)  # type: ignore[operator]
    view = client.plans.run(path, timeout=300)
    esc = view.open_escalation()
    assert esc is not None
    assert (esc.blocked_gate, esc.blocker_class.value) == ("preflight", "plan-defect")
    assert view.phases == []
    [gate] = view.gates
    found = {d.phase_id: d for d in gate.defects if d.code == "role_task_not_routable"}
    assert set(found) == {"T1", "I1", "V1"}
    kinds = {"T1": "test_write", "I1": "code_edit", "V1": "review"}
    for phase_id, d in found.items():
        assert f"task kind {kinds[phase_id]}: its tools ['generic']" in d.message
        assert "none of its tools takes that task kind (generic takes format" in d.message
        assert "no_routable_tool_for_phase" in d.message
        assert d.required_correction.startswith("install claude, codex or aider and rerun")
        assert f"add an app for task kind {kinds[phase_id]}" in d.required_correction

"""`runwright init` and `runwright profile` as a user runs them: subprocesses, exit codes,
JSON, one-line errors, and no database needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.test_bootstrap_init import PY_PACKAGE, make_repo, tool_env


def rw(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m runwright ARGS` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_init_prints_the_report_and_writes_runwright(tmp_path: Path) -> None:
    """`runwright init` in a Python repository prints the profile, the files and the next
    steps, exits 0, writes .runwright/ and creates no database."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    proc = rw(repo, tool_env(tmp_path), "init")
    assert proc.returncode == 0, proc.stderr
    assert "software-dev-python" in proc.stdout
    assert "ready" in proc.stdout
    assert ".runwright/router.yaml" in proc.stdout
    assert "For an AI agent" in proc.stdout
    assert (repo / ".runwright/bootstrap_report.json").is_file()
    assert not (repo / ".runwright/state.db").exists()


def test_init_json_dry_run_and_rerun(tmp_path: Path) -> None:
    """--dry-run --json prints the report as JSON and writes nothing; a real run then a
    re-run reports every file unchanged."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    dry = rw(tmp_path, env, "init", str(repo), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True
    assert report["profile_id"] == "software-dev-python"
    assert not (repo / ".runwright").exists()
    assert rw(tmp_path, env, "init", str(repo), "--json").returncode == 0
    again = json.loads(rw(tmp_path, env, "init", str(repo), "--json").stdout)
    assert {a["action"] for a in again["generated_artifacts"]} == {"unchanged"}


def test_init_with_a_profile_and_force(tmp_path: Path) -> None:
    """--profile picks the profile; --force replaces an edited file."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    out = json.loads(rw(repo, env, "init", "--profile", "generic", "--json").stdout)
    assert out["profile_id"] == "generic"
    policy = repo / ".runwright/policy.yaml"
    policy.write_text(policy.read_text() + "# mine\n")
    kept = json.loads(rw(repo, env, "init", "--profile", "generic", "--json").stdout)
    actions = {a["path"]: a["action"] for a in kept["generated_artifacts"]}
    assert actions[".runwright/policy.yaml"] == "kept"
    forced = json.loads(rw(repo, env, "init", "--profile", "generic", "--force", "--json").stdout)
    actions = {a["path"]: a["action"] for a in forced["generated_artifacts"]}
    assert actions[".runwright/policy.yaml"] == "replaced"


def test_init_errors_are_one_line(tmp_path: Path) -> None:
    """An unknown profile and a missing folder each fail with one clear line."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    bad = rw(repo, env, "init", "--profile", "rust")
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0
    assert "no profile 'rust'" in bad.stderr
    assert "software-dev-python" in bad.stderr
    missing = rw(tmp_path, env, "init", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "nope" in missing.stderr


def test_needs_human_exits_one(tmp_path: Path) -> None:
    """A relaxed constraint makes init exit 1 with the decision in the output."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    assert rw(repo, env, "init").returncode == 0
    policy = repo / ".runwright/policy.yaml"
    policy.write_text(policy.read_text().replace("max_files_changed: 10", "max_files_changed: 50"))
    proc = rw(repo, env, "init")
    assert proc.returncode == 1
    assert "needs_human" in proc.stdout
    assert "max_files_changed" in proc.stdout


def test_profile_list_and_show(tmp_path: Path) -> None:
    """`runwright profile list --json` lists the five profiles; `profile show` shows one."""
    env = tool_env(tmp_path)
    listed = json.loads(rw(tmp_path, env, "profile", "list", "--json").stdout)
    assert [p["profile_id"] for p in listed] == [
        "software-dev-python",
        "data-pipeline",
        "operations",
        "documentation",
        "generic",
    ]
    shown = rw(tmp_path, env, "profile", "show", "operations")
    assert shown.returncode == 0
    assert "require_approval" in shown.stdout
    data = json.loads(rw(tmp_path, env, "profile", "show", "documentation", "--json").stdout)
    assert data["adds_constraints"]["max_lines_changed"] == 1000


def test_init_says_to_commit_runwright_and_names_no_machine_path(tmp_path: Path) -> None:
    """The printed report and next steps name no absolute path (the test command reads
    `python -m pytest`), say to commit .runwright/, and without an agent CLI say that a plan
    run stops at its preflight gate until one is installed."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    proc = rw(repo, tool_env(tmp_path), "init")
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert str(tmp_path) not in out
    assert sys.executable not in out
    assert "commit .runwright/ (git add .runwright)" in out
    assert "stops at its preflight gate" in out
    assert "`python -m pytest -q -p no:cacheprovider` must pass" in out

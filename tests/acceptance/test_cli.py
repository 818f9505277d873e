"""The `runwright` command as a user runs it: a subprocess, exit codes, one-line errors."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from runwright.api.client import Client
from runwright.config import load_settings
from tests.workers import worker_env


def rw(
    home: Path, *args: str, db_url: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `python -m runwright` against ``home`` (and ``db_url``), capturing its output."""
    env = worker_env(home, db_url or f"sqlite:///{home / 'state.db'}")
    proc = subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=home.parent,
    )
    if check and proc.returncode != 0:
        command = " ".join(args)
        raise AssertionError(f"runwright {command} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty project home."""
    return tmp_path / ".runwright"


def _demo_run_id(home: Path, db_url: str | None = None) -> str:
    rw(home, "demo", db_url=db_url)
    runs = json.loads(rw(home, "run", "list", "--json", db_url=db_url).stdout)
    return str(runs[0]["run_id"])


def test_demo_runs_a_durable_job_and_verifies_its_evidence(home: Path) -> None:
    """`runwright demo` runs the example job to success and shows its verified evidence."""
    out = rw(home, "demo").stdout
    assert "succeeded" in out
    assert "verified" in out
    assert "report.csv" in out


def test_demo_works_on_postgresql_too(home: Path, pg_url: str) -> None:
    """With RUNWRIGHT_DATABASE_URL pointing at PostgreSQL the same demo succeeds there."""
    run_id = _demo_run_id(home, pg_url)
    shown = json.loads(rw(home, "run", "show", run_id, "--json", db_url=pg_url).stdout)
    assert shown["run"]["state"] == "succeeded"
    assert "postgresql" in rw(home, "db", "current", db_url=pg_url).stdout


def test_listings_speak_json(home: Path) -> None:
    """run list, run show, run events, evidence list/verify and doctor all take --json."""
    run_id = _demo_run_id(home)
    runs = json.loads(rw(home, "run", "list", "--json").stdout)
    assert runs[0]["state"] == "succeeded"
    assert runs[0]["next_pointer"]
    shown = json.loads(rw(home, "run", "show", run_id, "--json").stdout)
    assert next(s["step_key"] for s in shown["steps"]) == "read"
    events = json.loads(rw(home, "run", "events", run_id, "--json").stdout)
    assert events[0]["kind"] == "run_created"
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(events))
    assert (
        json.loads(rw(home, "evidence", "list", run_id, "--json").stdout)[0]["counts"]["rows"] == 3
    )
    assert json.loads(rw(home, "evidence", "verify", run_id, "--json").stdout)["ok"] is True
    assert json.loads(rw(home, "db", "current", "--json").stdout)["up_to_date"] is True


def test_tampered_evidence_fails_verification_clearly(home: Path) -> None:
    """Editing a stored blob makes `evidence verify` exit 1 and name the artifact."""
    run_id = _demo_run_id(home)
    blob = next(p for p in (home / "evidence" / "blobs").rglob("*") if p.is_file())
    blob.write_text("category,total\nfood,0.00\n")
    proc = rw(home, "evidence", "verify", run_id, check=False)
    assert proc.returncode == 1
    assert "tampered" in proc.stdout
    assert "report.csv" in proc.stdout


def test_errors_are_one_line_with_a_hint_and_a_traceback_only_with_debug(home: Path) -> None:
    """A missing run gives one line on stderr with what to do, exit 1; --debug adds the trace."""
    rw(home, "db", "upgrade")
    proc = rw(home, "run", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "not found" in proc.stderr
    assert "runwright run list" in proc.stderr
    assert "Traceback" not in proc.stderr
    debug = rw(home, "--debug", "run", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", check=False)
    assert "Traceback" in debug.stderr


def test_an_unsupported_database_is_refused_by_name(home: Path) -> None:
    """A database URL for something other than SQLite or PostgreSQL is a clear error."""
    proc = rw(home, "run", "list", db_url="mysql://root@127.0.0.1/test", check=False)
    assert proc.returncode == 1
    assert "unsupported database 'mysql'" in proc.stderr


def test_a_broken_config_file_is_named(home: Path) -> None:
    """A config.toml that does not parse is reported with its path."""
    home.mkdir(parents=True)
    (home / "config.toml").write_text("[core\nlease_seconds = 3")
    proc = rw(home, "run", "list", check=False)
    assert proc.returncode == 1
    assert "config.toml" in proc.stderr


def test_db_upgrade_then_current(home: Path) -> None:
    """A fresh store starts empty; `db upgrade` brings it to the head revision."""
    before = json.loads(rw(home, "db", "current", "--json").stdout)
    assert before["current"] == []
    assert before["up_to_date"] is False
    assert "upgraded" in rw(home, "db", "upgrade").stdout
    assert json.loads(rw(home, "db", "current", "--json").stdout)["up_to_date"] is True
    assert "already current" in rw(home, "db", "upgrade").stdout


def test_a_worker_process_runs_work_started_elsewhere(home: Path, tmp_path: Path) -> None:
    """A run started from Python is executed by `runwright worker --until-idle`."""
    import engine_jobs

    settings = load_settings(env={}, overrides={"home": home})
    with Client.open(settings) as client:
        run = client.start(engine_jobs.three_steps, str(tmp_path / "log"), str(tmp_path / "noflag"))
    out = rw(home, "worker", "--import", "engine_jobs", "--until-idle")
    assert "succeeded" in out.stdout
    shown = json.loads(rw(home, "run", "show", run.run_id, "--json").stdout)
    assert shown["run"]["result"] == ["one", "two", "three"]


def test_cancel_and_doctor(home: Path, tmp_path: Path) -> None:
    """A pending run can be cancelled from the CLI; doctor then reports a healthy store."""
    import engine_jobs

    settings = load_settings(env={}, overrides={"home": home})
    with Client.open(settings) as client:
        run = client.start(engine_jobs.sleeper, 10)
    stranded = rw(home, "doctor", "--json", check=False)
    assert stranded.returncode == 1
    assert json.loads(stranded.stdout)["stranded"][0]["run_id"] == run.run_id
    assert "canceled" in rw(home, "run", "cancel", run.run_id).stdout
    report = json.loads(rw(home, "doctor", "--json").stdout)
    assert report["ok"] is True
    assert report["stranded"] == []


def test_resolve_needs_exactly_one_action(home: Path) -> None:
    """`run resolve` without --rerun, --mark-done or --fail is a usage error (exit 2)."""
    rw(home, "db", "upgrade")
    proc = rw(home, "run", "resolve", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "charge", check=False)
    assert proc.returncode == 2
    assert "--rerun" in proc.stderr

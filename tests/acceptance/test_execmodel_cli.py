"""The execution model's commands as a user runs them: `python -m runwright …` subprocesses,
exit codes, one-line errors and --json (modes, classify, block, op, debug, run show)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from execmodel_ops import operator, write_op

from runwright.api.client import Client
from runwright.config import load_settings
from tests.workers import worker_env


def rw(
    home: Path, *args: str, db_url: str | None = None, code: int = 0
) -> subprocess.CompletedProcess[str]:
    """Run `python -m runwright` in the project of ``home``; assert its exit code."""
    env = worker_env(home, db_url or f"sqlite:///{home / 'state.db'}")
    proc = subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=home.parent,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == code, f"runwright {' '.join(args)} → {proc.returncode}\n{proc.stderr}"
    return proc


def js(proc: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a command printed."""
    return json.loads(proc.stdout)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The error a failing command printed: exactly one line starting with 'error:'."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A project home with the test operators in .runwright/operators."""
    home = tmp_path / ".runwright"
    ops = home / "operators"
    write_op(ops, operator())
    write_op(
        ops,
        operator(
            op_id="EmptyContract",
            mode_ids=["CONTRACT"],
            inputs={"rows": {"type": "int", "default": 0}},
            failure_paths=[{"when": "fail", "action": "open_debug_packet"}],
            next_pointer_rule=None,
        ),
    )
    return home


def test_modes_and_classify(home: Path) -> None:
    """`modes --json` lists the six modes and the MODEL/ANALYZE tag; `classify` maps titles
    (behaviours 1-3), says when nothing matched, and refuses a tag as --mode in one line."""
    listed = js(rw(home, "modes", "--json"))
    assert [m["mode_id"] for m in listed["modes"]][:2] == ["SERVICE", "CONTRACT"]
    assert listed["tags"] == ["MODEL/ANALYZE"]
    assert js(rw(home, "classify", "Fix systemd timer for bot", "--json"))["mode_id"] == "SERVICE"
    out = rw(home, "classify", "API CLI").stdout
    assert "CONTRACT" in out
    assert "table order" in out
    none = rw(home, "classify", "Lunch with Ada").stdout
    assert "no mode" in none
    assert "--mode" in none
    refused = rw(home, "classify", "x", "--mode", "MODEL/ANALYZE", code=1)
    assert "tag, not a mode" in one_line_error(refused)


def test_a_block_with_an_op_run_completes(home: Path) -> None:
    """Start a classified block, refuse a modeless MAINT block, run an operator in the block
    (it takes the block's mode and counts), then end the block with its next pointer."""
    block = js(rw(home, "block", "start", "--title", "Backfill CSV export", "--json"))
    assert block["mode_id"] == "PIPELINE"
    refused = rw(home, "block", "start", "--title", "Lunch", "--type", "MAINT", code=1)
    assert "--mode" in one_line_error(refused)
    shown = js(rw(home, "op", "run", "WriteRows", "--input", "rows=2", "--json"))
    assert shown["record"]["mode_source"] == "block"
    assert shown["record"]["block_id"] == block["block_id"]
    assert shown["counts"] is True
    assert shown["op_run"]["next_pointer"] == "file rows.csv (PASS)"
    status = js(rw(home, "block", "status", "--json"))
    assert [r["run_id"] for r in status["runs"]] == [shown["run_id"]]
    assert "next pointer" in one_line_error(rw(home, "block", "end", code=1))
    ended = js(rw(home, "block", "end", "--next", "export the rest", "--json"))
    assert ended["status"] == "completed"
    assert ended["evidence_links"]


def test_op_validate_names_the_file_and_field(home: Path) -> None:
    """A broken operator file makes `op validate` exit 1 naming file and field, and `op list`
    fail with one line."""
    write_op(home / "operators", operator(op_id="NoTimebox", timebox_minutes=None), "broken")
    out = rw(home, "op", "validate", code=1).stdout
    assert "broken.yaml" in out
    assert "timebox_minutes" in out
    assert "ok" in out
    line = one_line_error(rw(home, "op", "list", code=1))
    assert "broken.yaml: timebox_minutes" in line


def test_op_run_refuses_an_illegal_mode_and_a_contradicting_declaration(home: Path) -> None:
    """Behaviour 5 via the CLI (exit 1, one line); --declare FAIL on a passing run is rejected
    after the run, which is recorded with its grounded result."""
    line = one_line_error(rw(home, "op", "run", "WriteRows", "--mode", "CONTRACT", code=1))
    assert "not legal in CONTRACT" in line
    declared = rw(home, "op", "run", "WriteRows", "--declare", "FAIL", "--json", code=1)
    assert "declared FAIL contradicts" in one_line_error(declared)
    assert js(declared)["record"]["result"] == "PASS"


def test_a_failing_op_run_opens_a_debug_packet_and_run_show_says_why_it_does_not_count(
    home: Path,
) -> None:
    """A FAIL op run exits 1; its failure path opens a debug packet; `run show` (text and
    JSON) says whether it counts and why; `op runs` lists it."""
    failed = js(rw(home, "op", "run", "EmptyContract", "--json", code=1))
    run_id = failed["run_id"]
    assert failed["record"]["result"] == "FAIL"
    assert failed["counts"] is False
    packet_id = failed["record"]["failure_path"]["debug_packet_id"]
    shown = js(rw(home, "run", "show", run_id, "--json"))
    assert shown["op_run"]["why"][0] == "no next pointer"
    text = rw(home, "run", "show", run_id).stdout
    assert "counts" in text
    assert "no next pointer" in text
    assert "open_debug_packet" in text
    packets = js(rw(home, "debug", "list", "--json"))
    assert [p["packet_id"] for p in packets] == [packet_id]
    runs = js(rw(home, "op", "runs", "EmptyContract", "--json"))
    assert [r["run_id"] for r in runs] == [run_id]


def test_the_debug_packet_commands(home: Path) -> None:
    """new (CONTRACT needs a repro), hypothesis (the 4th is refused), experiment (needs
    evidence), conclude, close and show."""
    assert "minimal repro" in one_line_error(
        rw(home, "debug", "new", "--symptom", "api 500", "--mode", "CONTRACT", code=1)
    )
    packet = js(
        rw(
            home,
            "debug",
            "new",
            "--symptom",
            "api 500",
            "--mode",
            "CONTRACT",
            "--repro",
            "curl -i localhost/api",
            "--expected",
            "200",
            "--actual",
            "500",
            "--json",
        )
    )
    pid = packet["packet_id"]
    client = Client.open(load_settings(env={}, overrides={"home": home}))
    try:
        for text in ("bad env", "stale cache", "schema drift"):
            client.ops.add_hypothesis(pid, text)
    finally:
        client.close()
    assert "at most 3" in one_line_error(rw(home, "debug", "hypothesis", pid, "dns", code=1))
    assert "needs evidence" in one_line_error(
        rw(home, "debug", "experiment", pid, "--change", "c", "--result", "r", code=1)
    )
    rw(
        home,
        "debug",
        "experiment",
        pid,
        "--change",
        "unset env",
        "--result",
        "200",
        "--evidence",
        "note:works without PROXY",
        "--hypothesis",
        "h1",
    )
    rw(
        home,
        "debug",
        "conclude",
        pid,
        "--decision",
        "PROXY breaks it",
        "--resolution",
        "drop PROXY",
        "--regression-guard",
        "env check in CI",
    )
    rw(home, "debug", "close", pid, "--next", "watch the next deploy")
    final = js(rw(home, "debug", "show", pid, "--json"))
    assert final["status"] == "closed"
    assert final["experiments"][0]["evidence"][0]["kind"] == "note"
    assert final["next_pointer"] == "watch the next deploy"


def test_schema_validate_rejects_an_op_run_whose_result_contradicts_its_checks(
    home: Path, tmp_path: Path
) -> None:
    """An OpRun document declaring PASS with a FAIL check is not a valid op_run."""
    doc = {
        "op_id": "WriteRows",
        "project_id": "p",
        "mode_id": "PIPELINE",
        "timestamp_start": "2026-01-01T00:00:00Z",
        "acceptance_results": [{"check_id": "c", "check_type": "smoke", "status": "FAIL"}],
        "result": "PASS",
        "run_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    }
    path = tmp_path / "op_run.json"
    path.write_text(json.dumps(doc))
    out = rw(home, "schema", "validate", "op_run", str(path), code=1).stdout
    assert "contradicts" in out


def test_an_op_run_on_postgresql(home: Path, pg_url: str) -> None:
    """The same op run works on PostgreSQL, and `run show` reads it back there."""
    shown = js(rw(home, "op", "run", "WriteRows", "--json", db_url=pg_url))
    assert shown["counts"] is True
    again = js(rw(home, "run", "show", shown["run_id"], "--json", db_url=pg_url))
    assert again["op_run"]["counts"] is True

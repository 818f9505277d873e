"""`runwright evidence verify` and `runwright run events` on a tampered log, as a user runs
them: the event's seq and what is wrong, never an internal error."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from runwright.store.database import normalize_url
from tests.acceptance.test_cli import rw


def _demo(home: Path, db_url: str) -> str:
    rw(home, "demo", db_url=db_url)
    runs = json.loads(rw(home, "run", "list", "--json", db_url=db_url).stdout)
    return str(runs[0]["run_id"])


def _tamper(db_url: str, statement: str, run_id: str) -> None:
    engine = create_engine(normalize_url(db_url))
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), {"r": run_id})
    finally:
        engine.dispose()


def test_an_edited_kind_and_payload_are_named_by_seq(tmp_path: Path, db_url: str) -> None:
    """UPDATE run_events SET kind='tool_call_finished' (seq 4) and payload='{not json'
    (seq 5): verify exits 1 listing both seqs and what is wrong with each; run events exits 1
    with one line on stderr naming the seq, the field and the verify command."""
    home = tmp_path / ".runwright"
    run_id = _demo(home, db_url)
    _tamper(
        db_url, "UPDATE run_events SET kind='tool_call_finished' WHERE run_id=:r AND seq=4", run_id
    )
    _tamper(db_url, "UPDATE run_events SET payload='{not json' WHERE run_id=:r AND seq=5", run_id)
    verify = rw(home, "evidence", "verify", run_id, "--json", db_url=db_url, check=False)
    assert verify.returncode == 1, verify.stderr
    problems = {p["where"]: p["problem"] for p in json.loads(verify.stdout)["problems"]}
    assert "'tool_call_finished' is not a run event kind" in problems["seq 4"]
    assert "payload is not a JSON object" in problems["seq 5"]
    events = rw(home, "run", "events", run_id, db_url=db_url, check=False)
    assert events.returncode == 1
    assert "internal error" not in events.stderr
    assert events.stderr.strip().count("\n") == 0
    assert "event seq 4: kind 'tool_call_finished'" in events.stderr
    assert f"runwright evidence verify {run_id}" in events.stderr


def test_a_cleared_manifest_and_a_deleted_evidence_row_fail_verification(
    tmp_path: Path, db_url: str
) -> None:
    """With the run's manifest columns cleared and its evidence row deleted, verify no
    longer says "no manifest (no artifacts)": it exits 1 naming the artifact the log
    recorded and the manifest the log recorded."""
    home = tmp_path / ".runwright"
    run_id = _demo(home, db_url)
    _tamper(
        db_url, "UPDATE runs SET manifest_path=NULL, manifest_sha256=NULL WHERE run_id=:r", run_id
    )
    _tamper(db_url, "DELETE FROM evidence WHERE run_id=:r", run_id)
    human = rw(home, "evidence", "verify", run_id, db_url=db_url, check=False)
    assert human.returncode == 1
    assert "no manifest" not in human.stdout
    verify = rw(home, "evidence", "verify", run_id, "--json", db_url=db_url, check=False)
    found = " | ".join(p["problem"] for p in json.loads(verify.stdout)["problems"])
    assert "its evidence row was removed" in found
    assert "manifest columns were cleared" in found

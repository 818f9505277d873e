"""Evidence verification names every tampering with a run's rows, and never crashes on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import engine_jobs as jobs
import pytest
from sqlalchemy import text

from runwright.api.client import Client
from runwright.domain.events import event_hash
from runwright.domain.states import RunState
from runwright.errors import EvidenceError


def _finished_evidence_run(client: Client, tmp_path: Path) -> str:
    run = client.start(jobs.evidence_job, str(tmp_path))
    client.worker(register=False).run(until_idle=True)
    assert client.get(run.run_id).state is RunState.SUCCEEDED
    assert client.verify(run.run_id).ok
    return run.run_id


def _sql(client: Client, statement: str, **params: Any) -> None:
    with client.store.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_edited_event_rows_are_named_by_seq_in_verify_and_in_the_event_listing(
    client: Client, tmp_path: Path
) -> None:
    """A kind edited into something that is not a kind, a payload edited into text that is
    not JSON, a kind edited into another valid kind: verification names each event's seq and
    what is wrong; reading the log refuses the unreadable row by seq, naming the field."""
    run_id = _finished_evidence_run(client, tmp_path)
    _sql(
        client,
        "UPDATE run_events SET kind = 'tool_call_finished' WHERE run_id = :r AND seq = 2",
        r=run_id,
    )
    _sql(
        client,
        "UPDATE run_events SET payload = '{not json' WHERE run_id = :r AND seq = 3",
        r=run_id,
    )
    _sql(client, "UPDATE run_events SET kind = 'note' WHERE run_id = :r AND seq = 1", r=run_id)
    report = client.verify(run_id)
    assert not report.ok
    found = {(p.what, p.where): p.problem for p in report.problems}
    assert found[("events", "seq 1")] == "content does not match its hash (the event was edited)"
    assert "'tool_call_finished' is not a run event kind" in found[("events", "seq 2")]
    assert "payload is not a JSON object: '{not json'" in found[("events", "seq 3")]
    with pytest.raises(EvidenceError) as err:
        client.events(run_id)
    assert f"run {run_id} event seq 2: kind 'tool_call_finished'" in err.value.message
    assert err.value.fields["field"] == "run_events.kind"
    assert "evidence verify" in (err.value.hint or "")


def test_a_cleared_manifest_and_a_removed_evidence_row_are_detected(
    client: Client, tmp_path: Path
) -> None:
    """Clearing the run's manifest columns and deleting one evidence row no longer verifies
    clean: the log recorded the artifact (with its sha256) and the manifest (with its hash),
    and both records are checked against what the run still names."""
    run_id = _finished_evidence_run(client, tmp_path)
    removed = client.evidence(run_id)[0]
    _sql(
        client,
        "UPDATE runs SET manifest_path = NULL, manifest_sha256 = NULL WHERE run_id = :r",
        r=run_id,
    )
    _sql(client, "DELETE FROM evidence WHERE evidence_id = :e", e=removed.evidence_id)
    report = client.verify(run_id)
    assert not report.ok
    assert report.manifest_checked  # found through the log's record of it
    problems = {(p.what, p.where): p.problem for p in report.problems}
    gone = problems[("evidence", removed.evidence_id)]
    assert "no longer links it (its evidence row was removed)" in gone
    assert removed.sha256[:12] in gone
    manifest = next(
        p for p in report.problems if p.what == "manifest" and "names none" in p.problem
    )
    assert "manifest columns were cleared" in manifest.problem


def test_an_edited_evidence_hash_is_detected_against_the_log(
    client: Client, tmp_path: Path
) -> None:
    """An evidence row pointed at another (intact) blob disagrees with the sha256 the log
    recorded when the artifact was linked."""
    run_id = _finished_evidence_run(client, tmp_path)
    first, second = client.evidence(run_id)[:2]
    _sql(
        client,
        "UPDATE evidence SET sha256 = :s WHERE evidence_id = :e",
        s=second.sha256,
        e=first.evidence_id,
    )
    problems = [p for p in client.verify(run_id).problems if p.what == "evidence"]
    assert [p.where for p in problems] == [first.artifact_path]
    assert "the row was edited" in problems[0].problem


def test_one_removed_event_in_the_middle_is_one_problem(client: Client, tmp_path: Path) -> None:
    """Deleting one event from the middle of the log is reported once, as the gap, not as
    every later event."""
    run_id = _finished_evidence_run(client, tmp_path)
    middle = len(client.events(run_id)) // 2
    _sql(client, "DELETE FROM run_events WHERE run_id = :r AND seq = :s", r=run_id, s=middle)
    report = client.verify(run_id)
    assert [(p.what, p.where) for p in report.problems] == [("events", f"seq {middle + 1}")]
    assert f"seq {middle} missing" in report.problems[0].problem


def test_the_manifest_anchors_the_log(client: Client, tmp_path: Path) -> None:
    """The manifest names the event it was written after (its seq and hash, counts.events)
    and the finishing event records the manifest: a log rewritten with fresh hashes, head
    and all, still fails verification on the manifest's anchor."""
    run_id = _finished_evidence_run(client, tmp_path)
    run = client.get(run_id)
    assert run.manifest_path
    manifest = json.loads(client.blobs.manifest_path(run.manifest_path).read_text())
    anchored = manifest["counts"]["events"]
    event = next(e for e in client.events(run_id) if e.seq == anchored)
    assert manifest["last_event_hash"] == event.hash
    _rewrite_log(client, run_id, edit_seq=2)
    problems = client.verify(run_id).problems
    assert [(p.what, p.where) for p in problems] == [("manifest", run.manifest_path)]
    assert f"anchors the log at seq {anchored}" in problems[0].problem


def _rewrite_log(client: Client, run_id: str, *, edit_seq: int) -> None:
    """Edit one event's payload and re-hash the whole log after it, head included."""
    prev = None
    for e in client.events(run_id):
        payload = dict(e.payload, forged=True) if e.seq == edit_seq else e.payload
        prev_hash = e.prev_hash if prev is None else prev
        digest = event_hash(
            event_id=e.event_id,
            run_id=e.run_id,
            seq=e.seq,
            ts=e.ts,
            kind=e.kind.value,
            step_attempt_id=e.step_attempt_id,
            payload=payload,
            prev_hash=prev_hash,
        )
        _sql(
            client,
            "UPDATE run_events SET payload = :p, prev_hash = :ph, hash = :h WHERE event_id = :e",
            p=json.dumps(payload),
            ph=prev_hash,
            h=digest,
            e=e.event_id,
        )
        prev = digest
    _sql(client, "UPDATE runs SET last_event_hash = :h WHERE run_id = :r", h=prev, r=run_id)

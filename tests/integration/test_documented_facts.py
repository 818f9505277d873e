"""Facts the guides state that no other test pins: the SQLite busy timeout, the evidence
layout on disk, the client's reading calls, and an empty policy.yaml meaning the defaults."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import evidence_jobs
import pytest
from sqlalchemy import text

from runwright.api.client import Client
from runwright.domain.events import EventKind
from runwright.domain.states import RunState
from runwright.store.database import Database


def test_sqlite_connections_wait_30_seconds_for_the_write_lock(tmp_path: Path) -> None:
    """Every SQLite connection of the store has a 30 s busy timeout (docs/durability.md)."""
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with db.transaction(write=False) as conn:
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    finally:
        db.dispose()


def test_evidence_is_content_addressed_with_one_manifest_per_run(client: Client) -> None:
    """An attached artifact is stored once under evidence/blobs/<2 hex>/<sha256>; the run's
    manifest is evidence/manifests/<run_id>.json, recorded on the run with its sha256."""
    run = client.start(evidence_jobs.two_logs)
    client.run_until_idle()
    done = client.get(run.run_id)
    assert done.state is RunState.SUCCEEDED
    root = client.settings.evidence_dir
    links = client.evidence(run.run_id)
    assert len(links) == 3
    for link in links:
        blob = root / "blobs" / link.sha256[:2] / link.sha256
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == link.sha256
    assert done.manifest_path == f"manifests/{run.run_id}.json"
    manifest = (root / done.manifest_path).read_bytes()
    assert hashlib.sha256(manifest).hexdigest() == done.manifest_sha256
    listed = {a["sha256"] for a in json.loads(manifest)["artifacts"]}
    assert listed == {link.sha256 for link in links}


def test_start_many_get_and_events(client: Client) -> None:
    """start_many enqueues runs in one call and returns their ids in order; get reads one
    run; events returns its hash-chained log in order, from after_seq on."""
    ids = client.start_many(evidence_jobs.two_logs, [(), ()])
    assert len(ids) == 2
    assert [client.get(i).state for i in ids] == [RunState.PENDING, RunState.PENDING]
    client.run_until_idle()
    log = client.events(ids[0])
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert log[0].kind is EventKind.RUN_CREATED
    assert [e.seq for e in client.events(ids[0], after_seq=2)] == [e.seq for e in log[2:]]


@pytest.mark.parametrize("content", ["", "# nothing set yet\n"])
def test_an_empty_policy_file_means_the_defaults(client: Client, content: str) -> None:
    """policy.yaml empty (or only comments) gives the same effective policy as no file."""
    without = client.patches.policy()
    client.settings.home.mkdir(parents=True, exist_ok=True)
    (client.settings.home / "policy.yaml").write_text(content)
    assert client.patches.policy() == without

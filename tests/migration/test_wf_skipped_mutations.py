"""Migration 0009: writes a person skipped before ``skipped`` existed become ``skipped``."""

from __future__ import annotations

import workflows_cases as wc
from sqlalchemy import text
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.domain.workflows import MutationStatus, ResolvedBy
from runwright.store.migrate import head_revisions, read_current, upgrade
from runwright.workflows.errors import UncertainError


def test_skipped_writes_recorded_as_failed_become_skipped(client: Client) -> None:
    """A ledger row an older runwright wrote for a skip (``failed``, resolved by
    ``user_skip``) is ``skipped`` after the upgrade; a write that really failed stays
    ``failed``."""
    wc.reset()
    try:
        h = Harness(client)
        h.deploy(wc.cases)
        h.run()
        wc.SETTINGS["tool"] = "plain"
        wc.KNOBS["plain"].extend([UncertainError("timeout"), UncertainError("timeout")])
        h.publish("a")
        h.run()
        skipped = h.mutations()[-1].mutation_id
        h.wf.resolve(skipped, "skip")
        h.run()
        h.publish("b")
        h.run()
        failed = h.mutations()[-1].mutation_id
        h.wf.resolve(failed, "did-not-happen")
    finally:
        wc.reset()
    db = client.store.db
    with db.transaction() as conn:
        conn.execute(
            text("UPDATE wf_mutations SET status = 'failed' WHERE mutation_id = :m"),
            {"m": skipped},
        )
        conn.execute(
            text(
                "UPDATE alembic_version SET version_num = '0007_wf_topic_counts'"
                " WHERE version_num = '0009_wf_skipped_mutations'"
            )
        )
    assert "0009_wf_skipped_mutations" not in read_current(db)
    upgrade(db)
    assert read_current(db) == head_revisions()
    m = client.workflows.mutation(skipped)
    assert (m.status, m.resolved_by) == (MutationStatus.SKIPPED, ResolvedBy.USER_SKIP)
    other = client.workflows.mutation(failed)
    assert (other.status, other.resolved_by) == (
        MutationStatus.FAILED,
        ResolvedBy.USER_ASSERT_FAILED,
    )

"""A payload corrected while its write was in doubt: "it didn't happen" retries with the
original idempotency key, so a server that honours keys applies the write at most once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import workflows_corrections as wcor
from workflows_http import Ledger, serve
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.domain.events import EventKind
from runwright.domain.workflows import EventStatus, MutationStatus, ResolvedBy

WF = "corrections"


@pytest.fixture
def http() -> Iterator[tuple[str, Ledger]]:
    """A JSON server on 127.0.0.1 that applies each Idempotency-Key once and counts applies."""
    with serve() as (url, ledger):
        wcor.point_at(url)
        yield url, ledger
    wcor.api.close()


def _publish(h: Harness, order: str, amount: int) -> None:
    h.wf.publish(WF, "orders", f"order:{order}", {"item": order, "amount": amount})


def _in_doubt(h: Harness, ledger: Ledger) -> str:
    """Post A-1 for 10: the server applies it, but its answer never arrives (a timeout)."""
    _publish(h, "A-1", 10)
    ledger.hold = "apply"
    h.run()
    ledger.release.set()
    (m,) = h.mutations(WF)
    assert m.status is MutationStatus.INDETERMINATE
    assert ledger.items() == ["A-1"]
    return m.mutation_id


def test_a_corrected_payload_keeps_the_original_key_after_it_did_not_happen(
    client: Client, http: tuple[str, Ledger]
) -> None:
    """The payload is corrected (10 → 12) while the write is in doubt; a person says it did
    not happen (wrongly: it did). The fresh run posts the corrected body with the first
    write's idempotency key, so the server applies one write, not two; the ledger and the
    run's log say where the key came from."""
    _, ledger = http
    h = Harness(client)
    h.deploy(wcor.wf)
    first_id = _in_doubt(h, ledger)
    _publish(h, "A-1", 12)  # the correction replaces the payload; the event stays reserved
    h.wf.resolve(first_id, "did-not-happen", by="alice")
    h.run()
    first, second = h.mutations(WF)
    assert (first.status, first.resolved_by) == (
        MutationStatus.FAILED,
        ResolvedBy.USER_ASSERT_FAILED,
    )
    assert second.status is MutationStatus.APPLIED
    assert second.params["json"] == {"item": "A-1", "amount": 12}
    assert second.idempotency_key == first.idempotency_key
    assert ledger.seen_keys == [first.idempotency_key, first.idempotency_key]
    assert len(ledger.applied) == 1
    started = [
        e.payload
        for e in client.events(second.handler_run_id)
        if e.kind is EventKind.MUTATION_STARTED
    ]
    assert started[0]["key_kept_from"] == first.mutation_id
    assert h.events(WF, "orders")["order:A-1"].status is EventStatus.CONSUMED


def test_other_events_get_their_own_key(client: Client, http: tuple[str, Ledger]) -> None:
    """The key is kept only for the same events: after the write in doubt was settled, a
    write for another order has a key of its own and is applied as a write of its own."""
    _, ledger = http
    h = Harness(client)
    h.deploy(wcor.wf)
    first_id = _in_doubt(h, ledger)
    h.wf.resolve(first_id, "did-not-happen")
    h.run()
    _publish(h, "B-2", 5)
    h.run()
    first, again, other = h.mutations(WF)
    assert again.idempotency_key == first.idempotency_key
    assert other.idempotency_key != first.idempotency_key
    assert [a["item"] for a in ledger.applied] == ["A-1", "B-2"]

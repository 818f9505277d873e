"""keepai §10 behaviours whose reference form depends on something runwright does not have.

#34 bounds a reference *session* to 100 consumer iterations, so that a long backlog cannot
keep a due producer waiting. runwright has no sessions: every handler run is its own core run,
and the scheduler picks the next one per workflow each time (a pending retry, then a due
producer, then a dirty or due consumer). The intent of the bound is kept without the number:
a backlog drains one run at a time and a producer that falls due meanwhile runs next.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import workflows_cases as wc
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.domain.workflows import EventStatus, RunStatus


@pytest.fixture
def h(client: Client) -> Iterator[Harness]:
    """'cases' deployed (producer every hour, consumer taking one event per run), first runs
    done."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.cases)
    harness.run()
    yield harness
    wc.reset()


def test_a_backlog_never_keeps_a_due_producer_waiting(h: Harness) -> None:
    """#34 (our form of the 100-iteration bound): while a backlog of three events drains, the
    producer falls due during the first consumer run; it runs right after that run, before
    the rest of the backlog, and the backlog then drains to the end without a new trigger."""
    before = len(h.runs())

    def an_hour_passes(_ctx: Any) -> None:
        h.advance(3600)

    wc.KNOBS["mutate"].append(an_hour_passes)
    h.publish("a", "b", "c")
    h.run()
    order = [(r.handler, r.status) for r in h.runs()[before:]]
    assert [handler for handler, _ in order] == ["Work", "feed", "Work", "Work", "Work"]
    assert {status for _, status in order} == {RunStatus.COMMITTED}
    assert wc.SEEN["written"] == ["a", "b", "c"]
    assert {e.status for e in h.events().values()} == {EventStatus.CONSUMED}
    assert wc.SEEN["producer_state"][-1] == {"runs": 1}

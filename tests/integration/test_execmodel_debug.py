"""Debug packets and the stop rules the engine evaluates, on SQLite and PostgreSQL
(digest §5, behaviours 11-13)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from execmodel_ops import operator, write_op

from runwright.api.client import Client
from runwright.config import Settings
from runwright.domain.events import EventKind
from runwright.domain.execmodel.checks import CheckStatus
from runwright.domain.execmodel.debug import MinimalRepro, PacketStatus, TooManyHypotheses
from runwright.engine.clock import FakeClock
from runwright.errors import Conflict, InvalidTransition, NotFound, ValidationError
from runwright.execmodel.debugging import repro

REPRO = MinimalRepro(commands=["runwright op run X"], expected="PASS", actual="FAIL")
FAILING = operator(
    op_id="ProbeContract",
    mode_ids=["CONTRACT"],
    inputs={"rows": {"type": "int", "default": 0}},
)


def _failing_run(client: Client) -> str:
    source = write_op(client.settings.project_root / "ops", FAILING)
    op = client.ops.operator("ProbeContract", source).operator
    [view] = client.ops.run_operator(op, {})
    assert view.record.result == CheckStatus.FAIL
    return view.run.run_id


def test_contract_work_needs_a_minimal_repro(client: Client) -> None:
    """Behaviour 12: a CONTRACT packet without a minimal repro is refused; a partial repro is
    refused naming what is missing; with one it opens."""
    with pytest.raises(ValidationError, match="minimal repro is mandatory"):
        client.ops.new_packet("api returns 500", mode="CONTRACT")
    with pytest.raises(ValidationError, match="commands, expected and actual"):
        repro(["curl x"], expected="200", actual=None)
    packet = client.ops.new_packet("api returns 500", mode="CONTRACT", repro=REPRO)
    assert packet.status == PacketStatus.OPEN
    assert packet.minimal_repro == REPRO


def test_a_fourth_hypothesis_fires_the_stop_rule_and_is_refused(client: Client) -> None:
    """Behaviour 13: three hypotheses are fine; the fourth is refused, the CONTRACT stop rule
    fires and is recorded (also on the op run the packet is about)."""
    run_id = _failing_run(client)
    packet = client.ops.new_packet("empty export", run_id=run_id, repro=REPRO)
    assert packet.mode_id == "CONTRACT"
    for text in ("stale cache", "wrong env", "schema drift"):
        packet = client.ops.add_hypothesis(packet.packet_id, text)
    with pytest.raises(TooManyHypotheses):
        client.ops.add_hypothesis(packet.packet_id, "cosmic rays")
    assert len(client.ops.packet(packet.packet_id).hypotheses) == 3
    [firing] = client.ops.firings(packet_id=packet.packet_id)
    assert firing.rule_id == "contract.hypotheses"
    assert "4 hypotheses" in firing.detail
    fired = [e for e in client.events(run_id) if e.kind == EventKind.STOP_RULE_FIRED]
    assert fired[-1].payload["packet_id"] == packet.packet_id


def test_experiments_need_evidence_which_is_stored(client: Client, tmp_path: Path) -> None:
    """Behaviour 13: an experiment without evidence is refused; files and notes are stored
    content-addressed, run ids must exist, unknown things are refused."""
    packet = client.ops.new_packet("slow export")
    with pytest.raises(ValidationError, match="needs evidence"):
        client.ops.add_experiment(packet.packet_id, change="c", result="r", evidence=[])
    with pytest.raises(NotFound):
        client.ops.add_experiment(
            packet.packet_id, change="c", result="r", evidence=["no-such-file.log", "note:x"]
        )
    log = client.settings.project_root / "trace.log"
    log.write_text("took 40s\n")
    packet = client.ops.add_experiment(
        packet.packet_id,
        change="disable the index",
        result="still slow",
        evidence=[str(log), "note:same timings"],
    )
    [experiment] = packet.experiments
    kinds = [e.kind for e in experiment.evidence]
    assert kinds == ["file", "note"]
    assert client.blobs.read(experiment.evidence[0].sha256 or "") == b"took 40s\n"
    assert client.blobs.read(experiment.evidence[1].sha256 or "") == b"same timings"


def test_a_packet_is_concluded_then_closed_with_a_next_pointer(
    client: Client, clock: FakeClock
) -> None:
    """open → concluded (time spent measured by the clock) → closed with a next pointer;
    closing an open packet or changing a closed one is refused."""
    packet = client.ops.new_packet("flaky deploy", mode="SERVICE")
    with pytest.raises(InvalidTransition):
        client.ops.close_packet(packet.packet_id, next_pointer="x")
    clock.advance(15 * 60)
    concluded = client.ops.conclude(
        packet.packet_id,
        decision="the health check races the restart",
        resolution_or_next="wait for the port before checking",
        regression_guard="health check retries once",
    )
    assert concluded.time_spent_minutes == 15.0
    assert concluded.status == PacketStatus.CONCLUDED
    with pytest.raises(ValidationError, match="next pointer"):
        client.ops.close_packet(packet.packet_id, next_pointer=" ")
    closed = client.ops.close_packet(packet.packet_id, next_pointer="watch the next deploy")
    assert closed.status == PacketStatus.CLOSED
    assert closed.next_pointer == "watch the next deploy"
    with pytest.raises(InvalidTransition):
        client.ops.add_hypothesis(packet.packet_id, "late")
    assert [p.packet_id for p in client.ops.packets(status="closed")] == [packet.packet_id]


def test_a_stale_update_of_a_packet_is_a_conflict(client: Client) -> None:
    """Two writers on one packet: the one holding an old version is refused."""
    packet = client.ops.new_packet("race")
    client.ops.add_hypothesis(packet.packet_id, "first")
    stale = packet.model_copy(update={"version": packet.version + 1})
    with pytest.raises(Conflict, match="changed meanwhile"):
        client.ops.env.em.update_packet(stale, client.clock.now())


def test_forty_minutes_of_failing_contract_work_opens_a_debug_packet(
    client: Client, clock: FakeClock
) -> None:
    """Behaviour 11: a CONTRACT op run failing 41 minutes after the first failure (no PASS in
    between, no repro) fires the rule and opens a packet with a minimal repro; earlier failures
    do not."""
    first = _failing_run(client)
    assert client.ops.packets() == []
    assert client.ops.firings(run_id=first) == []
    clock.advance(41 * 60)
    second = _failing_run(client)
    [firing] = [f for f in client.ops.firings(run_id=second) if f.rule_id == "universal.debugging"]
    [packet] = client.ops.packets()
    assert firing.packet_id == packet.packet_id
    assert packet.opened_by == "stop_rule:universal.debugging"
    assert packet.source_run_id == second
    assert packet.mode_id == "CONTRACT"
    assert packet.minimal_repro is not None
    assert "rows" in packet.minimal_repro.actual
    events = [e.kind for e in client.events(second)]
    assert EventKind.STOP_RULE_FIRED in events
    assert EventKind.DEBUG_PACKET_OPENED in events


@pytest.fixture
def strict_client(settings: Settings, clock: FakeClock) -> Iterator[Client]:
    """A client whose [execmodel] config lowers the thresholds."""
    tuned = settings.model_copy(
        update={"file": {"execmodel": {"debug_minutes": 10, "max_hypotheses": 2}}}
    )
    c = Client.open(tuned, clock=clock)
    yield c
    c.close()


def test_the_thresholds_come_from_the_config(strict_client: Client, clock: FakeClock) -> None:
    """With debug_minutes = 10 and max_hypotheses = 2, the rules fire at those thresholds."""
    _failing_run(strict_client)
    clock.advance(11 * 60)
    _failing_run(strict_client)
    [packet] = strict_client.ops.packets()
    strict_client.ops.add_hypothesis(packet.packet_id, "one")
    strict_client.ops.add_hypothesis(packet.packet_id, "two")
    with pytest.raises(TooManyHypotheses, match="at most 2"):
        strict_client.ops.add_hypothesis(packet.packet_id, "three")

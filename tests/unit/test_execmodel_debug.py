"""Debug packets, pure: repro for CONTRACT, ≤ N hypotheses, evidence on every experiment,
open → concluded → closed with a next pointer (digest §5, behaviours 12-13)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from runwright.domain.execmodel import debug
from runwright.domain.execmodel.debug import (
    DebugPacket,
    EvidenceRef,
    Experiment,
    MinimalRepro,
    PacketStatus,
    TooManyHypotheses,
)
from runwright.domain.ids import new_id
from runwright.errors import InvalidTransition

NOW = datetime(2026, 1, 1, tzinfo=UTC)
REPRO = MinimalRepro(commands=["pytest -k x"], expected="pass", actual="fail")


def _packet(**changes: Any) -> DebugPacket:
    data: dict[str, Any] = {
        "packet_id": new_id(),
        "project_id": "p",
        "symptom": "export is empty",
        "opened_at": NOW,
    }
    data.update(changes)
    return DebugPacket.model_validate(data)


def test_contract_work_without_a_minimal_repro_is_rejected() -> None:
    """Behaviour 12: a CONTRACT packet with no minimal_repro is invalid; with one it is fine."""
    with pytest.raises(PydanticValidationError, match="minimal_repro is mandatory"):
        _packet(mode_id="CONTRACT")
    assert _packet(mode_id="CONTRACT", minimal_repro=REPRO).minimal_repro == REPRO
    assert _packet(mode_id="PIPELINE").minimal_repro is None


def test_a_fourth_hypothesis_is_refused() -> None:
    """Behaviour 13: hypotheses past the limit (3 by default) are refused."""
    packet = _packet()
    for i in range(3):
        packet = debug.add_hypothesis(packet, f"cause {i}", NOW, limit=3)
    assert [h.id for h in packet.hypotheses] == ["h1", "h2", "h3"]
    with pytest.raises(TooManyHypotheses) as err:
        debug.add_hypothesis(packet, "cause 4", NOW, limit=3)
    assert "repro" in (err.value.hint or "")


def test_an_experiment_without_evidence_is_invalid() -> None:
    """Behaviour 13: every experiment has evidence."""
    with pytest.raises(PydanticValidationError, match="evidence"):
        Experiment(change="bump", result="same", evidence=[], at=NOW)
    ok = Experiment(
        change="bump", result="same", evidence=[EvidenceRef(kind="run", ref=new_id())], at=NOW
    )
    assert debug.add_experiment(_packet(), ok).experiments == [ok]


def test_an_experiment_must_name_a_known_hypothesis() -> None:
    """An experiment that names a hypothesis the packet does not have is invalid."""
    exp = Experiment(
        change="c",
        result="r",
        evidence=[EvidenceRef(kind="note", ref="n")],
        hypothesis="h9",
        at=NOW,
    )
    with pytest.raises(PydanticValidationError, match="h9"):
        debug.add_experiment(_packet(), exp)


def test_the_lifecycle_is_open_concluded_closed_with_a_next_pointer() -> None:
    """open → concluded (decision + resolution) → closed (next pointer); nothing else."""
    packet = _packet()
    with pytest.raises(InvalidTransition):
        debug.close(packet, next_pointer="n", now=NOW)
    concluded = debug.conclude(
        packet,
        decision="the cache is stale",
        resolution_or_next="clear it on deploy",
        regression_guard="a test",
        time_spent_minutes=12,
        now=NOW,
    )
    assert concluded.status == PacketStatus.CONCLUDED
    with pytest.raises(InvalidTransition):
        debug.add_hypothesis(concluded, "late idea", NOW, limit=3)
    closed = debug.close(concluded, next_pointer="ship the fix", now=NOW)
    assert closed.status == PacketStatus.CLOSED
    with pytest.raises(InvalidTransition):
        debug.conclude(
            closed,
            decision="d",
            resolution_or_next="r",
            regression_guard=None,
            time_spent_minutes=1,
            now=NOW,
        )


def test_a_closed_packet_needs_a_one_line_next_pointer() -> None:
    """Closing without a next pointer, or with several lines, is invalid."""
    concluded = _packet(status="concluded", decision="d", resolution_or_next="r")
    with pytest.raises(PydanticValidationError):
        debug.close(concluded, next_pointer="", now=NOW)
    with pytest.raises(PydanticValidationError, match="single line"):
        debug.close(concluded, next_pointer="a\nb", now=NOW)

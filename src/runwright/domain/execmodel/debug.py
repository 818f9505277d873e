"""Debug packets: the anti-drift unit for failures; at most N hypotheses, evidence on every
experiment, a minimal repro for CONTRACT work, and an explicit next pointer at the end."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runwright.domain.execmodel.modes import ModeId
from runwright.domain.execmodel.opruns import ProjectId, one_line
from runwright.domain.ids import Ulid
from runwright.errors import InvalidTransition, ValidationError

CONTRACT = "CONTRACT"


class PacketStatus(StrEnum):
    """A packet's lifecycle: open → concluded → closed."""

    OPEN = "open"
    CONCLUDED = "concluded"
    CLOSED = "closed"


PACKET_TRANSITIONS: dict[PacketStatus, frozenset[PacketStatus]] = {
    PacketStatus.OPEN: frozenset({PacketStatus.CONCLUDED}),
    PacketStatus.CONCLUDED: frozenset({PacketStatus.CLOSED}),
    PacketStatus.CLOSED: frozenset(),
}


def check_packet_transition(
    current: PacketStatus | str, target: PacketStatus | str, *, packet_id: str = ""
) -> PacketStatus:
    """``target`` if a packet may move there from ``current``, else InvalidTransition."""
    cur, nxt = PacketStatus(current), PacketStatus(target)
    if nxt not in PACKET_TRANSITIONS[cur]:
        allowed = ", ".join(sorted(PACKET_TRANSITIONS[cur])) or "nothing (closed)"
        raise InvalidTransition(
            f"debug packet {packet_id} cannot move from {cur} to {nxt}".replace("  ", " "),
            hint=f"from {cur} a packet may move to: {allowed}",
            current=str(cur),
            target=str(nxt),
        )
    return nxt


class EvidenceRef(BaseModel):
    """Evidence of an experiment: a stored file or note (by sha256), a run, or an evidence link."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["file", "note", "run", "evidence"]
    ref: str = Field(min_length=1, description="The file path, note name, run id or evidence id.")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(default=None, ge=0)


class MinimalRepro(BaseModel):
    """Commands, inputs, expected vs actual."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commands: list[str] = Field(min_length=1)
    inputs: str = ""
    expected: str = Field(min_length=1)
    actual: str = Field(min_length=1)


class Hypothesis(BaseModel):
    """One candidate explanation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^h[0-9]+$")
    text: str = Field(min_length=1)
    added_at: datetime


class Experiment(BaseModel):
    """A change made, its result, and the evidence (logs, diffs, notes) — never without."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    change: str = Field(min_length=1)
    result: str = Field(min_length=1)
    evidence: list[EvidenceRef] = Field(min_length=1)
    hypothesis: str | None = None
    at: datetime


class DebugPacket(BaseModel):
    """The standard closure artifact when debugging would otherwise expand."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # the seed's fields
    project_id: ProjectId
    symptom: str = Field(min_length=1, description="Observable.")
    context: str = Field(default="", description="What changed recently, if known.")
    minimal_repro: MinimalRepro | None = None
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    experiments: list[Experiment] = Field(default_factory=list)
    decision: str | None = None
    resolution_or_next: str | None = None
    regression_guard: str | None = None
    time_spent_minutes: float | None = Field(default=None, ge=0)
    # runwright's
    packet_id: Ulid
    mode_id: ModeId | None = None
    status: PacketStatus = PacketStatus.OPEN
    next_pointer: str | None = None
    source_run_id: Ulid | None = None
    block_id: Ulid | None = None
    opened_by: str = Field(default="human", description="human, stop_rule:ID or failure_path.")
    opened_at: datetime
    concluded_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = Field(default=1, ge=1)

    @field_validator("next_pointer")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return one_line(value)

    @model_validator(mode="after")
    def _invariants(self) -> DebugPacket:
        if self.mode_id == CONTRACT and self.minimal_repro is None:
            raise ValueError("minimal_repro is mandatory for CONTRACT work")
        known = {h.id for h in self.hypotheses}
        for e in self.experiments:
            if e.hypothesis is not None and e.hypothesis not in known:
                raise ValueError(f"experiment names unknown hypothesis {e.hypothesis!r}")
        if self.status != PacketStatus.OPEN and not (self.decision and self.resolution_or_next):
            raise ValueError("a concluded packet needs decision and resolution_or_next")
        if self.status == PacketStatus.CLOSED and not self.next_pointer:
            raise ValueError("a closed packet ends with an explicit next pointer")
        return self


class TooManyHypotheses(ValidationError):
    """A packet already holds the most hypotheses allowed: narrow before adding another."""

    code = "too_many_hypotheses"


def require_open(packet: DebugPacket, what: str) -> None:
    """Refuse to change an open packet's content once it is concluded or closed."""
    if packet.status != PacketStatus.OPEN:
        raise InvalidTransition(
            f"debug packet {packet.packet_id} is {packet.status}: cannot {what}",
            hint="open a new packet with `runwright debug new`",
            current=str(packet.status),
        )


def add_hypothesis(packet: DebugPacket, text: str, now: datetime, *, limit: int) -> DebugPacket:
    """The packet with one more hypothesis; TooManyHypotheses past ``limit``."""
    require_open(packet, "add a hypothesis")
    if len(packet.hypotheses) >= limit:
        raise TooManyHypotheses(
            f"debug packet {packet.packet_id} already has {len(packet.hypotheses)} hypotheses "
            f"(at most {limit})",
            hint="stop: narrow with a minimal repro and test one axis at a time; conclude this "
            "packet and open a new one if the problem changed",
            field="hypotheses",
        )
    h = Hypothesis(id=f"h{len(packet.hypotheses) + 1}", text=text.strip(), added_at=now)
    return DebugPacket.model_validate(
        {**packet.model_dump(), "hypotheses": [*packet.model_dump()["hypotheses"], h.model_dump()]}
    )


def add_experiment(packet: DebugPacket, experiment: Experiment) -> DebugPacket:
    """The packet with one more experiment (which must carry evidence)."""
    require_open(packet, "add an experiment")
    data = packet.model_dump()
    data["experiments"] = [*data["experiments"], experiment.model_dump()]
    return DebugPacket.model_validate(data)


def conclude(
    packet: DebugPacket,
    *,
    decision: str,
    resolution_or_next: str,
    regression_guard: str | None,
    time_spent_minutes: float,
    now: datetime,
) -> DebugPacket:
    """The packet concluded with a decision and a resolution (or next experiments)."""
    check_packet_transition(packet.status, PacketStatus.CONCLUDED, packet_id=packet.packet_id)
    data = packet.model_dump()
    data.update(
        status=PacketStatus.CONCLUDED,
        decision=decision.strip(),
        resolution_or_next=resolution_or_next.strip(),
        regression_guard=(regression_guard or "").strip() or packet.regression_guard,
        time_spent_minutes=time_spent_minutes,
        concluded_at=now,
    )
    return DebugPacket.model_validate(data)


def close(packet: DebugPacket, *, next_pointer: str, now: datetime) -> DebugPacket:
    """The packet closed with its explicit next pointer."""
    check_packet_transition(packet.status, PacketStatus.CLOSED, packet_id=packet.packet_id)
    data = packet.model_dump()
    data.update(status=PacketStatus.CLOSED, next_pointer=next_pointer, closed_at=now)
    return DebugPacket.model_validate(data)

"""Time blocks: one block, one mode (MAINT and FOCUS need one), ended with a next pointer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runwright.domain.evidence import EvidenceLink
from runwright.domain.execmodel.modes import ModeId
from runwright.domain.execmodel.opruns import ProjectId, one_line
from runwright.domain.ids import Ulid
from runwright.errors import InvalidTransition, ValidationError


class BlockType(StrEnum):
    """Kinds of time block."""

    MAINT = "MAINT"
    FOCUS = "FOCUS"
    ADMIN = "ADMIN"
    FREE = "FREE"


MODE_REQUIRED = frozenset({BlockType.MAINT, BlockType.FOCUS})


class BlockStatus(StrEnum):
    """Where a block is: active, then completed (evidence + next pointer) or incomplete."""

    ACTIVE = "active"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"


BLOCK_TRANSITIONS: dict[BlockStatus, frozenset[BlockStatus]] = {
    BlockStatus.ACTIVE: frozenset({BlockStatus.COMPLETED, BlockStatus.INCOMPLETE}),
    BlockStatus.COMPLETED: frozenset(),
    BlockStatus.INCOMPLETE: frozenset(),
}


def check_block_transition(current: BlockStatus | str, target: BlockStatus | str) -> BlockStatus:
    """``target`` if a block may move there from ``current``, else InvalidTransition."""
    cur, nxt = BlockStatus(current), BlockStatus(target)
    if nxt not in BLOCK_TRANSITIONS[cur]:
        raise InvalidTransition(
            f"block cannot move from {cur} to {nxt}",
            hint="a block ends once; start a new one with `runwright block start`",
            current=str(cur),
            target=str(nxt),
        )
    return nxt


class GovernanceArtifact(BaseModel):
    """A decision or constraint file that closes a block instead of run evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class Block(BaseModel):
    """A time block of one type, in (at most) one mode; runs started in it carry its mode."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    block_id: Ulid
    project_id: ProjectId
    title: str = Field(min_length=1)
    block_type: BlockType
    mode_id: ModeId | None = None
    classified_mode_id: ModeId | None = None
    mode_override: bool = Field(default=False, description="--mode was given against the keywords.")
    tags: list[str] = Field(default_factory=list, description="e.g. MODEL/ANALYZE (not a mode).")
    status: BlockStatus = BlockStatus.ACTIVE
    planned_minutes: float | None = Field(default=None, gt=0)
    started_at: datetime
    ended_at: datetime | None = None
    next_pointer: str | None = None
    governance_artifact: GovernanceArtifact | None = None
    previous_block_id: Ulid | None = Field(default=None, description="The block it switched from.")
    run_ids: list[Ulid] = Field(default_factory=list)
    evidence_links: list[EvidenceLink] = Field(default_factory=list)

    @field_validator("next_pointer")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return one_line(value)

    @model_validator(mode="after")
    def _rules(self) -> Block:
        if self.block_type in MODE_REQUIRED and self.mode_id is None:
            raise ValueError(f"a {self.block_type} block needs exactly one mode")
        ended = self.status != BlockStatus.ACTIVE
        if ended and self.block_type != BlockType.FREE and not self.next_pointer:
            raise ValueError(f"an ended {self.block_type} block needs a next pointer")
        if (
            self.status == BlockStatus.COMPLETED
            and self.block_type != BlockType.FREE
            and not (self.evidence_links or self.governance_artifact)
        ):
            raise ValueError("a completed block needs evidence links or a governance artifact")
        return self


def require_mode(block_type: BlockType, mode_id: str | None, title: str, modes: list[str]) -> None:
    """Refuse a MAINT/FOCUS block without a mode, saying how to pick one."""
    if block_type in MODE_REQUIRED and mode_id is None:
        raise ValidationError(
            f"a {block_type} block needs exactly one mode and none was classified from {title!r}",
            hint=f"pick one with --mode ({', '.join(modes)})",
            field="mode",
        )


def end_status(
    block_type: BlockType,
    *,
    has_evidence: bool,
    has_artifact: bool,
    next_pointer: str | None,
    allow_incomplete: bool,
) -> BlockStatus:
    """How a block may end: FREE always completes; others need a next pointer, and complete
    only with evidence links or a governance artifact (else incomplete, if allowed)."""
    if block_type == BlockType.FREE:
        return BlockStatus.COMPLETED
    if not next_pointer:
        raise ValidationError(
            "a block ends with a next pointer",
            hint='say what comes next: --next "…" (even "create a DebugPacket and schedule")',
            field="next_pointer",
        )
    if has_evidence or has_artifact:
        return BlockStatus.COMPLETED
    if allow_incomplete:
        return BlockStatus.INCOMPLETE
    raise ValidationError(
        "the block has no evidence links and no governance artifact, so it cannot complete",
        hint="run an operator in it, pass --artifact FILE, or end it with --incomplete",
        field="evidence_links",
    )


def needs_new_block(active_mode: str | None, mode_id: str | None) -> bool:
    """True when working in ``mode_id`` inside a block in ``active_mode`` is a mode switch."""
    return mode_id is not None and active_mode is not None and mode_id != active_mode

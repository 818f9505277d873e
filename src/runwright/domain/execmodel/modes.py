"""Modes: the six crafts of the Execution Model, as data, with their evidence patterns and
stop rules; ``MODEL/ANALYZE`` is a tag. The registry is extensible from the project's config."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from runwright.domain.execmodel.checks import CheckType

ModeId = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)]
ItemId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]

MODEL_ANALYZE = "MODEL/ANALYZE"


class EvidenceRequirement(BaseModel):
    """One item of an evidence pattern: what must exist for work in a mode to count.

    An item is met by a step, output or check of the operator that declares it in
    ``satisfies``; by a passing check of one of ``check_types``; by a non-empty declared
    output (``from_outputs``); or by the run's next pointer (``from_next_pointer``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: ItemId
    description: str = Field(min_length=1)
    required: bool = True
    check_types: list[CheckType] = Field(default_factory=list)
    from_outputs: bool = False
    from_next_pointer: bool = False


class StopTrigger(StrEnum):
    """What a stop rule watches."""

    OVER_TIMEBOX = "over_timebox"
    FAILING_WITHOUT_REPRO = "failing_without_repro"
    HYPOTHESES_OVER = "hypotheses_over"
    MISSING_EVIDENCE = "missing_evidence"
    NO_PASSING_CHECK = "no_passing_check"


class StopAction(StrEnum):
    """What the engine does (or asks for) when a stop rule fires."""

    NEXT_POINTER = "next_pointer"  # stop, write a next pointer, reschedule or re-scope
    OPEN_DEBUG_PACKET = "open_debug_packet"
    SWITCH_MODE = "switch_mode"
    FORCE_REPRO = "force_repro"
    ADD_ADOPTION_PATH = "add_adoption_path"
    BOUND_LIVE_CHANGES = "bound_live_changes"
    ADD_CONSTRAINT = "add_constraint"
    SEND_AND_FOLLOW_UP = "send_and_follow_up"


class StopRule(BaseModel):
    """A rule that ends drift: when ``trigger`` holds, stop and do ``then``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(pattern=r"^[a-z][a-z0-9_.]*$")
    mode_id: ModeId | None = Field(default=None, description="None for a universal rule.")
    when: str = Field(min_length=1)
    then: str = Field(min_length=1)
    trigger: StopTrigger
    action: StopAction
    items: list[ItemId] = Field(default_factory=list, description="For missing_evidence.")
    check_types: list[CheckType] = Field(default_factory=list, description="For no_passing_check.")
    switch_to: list[ModeId] = Field(default_factory=list)


class Mode(BaseModel):
    """A craft: a mindset, the moves it allows, and what evidence counts in it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode_id: ModeId
    intent: str = Field(min_length=1)
    typical_outputs: list[str] = Field(default_factory=list)
    primary_risk: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list, description="Classifier keywords/phrases.")
    evidence_pattern: list[EvidenceRequirement] = Field(default_factory=list)
    stop_rules: list[StopRule] = Field(default_factory=list)
    builtin: bool = False

    def requirement(self, item_id: str) -> EvidenceRequirement | None:
        """The pattern item ``item_id`` of this mode, if any."""
        return next((r for r in self.evidence_pattern if r.id == item_id), None)


class ModeExtension(BaseModel):
    """A project's addition to the registry: a new mode, or changes to a built-in one.

    For a built-in mode, given fields replace the built-in ones and ``extra_keywords`` are
    appended to its keywords. A new mode needs ``intent`` and ``primary_risk``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode_id: ModeId
    intent: str | None = None
    typical_outputs: list[str] | None = None
    primary_risk: str | None = None
    keywords: list[str] | None = None
    extra_keywords: list[str] = Field(default_factory=list)
    evidence_pattern: list[EvidenceRequirement] | None = None
    stop_rules: list[StopRule] | None = None

"""What a plan run records: the intake acknowledgment, gate results and their defects,
correction requests, escalations with their answers (pure types and their invariants).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runwright.domain.budgets import Budget, BudgetBreach
from runwright.domain.ids import Ulid

#: Test output inside a defect, an error or a correction is marked, so that it is shown once.
OUTPUT_START = "--- last lines of the test output ---"
OUTPUT_END = "--- end of the test output ---"


def with_output(text: str, lines: Sequence[str]) -> str:
    """``text`` followed by a marked block of test output (``text`` alone if there is none)."""
    if not lines:
        return text
    return "\n".join([text, OUTPUT_START, *lines, OUTPUT_END])


def split_output(text: str) -> tuple[str, list[str]]:
    """``text`` without its marked test-output blocks, and those blocks (each one text).

    A block without its end marker (as older records have) runs to the end of ``text``.
    """
    rest, blocks = "", list[str]()
    while True:
        start = text.find(OUTPUT_START)
        if start < 0:
            return rest + text, blocks
        end = text.find(OUTPUT_END, start)
        stop = len(text) if end < 0 else end
        block = text[start + len(OUTPUT_START) : stop].strip("\n")
        if block:
            blocks.append(block)
        rest += text[:start].rstrip("\n")
        text = "" if end < 0 else text[end + len(OUTPUT_END) :]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BlockerClass(StrEnum):
    """What kind of problem blocks a gate, which decides who must act (execution-lead)."""

    PACKAGE_DEFECT = "package-defect"
    PLAN_DEFECT = "plan-defect"
    IMPLEMENTATION_DEFECT = "implementation-defect"
    DECISION_NEEDED = "decision-needed"


#: Who a blocker class is routed to.
ROUTED_TO: dict[BlockerClass, str] = {
    BlockerClass.PACKAGE_DEFECT: "tech-lead",
    BlockerClass.PLAN_DEFECT: "tech-lead",
    BlockerClass.DECISION_NEEDED: "decision-owner",
    BlockerClass.IMPLEMENTATION_DEFECT: "member",
}
#: Classes that escalate at once, without correction retries.
IMMEDIATE: frozenset[BlockerClass] = frozenset(
    {BlockerClass.PACKAGE_DEFECT, BlockerClass.PLAN_DEFECT, BlockerClass.DECISION_NEEDED}
)


class Severity(StrEnum):
    """How bad a defect or deviation is; a critical one forbids completion."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class BlockingGap(_Record):
    """Something missing from the handoff that stops execution before anything is delegated."""

    field: str
    problem: str
    owner: str = Field(description="Who must fix it (tech-lead, decision-owner…).")


class Acknowledgment(_Record):
    """The intake acknowledgment (execution-lead pass D)."""

    receipt_confirmed: bool
    sufficiency_for_execution: bool
    blocking_gaps: list[BlockingGap] = Field(default_factory=list)
    first_execution_step: str
    plan_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    issuer: str
    routed_to: str | None = Field(default=None, description="Who a blocked handoff goes back to.")


class Defect(_Record):
    """One thing a gate found wrong, with the correction it requires."""

    gate: str
    code: str = Field(min_length=1, description="A short machine-readable name.")
    message: str = Field(min_length=1, description="The defect observed.")
    required_correction: str = Field(min_length=1)
    blocker_class: BlockerClass = BlockerClass.IMPLEMENTATION_DEFECT
    severity: Severity = Severity.HIGH
    phase_id: str | None = None
    requirement_id: str | None = None
    evidence_refs: list[str] = Field(default_factory=list)


class GateResult(_Record):
    """One evaluation of a gate: pass, or the defects that fail it."""

    gate: str
    round: int = Field(ge=0, description="0 for the first evaluation, n after correction n.")
    passed: bool
    defects: list[Defect] = Field(default_factory=list)
    checked: list[str] = Field(default_factory=list, description="What the gate looked at.")
    evidence_refs: list[str] = Field(default_factory=list)
    skipped_reason: str | None = None
    evaluated_at: datetime

    @model_validator(mode="after")
    def _consistent(self) -> GateResult:
        if self.passed == bool(self.defects):
            raise ValueError("a gate passes exactly when it found no defect")
        return self

    def blocker_class(self) -> BlockerClass | None:
        """The class that decides what happens next: an immediate class wins."""
        classes = [d.blocker_class for d in self.defects]
        for cls in (
            BlockerClass.PACKAGE_DEFECT,
            BlockerClass.PLAN_DEFECT,
            BlockerClass.DECISION_NEEDED,
        ):
            if cls in classes:
                return cls
        return classes[0] if classes else None


class CorrectionRequest(_Record):
    """A correction retry for one phase after its gate failed."""

    gate: str
    round: int = Field(ge=1)
    budget: int = Field(ge=1)
    phase_id: str
    defect: str = Field(min_length=1, description="The defect observed.")
    required_correction: str = Field(min_length=1)
    acceptance_criteria: list[str] = Field(
        min_length=1, description="Unchanged from the plan: what the phase must still satisfy."
    )
    evidence_refs: list[str] = Field(default_factory=list)
    guidance: str | None = Field(default=None, description="A human's note, after escalation.")

    def as_text(self) -> str:
        """The correction as prompt context (test output once, however often it was cited)."""
        defect, outputs = split_output(self.defect)
        required, more = split_output(self.required_correction)
        lines = [
            f"CORRECTION {self.round} of {self.budget} — the {self.gate} gate failed.",
            f"Defect observed: {defect}",
        ]
        for block in dict.fromkeys([*outputs, *more]):
            lines += ["Test output (last lines):", block]
        lines += [
            f"Required correction: {required}",
            "Acceptance criteria (unchanged):",
            *(f"- {c}" for c in self.acceptance_criteria),
        ]
        if self.evidence_refs:
            lines.append("Evidence: " + ", ".join(self.evidence_refs))
        if self.guidance:
            lines.append(f"Guidance from a human: {self.guidance}")
        return "\n".join(lines)


class OptionEffect(StrEnum):
    """What choosing an escalation option does to the plan run."""

    RETRY = "retry"  # evaluate the gate again (after one more correction round, or a fix)
    ACCEPT = "accept"  # accept the open decision / exception and go on
    BLOCK = "block"  # stop the plan as blocked
    RAISE_BUDGET = "raise_budget"  # raise the exceeded budget and go on where it stopped


class EscalationOption(_Record):
    """One way out of an escalation."""

    id: Literal["A", "B"]
    summary: str = Field(min_length=1)
    effect: OptionEffect


class EscalationStatus(StrEnum):
    """Whether a human has answered."""

    OPEN = "open"
    ANSWERED = "answered"


class EscalationAnswer(_Record):
    """A human's answer to an escalation."""

    option: Literal["A", "B"]
    note: str | None = None
    by: str = Field(min_length=1)
    at: datetime
    budget: Budget | None = Field(
        default=None, description="The raised limits, when the answer raises a budget."
    )


class Escalation(_Record):
    """The escalation payload: blocked gate, blocker class, evidence, impact, options A/B."""

    escalation_id: Ulid
    run_id: Ulid
    plan_id: str
    blocked_gate: str = Field(min_length=1)
    blocker_class: BlockerClass
    routed_to: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    defects: list[Defect] = Field(default_factory=list)
    evidence_refs: list[str] = Field(min_length=1)
    schedule_impact: str = Field(min_length=1)
    options: list[EscalationOption] = Field(min_length=2, max_length=2)
    preferred: Literal["A", "B"]
    round: int = Field(ge=0, description="How many correction rounds the gate had used.")
    status: EscalationStatus = EscalationStatus.OPEN
    raised_at: datetime
    answer: EscalationAnswer | None = None
    budget: BudgetBreach | None = Field(
        default=None, description="The budget that ran out: whose, which limit, the spend."
    )

    @model_validator(mode="after")
    def _options(self) -> Escalation:
        if sorted(o.id for o in self.options) != ["A", "B"]:
            raise ValueError("an escalation offers exactly options A and B")
        if (self.answer is None) != (self.status is EscalationStatus.OPEN):
            raise ValueError("an answered escalation has an answer, an open one has none")
        return self

    def option(self, option_id: str) -> EscalationOption:
        """Option ``A`` or ``B``."""
        return next(o for o in self.options if o.id == option_id)


class PlanStatus(StrEnum):
    """Where a plan run stands."""

    RUNNING = "running"
    WAITING_DECISION = "waiting_decision"
    COMPLETE = "complete"
    BLOCKED = "blocked"
    ESCALATED = "escalated"


class PhaseStatus(StrEnum):
    """How one delegation of a phase went."""

    RUNNING = "running"
    COMMITTED = "committed"
    FAILED = "failed"
    SKIPPED = "skipped"


class PhaseDelegation(_Record):
    """One delegation of a phase: the first try (round 0) or correction n."""

    run_id: str
    phase_id: str
    round: int = Field(ge=0)
    gate: str
    stage: str
    child_run_id: str | None = None
    status: PhaseStatus
    correction: CorrectionRequest | None = None
    outcome: dict[str, object] = Field(default_factory=dict)
    started_at: datetime
    ended_at: datetime | None = None


class PlanRunRecord(_Record):
    """A plan run as stored: its plan, stage, status, acknowledgment and completion."""

    run_id: str
    plan_id: str
    project_id: str
    title: str
    plan_path: str
    plan_sha256: str
    stage: str
    status: PlanStatus
    acknowledgment: Acknowledgment | None = None
    schedule: dict[str, object] = Field(
        default_factory=dict, description="stage → its batches and serialization reasons"
    )
    completion: dict[str, object] | None = None
    completion_path: str | None = None
    created_at: datetime
    updated_at: datetime

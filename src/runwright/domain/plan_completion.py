"""The validation report and the completion contract of a plan run (pure types).

The completion contract has the seed's ten fields plus per-member delegation evidence, the
execution worktree and the event-ledger entries of the adopted contract. Empty lists are
written as the explicit string ``"none"``; a missing field, or an empty list where ``"none"``
belongs, makes the contract invalid. ``complete`` is refused while anything forbids it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runwright.domain.budgets import PlanSpend
from runwright.domain.plan_records import Defect, Severity

NONE = "none"
MEMBERS = ("test-implementer", "implement-plan", "validate-plan")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TraceStatus(StrEnum):
    """How well a requirement is traced requirement → test → code."""

    TRACED = "traced"
    PARTIAL = "partial"
    UNTRACED = "untraced"
    EXCEPTION = "exception"  # code only, under an acknowledged test_not_applicable


class RequirementTrace(_Record):
    """One requirement, the tests that prove it and the code that satisfies it."""

    requirement_id: str
    text: str
    critical: bool
    test_phases: list[str] = Field(default_factory=list)
    test_files: list[str] = Field(default_factory=list)
    code_phases: list[str] = Field(default_factory=list)
    code_files: list[str] = Field(default_factory=list)
    commits: list[str] = Field(default_factory=list)
    tests_passed: bool | None = None
    status: TraceStatus


class PhaseReport(_Record):
    """How one phase ended."""

    phase_id: str
    phase_type: str
    owner_role: str
    status: Literal["committed", "failed", "skipped", "not-run"]
    rounds: int = Field(ge=0, description="Delegations made (first try plus corrections).")
    run_ids: list[str] = Field(default_factory=list)
    patch_ids: list[str] = Field(default_factory=list)
    commits: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    checks: dict[str, str] = Field(default_factory=dict, description="check id → PASS/WARN/FAIL")
    error: str | None = None


class ValidationReport(_Record):
    """The validation stage's report: per phase, per requirement, and every deviation."""

    plan_id: str
    run_id: str
    phases: list[PhaseReport]
    requirements: list[RequirementTrace]
    deviations: list[Defect] = Field(default_factory=list)
    tests_passed: bool | None = None
    critical_failures: int = Field(ge=0)
    generated_at: datetime

    @model_validator(mode="after")
    def _count(self) -> ValidationReport:
        critical = sum(1 for d in self.deviations if d.severity is Severity.CRITICAL)
        if critical != self.critical_failures:
            raise ValueError("critical_failures must count the critical deviations")
        return self


class ExecutionStatus(StrEnum):
    """The one outcome of a plan run."""

    COMPLETE = "complete"
    BLOCKED = "blocked"
    ESCALATED = "escalated"


class MemberDelegation(_Record):
    """Evidence that a member was delegated to: its runs (session ids) and how it ended."""

    member: Literal["test-implementer", "implement-plan", "validate-plan"]
    session_ids: Annotated[list[str], Field(min_length=1)] | Literal["none"]
    outcome: Literal["complete", "failed", "blocked", "escalated", "not-delegated", "exception"]


class OpenIssue(_Record):
    """An issue left open, and where it was sent."""

    id: str
    severity: Severity
    summary: str
    destination: str = Field(description="tech-lead, decision-owner, member…")
    escalated: bool = False


class CompletionContract(_Record):
    """The stage completion contract of a plan run."""

    execution_status: ExecutionStatus
    plan_path: str = Field(min_length=1)
    test_spec_path: str = Field(min_length=1)
    test_commit_hashes: Annotated[list[str], Field(min_length=1)] | Literal["none"]
    implementation_commit_hashes: Annotated[list[str], Field(min_length=1)] | Literal["none"]
    validation_report_path: str = Field(min_length=1, description='"none" if never validated.')
    requirement_coverage: Literal["full", "partial"]
    open_issues: Annotated[list[OpenIssue], Field(min_length=1)] | Literal["none"]
    escalations: Annotated[list[str], Field(min_length=1)] | Literal["none"]
    recommended_next_action: str = Field(min_length=1)
    # the adopted contract's additions
    member_delegations: list[MemberDelegation] = Field(min_length=3, max_length=3)
    execution_worktree_path: str = Field(min_length=1)
    event_ledger: Annotated[list[str], Field(min_length=1)]
    stage_event: Literal["stage-complete", "stage-blocked", "stage-escalated"]
    test_gate_exception: str | None = Field(
        default=None, description="Why the test gate was skipped (acknowledged exceptions)."
    )
    spend: PlanSpend = Field(
        default_factory=PlanSpend,
        description="What the agent calls spent: totals against the budgets, per phase, per call.",
    )
    plan_id: str
    run_id: str
    written_at: datetime

    @model_validator(mode="after")
    def _invariants(self) -> CompletionContract:
        problems = completion_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def completion_problems(c: CompletionContract) -> list[str]:
    """Why the contract is invalid (the seed's invariants), one message each."""
    problems = []
    members = [m.member for m in c.member_delegations]
    if sorted(members) != sorted(MEMBERS):
        problems.append(f"member_delegations: need exactly one entry per member {MEMBERS}")
    expected_event = f"stage-{c.execution_status.value}"
    if c.stage_event != expected_event:
        problems.append(f"stage_event: {c.stage_event} does not match {expected_event}")
    if c.execution_status is ExecutionStatus.ESCALATED and c.escalations == NONE:
        problems.append("escalations: an escalated run names its escalations")
    if c.execution_status is ExecutionStatus.COMPLETE:
        missing = [
            m.member
            for m in c.member_delegations
            if m.session_ids == NONE and not (m.outcome == "exception" and c.test_gate_exception)
        ]
        if missing:
            problems.append(f"member_delegations: no session id for {', '.join(missing)}")
        if c.test_commit_hashes == NONE and not c.test_gate_exception:
            problems.append("test_commit_hashes: none, but the test gate had no exception")
        if c.implementation_commit_hashes == NONE:
            problems.append("implementation_commit_hashes: complete needs implementation commits")
        if c.validation_report_path == NONE:
            problems.append("validation_report_path: complete needs a validation report")
        if c.requirement_coverage != "full":
            problems.append("requirement_coverage: complete needs full coverage")
        if isinstance(c.open_issues, list) and any(
            i.severity is Severity.CRITICAL for i in c.open_issues
        ):
            problems.append("open_issues: a critical issue is open; escalate it, not complete")
    return problems

"""Op runs: one operator run against one project in one mode, grounded in its checks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from runwright.domain.evidence import EvidenceLink
from runwright.domain.execmodel.checks import CheckResult, CheckStatus, worst
from runwright.domain.execmodel.classifier import ModeSource
from runwright.domain.execmodel.modes import ModeId
from runwright.domain.execmodel.operators import FailureAction, FailureTrigger
from runwright.domain.execmodel.patterns import PatternVerdict
from runwright.domain.execmodel.stoprules import FiredStopRule
from runwright.domain.ids import Ulid

#: Exactly one project: a single non-empty name (no list, no comma-separated names).
ProjectId = Annotated[str, StringConstraints(pattern=r"^[^,\n\r]+$", max_length=200)]


def one_line(value: str | None, *, field: str = "next_pointer") -> str | None:
    """``value`` stripped; raise ValueError if it spans several lines (None stays None)."""
    if value is None:
        return None
    if "\n" in value.strip() or "\r" in value.strip():
        raise ValueError(f"{field} must be a single line")
    return value.strip() or None


def grounded_result(results: list[CheckResult], *, over_timebox: bool = False) -> CheckStatus:
    """The result the checks support: worst of them; FAIL when over the timebox or unchecked."""
    if over_timebox:
        return CheckStatus.FAIL
    return worst(r.status for r in results) or CheckStatus.FAIL


class FailurePathTaken(BaseModel):
    """The failure path the engine followed after a failed run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    when: FailureTrigger
    action: FailureAction
    check: str | None = None
    to_mode: ModeId | None = None
    note: str = ""
    attempt: int = Field(default=1, ge=1, description="For retry: which retry this is.")
    retry_run_id: Ulid | None = None
    debug_packet_id: Ulid | None = None


class Counting(BaseModel):
    """Whether an op run counts, and why not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    counts: bool
    reasons: list[str] = Field(default_factory=list)
    pattern_gaps: list[str] = Field(
        default_factory=list,
        description="Evidence-pattern items still missing (reported; they do not stop counting).",
    )


class OpRun(BaseModel):
    """An instance of running an operator against a project in a chosen mode."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # the seed's fields
    op_id: str = Field(min_length=1)
    project_id: ProjectId
    mode_id: ModeId
    timestamp_start: datetime
    timestamp_end: datetime | None = None
    inputs_used: dict[str, Any] = Field(default_factory=dict)
    outputs_written: list[str] = Field(default_factory=list)
    acceptance_results: list[CheckResult] = Field(default_factory=list)
    result: CheckStatus
    evidence_links: list[EvidenceLink] = Field(default_factory=list)
    next_pointer: str | None = Field(default=None, description="One line: what to do next.")
    # runwright's
    run_id: Ulid
    mode_source: ModeSource = ModeSource.OPERATOR
    block_id: Ulid | None = None
    over_timebox: bool = False
    evidence_pattern: PatternVerdict | None = None
    stop_rules_fired: list[FiredStopRule] = Field(default_factory=list)
    failure_path: FailurePathTaken | None = None
    retry_of: Ulid | None = None

    @field_validator("next_pointer")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return one_line(value)

    @model_validator(mode="after")
    def _result_is_grounded(self) -> OpRun:
        expected = grounded_result(self.acceptance_results, over_timebox=self.over_timebox)
        if self.result != expected:
            failing = [
                f"{r.check_id}={r.status}"
                for r in self.acceptance_results
                if r.status != CheckStatus.PASS
            ]
            why = ", ".join(failing) or ("over timebox" if self.over_timebox else "no checks")
            raise ValueError(
                f"result {self.result} contradicts the acceptance results ({why}): "
                f"the checks support {expected}"
            )
        return self

    def counting(self) -> Counting:
        """A run counts only with evidence and a next pointer (SPEC §3); what its mode's evidence
        pattern still misses is listed beside, so the gap is visible without hiding the run."""
        reasons = []
        if not self.evidence_links:
            reasons.append("no evidence links")
        if not self.next_pointer:
            if self.over_timebox:
                reasons.append("over its timebox: needs a next pointer (reschedule or re-scope)")
            else:
                reasons.append("no next pointer")
        gaps = list(self.evidence_pattern.missing) if self.evidence_pattern is not None else []
        return Counting(counts=not reasons, reasons=reasons, pattern_gaps=gaps)

"""Stop rules, evaluated: given what a run (or a debug packet) shows, which rules fire."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.execmodel.checks import CheckType
from runwright.domain.execmodel.modes import StopAction, StopRule, StopTrigger
from runwright.domain.limits import Minutes


class Thresholds(BaseModel):
    """Configurable thresholds of the stop rules (``[execmodel]`` in config.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    debug_minutes: Minutes = Field(default=40.0, description="The ~40-minute rule.")
    max_hypotheses: int = Field(default=3, ge=1, description="Hypotheses per debug packet.")


class StopFacts(BaseModel):
    """What the engine knows when it evaluates the stop rules; None means "not applicable"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode_id: str | None = None
    over_timebox: bool = False
    failing_minutes: float | None = Field(
        default=None, description="How long work in this mode has been failing (no PASS since)."
    )
    has_repro: bool = False
    hypotheses: int | None = None
    missing_evidence: list[str] | None = None
    passed_check_types: list[CheckType] | None = None


class FiredStopRule(BaseModel):
    """A stop rule that fired, with why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    mode_id: str | None
    when: str
    then: str
    action: StopAction
    detail: str
    switch_to: list[str] = Field(default_factory=list)


def _fires(rule: StopRule, facts: StopFacts, limits: Thresholds) -> str | None:
    match rule.trigger:
        case StopTrigger.OVER_TIMEBOX:
            return "the run went over its timebox" if facts.over_timebox else None
        case StopTrigger.FAILING_WITHOUT_REPRO:
            minutes = facts.failing_minutes
            if minutes is None or facts.has_repro or minutes < limits.debug_minutes:
                return None
            return (
                f"failing for {minutes:.0f} min (threshold {limits.debug_minutes:g}) "
                "without a minimal repro"
            )
        case StopTrigger.HYPOTHESES_OVER:
            n = facts.hypotheses
            if n is None or n <= limits.max_hypotheses:
                return None
            return f"{n} hypotheses (more than {limits.max_hypotheses}) without narrowing"
        case StopTrigger.MISSING_EVIDENCE:
            if facts.missing_evidence is None:
                return None
            gone = [i for i in rule.items if i in facts.missing_evidence]
            return f"missing evidence: {', '.join(gone)}" if gone else None
        case StopTrigger.NO_PASSING_CHECK:
            if facts.passed_check_types is None:
                return None
            if any(t in facts.passed_check_types for t in rule.check_types):
                return None
            return "no passing " + " or ".join(str(t) for t in rule.check_types) + " check"
    return None  # pragma: no cover - every trigger is handled above


def evaluate(
    rules: Iterable[StopRule], facts: StopFacts, limits: Thresholds | None = None
) -> list[FiredStopRule]:
    """The rules among ``rules`` that fire on ``facts``, in order."""
    limits = limits or Thresholds()
    fired = []
    for rule in rules:
        detail = _fires(rule, facts, limits)
        if detail is not None:
            fired.append(
                FiredStopRule(
                    rule_id=rule.rule_id,
                    mode_id=rule.mode_id,
                    when=rule.when,
                    then=rule.then,
                    action=rule.action,
                    detail=detail,
                    switch_to=list(rule.switch_to),
                )
            )
    return fired

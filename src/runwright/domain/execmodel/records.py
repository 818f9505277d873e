"""Stored records of the execution model that are not artifacts of the seed themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.execmodel.checks import CheckResult, CheckStatus
from runwright.domain.execmodel.classifier import ModeSource
from runwright.domain.execmodel.modes import StopAction
from runwright.domain.execmodel.opruns import FailurePathTaken
from runwright.domain.execmodel.patterns import PatternFacts
from runwright.domain.execmodel.stoprules import FiredStopRule
from runwright.domain.ids import Ulid


class StopRuleFiring(BaseModel):
    """A stop rule that fired, recorded with what it concerned (a run, a block, a packet)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    firing_id: Ulid
    rule_id: str
    mode_id: str | None = None
    project_id: str
    run_id: Ulid | None = None
    block_id: Ulid | None = None
    packet_id: Ulid | None = None
    action: StopAction
    detail: str
    then: str
    fired_at: datetime


class OpRunRecord(BaseModel):
    """The execution model's row about an operator run (the core run holds the rest)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: Ulid
    op_id: str
    project_id: str
    mode_id: str
    mode_source: ModeSource
    block_id: Ulid | None = None
    timestamp_start: datetime
    timestamp_end: datetime | None = None
    inputs_used: dict[str, Any] = Field(default_factory=dict)
    outputs_written: list[str] = Field(default_factory=list)
    acceptance_results: list[CheckResult] = Field(default_factory=list)
    result: CheckStatus | None = None
    pattern: PatternFacts | None = None
    stop_rules: list[FiredStopRule] = Field(default_factory=list)
    failure_path: FailurePathTaken | None = None
    over_timebox: bool = False
    finalized: bool = False
    retry_of: Ulid | None = None

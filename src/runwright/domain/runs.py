"""Runs and step attempts (UET run_record and step_attempt, plus the engine's fields)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runwright.domain.failures import Failure
from runwright.domain.ids import Ulid
from runwright.domain.states import RunState, StepState


class TriggerType(StrEnum):
    """What started a run (UET origin.trigger_type)."""

    MANUAL = "manual"
    CI = "ci"
    ERROR_PIPELINE = "error_pipeline"
    SCHEDULED = "scheduled"
    OTHER = "other"


class RunKind(StrEnum):
    """What a run executes. ``job`` is a Python durable job; the rest are later parts."""

    JOB = "job"
    OPERATOR = "operator"
    PLAN = "plan"
    PLAN_PHASE = "plan_phase"
    PRODUCER = "producer"
    CONSUMER = "consumer"
    PATCH = "patch"
    BOOTSTRAP = "bootstrap"


class Origin(BaseModel):
    """Who or what asked for the run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trigger_type: TriggerType = TriggerType.MANUAL
    trigger_ref: str | None = None
    requested_by: str | None = None


class Counters(BaseModel):
    """Running totals kept on the run record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    step_attempts: int = Field(default=0, ge=0)
    patches_created: int = Field(default=0, ge=0)
    patches_applied: int = Field(default=0, ge=0)
    errors: int = Field(default=0, ge=0)


class Run(BaseModel):
    """One execution of something: a job, an operator, a plan, a consumer…"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # UET run_record fields
    run_id: Ulid
    project_id: str = Field(min_length=1)
    phase_id: str | None = None
    workstream_id: str | None = None
    execution_request_id: str | None = None
    state: RunState
    state_reason: str | None = None
    origin: Origin = Field(default_factory=Origin)
    counters: Counters = Field(default_factory=Counters)
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    # runwright fields
    kind: RunKind = RunKind.JOB
    job_name: str = Field(min_length=1, description="Registered name of the job to execute.")
    job_module: str | None = Field(default=None, description="Module that registers the job.")
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    parent_run_id: Ulid | None = None
    depends_on: list[Ulid] = Field(default_factory=list)
    max_parallel: int | None = Field(default=None, ge=1)
    idempotency_key: str | None = None
    result: Any = None
    failure: Failure | None = None
    next_pointer: str | None = None
    mode_id: str | None = None
    block_id: str | None = None
    attempt: int = Field(default=0, ge=0, description="How many times a worker has claimed it.")
    available_at: datetime | None = Field(
        default=None, description="When a worker may claim it; None while it waits on a name."
    )
    wake_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    cancel_requested: bool = False
    timeout_seconds: float | None = Field(default=None, gt=0)
    deadline_at: datetime | None = None
    manifest_path: str | None = None
    manifest_sha256: str | None = None
    event_seq: int = Field(default=0, ge=0)
    last_event_hash: str | None = None

    @field_validator("next_pointer")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or "\r" in value):
            raise ValueError("next_pointer must be a single line")
        return value


class StepOutputs(BaseModel):
    """What a step attempt produced (UET step_attempt.outputs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patch_ids: list[Ulid] = Field(default_factory=list)
    logs_path: str | None = None
    raw_response_path: str | None = None

    @field_validator("patch_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("patch_ids must be unique")
        return value


class StepAttempt(BaseModel):
    """One bounded try at a step of a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # UET step_attempt fields
    step_attempt_id: Ulid
    run_id: Ulid
    sequence: int = Field(ge=1, description="1, 2, 3… across the run's attempts.")
    tool_id: str = Field(min_length=1)
    state: StepState
    started_at: datetime
    ended_at: datetime | None = None
    tool_run_id: str | None = None
    execution_request_id: str | None = None
    prompt_id: str | None = None
    outputs: StepOutputs = Field(default_factory=StepOutputs)
    # runwright fields
    step_key: str = Field(min_length=1)
    attempt: int = Field(ge=1, description="1 for the first try of this step_key.")
    idempotent: bool = False
    failure: Failure | None = None
    worker_id: str | None = None


class StepResult(BaseModel):
    """The memo of a finished step: never executed again once this exists."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: Ulid
    step_key: str
    status: str = Field(pattern="^(completed|failed)$")
    result: Any = None
    failure: Failure | None = None
    step_attempt_id: Ulid
    completed_at: datetime


class RunListing(Run):
    """A run as ``runwright run list --json`` prints it: the run record and its subject."""

    subject: str | None = Field(
        default=None,
        description="What the run is about: an operator, a plan, plan/phase, a tool and phase…",
    )

"""The Store interface: every method is one transaction, and no connection leaks out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runwright.domain.evidence import EvidenceLink
from runwright.domain.ids import new_id
from runwright.domain.runs import Origin, Run, RunKind, StepAttempt, StepResult
from runwright.domain.states import RunState

#: Work done inside the transaction that records a run's success (it gets that transaction's
#: connection): a part built on the engine commits its own state with the run's end.
Finisher = Callable[[Any], object]


class FinisherFailed(Exception):
    """A finisher raised: nothing of the finishing transaction was kept; ``cause`` says why."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True, slots=True)
class NewRun:
    """What it takes to create a run."""

    job_name: str
    project_id: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    job_module: str | None = None
    kind: RunKind = RunKind.JOB
    origin: Origin = field(default_factory=Origin)
    parent_run_id: str | None = None
    depends_on: tuple[str, ...] = ()
    max_parallel: int | None = None
    idempotency_key: str | None = None
    phase_id: str | None = None
    workstream_id: str | None = None
    execution_request_id: str | None = None
    mode_id: str | None = None
    block_id: str | None = None
    timeout_seconds: float | None = None
    start_at: datetime | None = None
    run_id: str = field(default_factory=new_id)


@dataclass(slots=True)
class Lease:
    """A worker's claim on a run; every write under it is fenced by (owner, attempt)."""

    run_id: str
    worker_id: str
    attempt: int
    expires_at: datetime
    event_seq: int
    last_event_hash: str
    parent_run_id: str | None = None
    step_sequence: int = 0


@dataclass(frozen=True, slots=True)
class Claim:
    """A run a worker just claimed, with its lease."""

    run: Run
    lease: Lease
    took_over_from: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """Who wants the next run, for how long, and of which jobs (None: any job)."""

    worker_id: str
    lease_seconds: float
    jobs: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class LeaseStatus:
    """What a lease renewal found."""

    held: bool
    cancel_requested: bool = False


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """A worker process as recorded in the store."""

    worker_id: str
    hostname: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    version: str
    stopped_at: datetime | None = None
    current_run_id: str | None = None
    jobs: tuple[str, ...] | None = None  # the jobs it claims runs of (None: any)


@dataclass(frozen=True, slots=True)
class HeldLease:
    """A running run's live lease and the worker holding it (None: an unregistered one)."""

    run_id: str
    job_name: str
    owner: str
    expires_at: datetime
    worker: WorkerInfo | None


@dataclass(frozen=True, slots=True)
class StrandedRun:
    """A run that is neither progressing nor waiting on something named."""

    run_id: str
    state: RunState
    job_name: str
    problem: str
    hint: str


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs a listing wants; every field narrows."""

    states: tuple[str, ...] = ()
    kind: str | None = None
    job_name: str | None = None
    project_id: str | None = None
    parent_run_id: str | None = None
    search: str | None = None
    reason: str | None = None
    before_run_id: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """How a step attempt ended, for ``finish_step``."""

    attempt: StepAttempt
    memo: StepResult | None = None
    evidence: tuple[EvidenceLink, ...] = ()
    begun: bool = False
    retry_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

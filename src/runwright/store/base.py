"""The Store interface: every method is one transaction, and no connection leaks out."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from runwright.domain.events import EventKind, RunEvent, StoredEvent
from runwright.domain.evidence import EvidenceLink
from runwright.domain.failures import Failure
from runwright.domain.ids import new_id
from runwright.domain.runs import Origin, Run, RunKind, StepAttempt, StepResult
from runwright.domain.states import RunState
from runwright.store.chain import NewEvent

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


class Store(Protocol):
    """Every durable operation the engine needs, each in one transaction."""

    # runs
    def create_run(self, spec: NewRun, now: datetime) -> Run: ...
    def create_runs(self, specs: list[NewRun], now: datetime) -> list[str]: ...
    def get_run(self, run_id: str) -> Run: ...
    def get_runs(self, run_ids: list[str]) -> list[Run]: ...
    def list_runs(self, flt: RunFilter) -> list[Run]: ...
    def count_runs_by_state(self, project_id: str | None = None) -> dict[str, int]: ...
    def dependencies(self, run_id: str) -> list[str]: ...
    def request_cancel(self, run_id: str, now: datetime, *, by: str) -> Run: ...
    def set_next_pointer(
        self, run_id: str, next_pointer: str, now: datetime, *, by: str
    ) -> Run: ...
    def append_event(
        self,
        run_id: str,
        kind: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        step_attempt_id: str | None = None,
    ) -> RunEvent: ...
    def list_events(
        self, run_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[RunEvent]: ...
    def list_stored_events(self, run_id: str) -> list[StoredEvent]: ...
    def list_step_attempts(self, run_id: str) -> list[StepAttempt]: ...
    def list_evidence(self, run_id: str) -> list[EvidenceLink]: ...
    def add_evidence(self, run_id: str, links: list[EvidenceLink], now: datetime) -> None: ...

    # worker side
    def pinned(self) -> AbstractContextManager[None]:
        """While the block runs, this thread's transactions reuse one connection."""
        ...

    def claim_run(
        self,
        worker_id: str,
        now: datetime,
        lease_seconds: float,
        *,
        jobs: tuple[str, ...] | None = None,
    ) -> Claim | None: ...
    def renew_lease(self, lease: Lease, now: datetime, lease_seconds: float) -> LeaseStatus: ...
    def load_progress(
        self, run_id: str
    ) -> tuple[dict[str, StepResult], dict[str, StepAttempt], dict[str, int], dict[str, int]]: ...
    def begin_step(self, lease: Lease, attempt: StepAttempt, now: datetime) -> None: ...
    def finish_step(self, lease: Lease, outcome: StepOutcome, now: datetime) -> None: ...
    def finish_steps(self, lease: Lease, outcomes: list[StepOutcome], now: datetime) -> None: ...
    def start_children(
        self, lease: Lease, step_key: str, specs: list[NewRun], now: datetime
    ) -> list[str]: ...
    def park_run(
        self,
        lease: Lease,
        now: datetime,
        *,
        reason: str,
        wake_at: datetime | None = None,
        wait_for: list[str] | None = None,
        payload: dict[str, Any] | None = None,
        extra_events: list[NewEvent] | None = None,
        claim_next: ClaimRequest | None = None,
    ) -> Claim | None: ...
    def resolve_step(
        self, run_id: str, step_key: str, action: str, now: datetime, *, by: str, result: Any = None
    ) -> Run: ...
    def finish_run(
        self,
        lease: Lease,
        now: datetime,
        *,
        state: RunState,
        result: Any = None,
        failure: Failure | None = None,
        reason: str | None = None,
        manifest: tuple[str, str] | None = None,
        claim_next: ClaimRequest | None = None,
        finisher: Finisher | None = None,
        steps: list[StepOutcome] | None = None,
    ) -> Claim | None: ...
    def release_run(self, lease: Lease, now: datetime) -> None: ...
    def append_leased_event(
        self, lease: Lease, kind: EventKind, payload: dict[str, Any], now: datetime
    ) -> None: ...

    # workers and health
    def register_worker(self, info: WorkerInfo) -> None: ...
    def heartbeat_worker(
        self,
        worker_id: str,
        now: datetime,
        current_run_id: str | None,
        *,
        jobs: tuple[str, ...] | None = None,
    ) -> None: ...
    def stop_worker(self, worker_id: str, now: datetime) -> None: ...
    def list_workers(self, *, alive_since: datetime | None = None) -> list[WorkerInfo]: ...
    def ready_unknown_jobs(
        self,
        now: datetime,
        known: tuple[str, ...],
        *,
        skip_modules: tuple[str, ...] = (),
        limit: int = 20,
    ) -> list[tuple[str, str | None]]: ...
    def held_leases(
        self, now: datetime, *, jobs: tuple[str, ...] | None = None
    ) -> list[HeldLease]: ...
    def find_stranded(
        self, now: datetime, *, worker_timeout: float, limit: int = 500
    ) -> list[StrandedRun]: ...
    def close(self) -> None: ...

"""The client: the one facade the CLI, the dashboard and user code all use."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runwright.api.doctor import DoctorReport, diagnose
from runwright.api.verify import VerifyReport, verify_run
from runwright.config import Settings, load_settings
from runwright.domain.events import RunEvent
from runwright.domain.evidence import EvidenceLink
from runwright.domain.runs import Origin, Run, StepAttempt, TriggerType
from runwright.domain.states import TERMINAL_RUN_STATES
from runwright.engine.clock import Clock, SystemClock
from runwright.engine.registry import job_def
from runwright.engine.worker import Worker
from runwright.errors import RunwrightError
from runwright.store.blobs import BlobStore
from runwright.store.core import NewRun, RunFilter, StrandedRun, SystemDatabase, open_store
from runwright.store.database import Database

if TYPE_CHECKING:
    from runwright.api.ops import OpsClient
    from runwright.api.patches import PatchesClient
    from runwright.api.plans import PlansClient
    from runwright.api.workflows import WorkflowsClient


def whoami() -> str:
    """The name recorded as ``requested_by`` / ``by`` for actions from this process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Client:
    """Start, list, inspect, cancel and resolve runs; run workers in-process."""

    def __init__(self, store: SystemDatabase, settings: Settings, *, clock: Clock | None = None):
        self.store = store
        self.settings = settings
        self.clock = clock or SystemClock()
        self.blobs = BlobStore(settings.evidence_dir)

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        migrate: bool | None = None,
        **overrides: Any,
    ) -> Client:
        """Open the project's store (creating and migrating it if allowed)."""
        settings = settings or load_settings(overrides=overrides)
        return cls(open_store(settings, migrate=migrate), settings, clock=clock)

    def close(self) -> None:
        """Release database connections."""
        self.store.close()

    # ---- the parts --------------------------------------------------------------------
    @cached_property
    def ops(self) -> OpsClient:
        """The execution model: modes, blocks, operators, op runs, debug packets."""
        from runwright.api.ops import OpsClient

        return OpsClient(self)

    @cached_property
    def workflows(self) -> WorkflowsClient:
        """Event workflows: topics, events, inputs, mutations, the scheduler."""
        from runwright.api.workflows import WorkflowsClient

        return WorkflowsClient(self)

    @cached_property
    def patches(self) -> PatchesClient:
        """Patches, the patch ledger, routing and agent tools."""
        from runwright.api.patches import PatchesClient

        return PatchesClient(self)

    @cached_property
    def plans(self) -> PlansClient:
        """Plans: run, status, decisions, the completion contract."""
        from runwright.api.plans import PlansClient

        return PlansClient(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- starting runs ----------------------------------------------------------------
    def _new_run(
        self,
        job: Callable[..., Any] | str,
        args: Iterable[Any],
        kwargs: dict[str, Any] | None,
        *,
        idempotency_key: str | None,
        max_parallel: int | None,
        timeout: float | None,
        depends_on: Iterable[str],
        origin: Origin | None,
        project_id: str | None,
        mode_id: str | None = None,
        block_id: str | None = None,
        phase_id: str | None = None,
    ) -> NewRun:
        jd = job_def(job)
        return NewRun(
            job_name=jd.name,
            job_module=jd.module,
            args=list(args),
            kwargs=dict(kwargs or {}),
            project_id=project_id or self.settings.project_id,
            kind=jd.kind,
            origin=origin or Origin(trigger_type=TriggerType.MANUAL, requested_by=whoami()),
            depends_on=tuple(depends_on),
            max_parallel=max_parallel if max_parallel is not None else jd.max_parallel,
            idempotency_key=idempotency_key,
            timeout_seconds=timeout if timeout is not None else jd.timeout_seconds,
            mode_id=mode_id,
            block_id=block_id,
            phase_id=phase_id,
        )

    def start(
        self,
        job: Callable[..., Any] | str,
        *args: Any,
        kwargs: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        max_parallel: int | None = None,
        timeout: float | None = None,
        depends_on: Iterable[str] = (),
        origin: Origin | None = None,
        project_id: str | None = None,
        mode_id: str | None = None,
        block_id: str | None = None,
        phase_id: str | None = None,
    ) -> Run:
        """Start a run of ``job`` with ``args``; returns the pending run.

        With an ``idempotency_key``, starting the same key twice returns the first run.
        """
        spec = self._new_run(
            job,
            args,
            kwargs,
            idempotency_key=idempotency_key,
            max_parallel=max_parallel,
            timeout=timeout,
            depends_on=depends_on,
            origin=origin,
            project_id=project_id,
            mode_id=mode_id,
            block_id=block_id,
            phase_id=phase_id,
        )
        return self.store.create_run(spec, self.clock.now())

    def start_many(
        self, job: Callable[..., Any] | str, arg_lists: Iterable[Iterable[Any]]
    ) -> list[str]:
        """Enqueue many runs of one job in a single transaction; return their ids."""
        specs = [
            self._new_run(
                job,
                args,
                None,
                idempotency_key=None,
                max_parallel=None,
                timeout=None,
                depends_on=(),
                origin=None,
                project_id=None,
            )
            for args in arg_lists
        ]
        return self.store.create_runs(specs, self.clock.now())

    # ---- reading ----------------------------------------------------------------------
    def get(self, run_id: str) -> Run:
        """One run."""
        return self.store.get_run(run_id)

    def list_runs(self, flt: RunFilter | None = None, **filters: Any) -> list[Run]:
        """Runs, newest first (``states=('failed',)``, ``kind=``, ``search=``, ``limit=``…)."""
        return self.store.list_runs(flt or RunFilter(**filters))

    def counts(self) -> dict[str, int]:
        """Runs per state."""
        return self.store.count_runs_by_state()

    def events(
        self, run_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[RunEvent]:
        """A run's event log."""
        self.store.get_run(run_id)
        return self.store.list_events(run_id, after_seq=after_seq, limit=limit)

    def steps(self, run_id: str) -> list[StepAttempt]:
        """A run's step attempts."""
        return self.store.list_step_attempts(run_id)

    def evidence(self, run_id: str) -> list[EvidenceLink]:
        """A run's evidence links."""
        return self.store.list_evidence(run_id)

    def children(self, run_id: str, *, limit: int = 1000) -> list[Run]:
        """A run's child runs."""
        return self.store.list_runs(RunFilter(parent_run_id=run_id, limit=limit))

    # ---- acting -----------------------------------------------------------------------
    def cancel(self, run_id: str, *, by: str | None = None) -> Run:
        """Cancel a run and its children (a running run stops at its next step or sooner)."""
        return self.store.request_cancel(run_id, self.clock.now(), by=by or whoami())

    def resolve_step(
        self, run_id: str, step_key: str, action: str, *, result: Any = None, by: str | None = None
    ) -> Run:
        """Settle a step whose outcome is unknown: ``rerun``, ``mark-done`` or ``fail``."""
        return self.store.resolve_step(
            run_id, step_key, action, self.clock.now(), by=by or whoami(), result=result
        )

    def set_next_pointer(self, run_id: str, next_pointer: str, *, by: str | None = None) -> Run:
        """Record a run's one-line next pointer."""
        return self.store.set_next_pointer(
            run_id, next_pointer, self.clock.now(), by=by or whoami()
        )

    def verify(self, run_id: str) -> VerifyReport:
        """Re-hash a run's evidence and check its event chain."""
        return verify_run(self.store, self.blobs, run_id)

    def doctor(self) -> DoctorReport:
        """Health of the store, the schema, the workers, and any stranded run."""
        return diagnose(
            self.store.db, self.store, self.clock, lease_seconds=self.settings.lease_seconds
        )

    def stranded(self) -> list[StrandedRun]:
        """Runs neither progressing nor waiting on something named."""
        return self.store.find_stranded(
            self.clock.now(), worker_timeout=self.settings.lease_seconds * 2
        )

    # ---- workers ----------------------------------------------------------------------
    def worker(self, **options: Any) -> Worker:
        """A worker bound to this client's store and settings."""
        options.setdefault("lease_seconds", self.settings.lease_seconds)
        options.setdefault("poll_seconds", self.settings.poll_seconds)
        options.setdefault("clock", self.clock)
        options.setdefault("settings", self.settings)
        return Worker(
            self.store,
            evidence_dir=self.settings.evidence_dir,
            project_root=self.settings.project_root,
            **options,
        )

    def run_until_idle(self) -> int:
        """Execute in this process until nothing is ready; return how many runs were claimed."""
        return self.worker(register=False).run(until_idle=True).claimed

    def wait(self, run_id: str, *, timeout: float = 60.0, work: bool = True) -> Run:
        """Wait for a run to end, executing ready work in this process while waiting."""
        deadline = time.monotonic() + timeout
        worker = self.worker(register=False) if work else None
        while True:
            run = self.get(run_id)
            if run.state in TERMINAL_RUN_STATES:
                return run
            if time.monotonic() > deadline:
                raise RunwrightError(
                    f"run {run_id} is still {run.state.value} after {timeout:.0f}s",
                    hint="look at it with `runwright run show`",
                    run_id=run_id,
                )
            did = worker.run_once(prefetch=False) if worker is not None else False
            if not did:
                time.sleep(min(self.settings.poll_seconds, 0.2))


def open_database(settings: Settings) -> Database:
    """A bare database handle (no migration), for `db` and `doctor` commands."""
    return Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)


def evidence_root(settings: Settings) -> Path:
    """Where evidence lives for these settings."""
    return settings.evidence_dir

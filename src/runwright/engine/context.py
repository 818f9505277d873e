"""The job context: what a job's code uses to run durable steps, children, waits and sleeps.

A job function is re-executed from the top whenever a worker picks its run up again; every
``ctx.step`` whose result is memoized returns that result without running again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from runwright.domain.failures import Failure
from runwright.domain.reconcile import ReconcileResult
from runwright.domain.retry import RetryPolicy
from runwright.domain.runs import Run, StepResult
from runwright.domain.states import TERMINAL_RUN_STATES, RunState, StateReason
from runwright.engine.clock import Clock
from runwright.engine.evidence import EvidenceWriter
from runwright.engine.interrupts import Interrupter
from runwright.engine.registry import job_def
from runwright.engine.stepper import StepRunner, Suspended
from runwright.errors import StepFailed, ValidationError
from runwright.store.core import Finisher, Lease, NewRun, SystemDatabase

log = logging.getLogger(__name__)


class ChildFailed(StepFailed):
    """A child run this job waited on did not succeed."""

    code = "child_failed"


@dataclass
class ChildSpec:
    """A child run to start: which job, with what arguments, after which runs."""

    job: Callable[..., Any] | str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    depends_on: Sequence[str | ChildSpec] = ()
    idempotency_key: str | None = None
    run_id: str | None = None


class JobContext:
    """Handed to every job function as its first argument."""

    def __init__(self, runner: StepRunner, run: Run, lease: Lease, evidence: EvidenceWriter):
        self._runner = runner
        self.run = run
        self._lease = lease
        self.evidence = evidence
        self.finisher: Finisher | None = None

    def finish_with(self, finisher: Finisher) -> None:
        """Run ``finisher(conn)`` inside the transaction that records this run's success.

        For parts of runwright built on the engine (a workflow run commits its own state
        there: one transaction instead of two). Call it last, just before returning; if the
        job raises instead, it is not run. If it raises, the run ends as if the job had raised
        that exception. (Work a part does at every end of its runs, whatever the way they end,
        is a run-end hook instead: ``runwright.store.core.run_end``.)
        """
        self.finisher = finisher

    @property
    def run_id(self) -> str:
        """This run's id."""
        return self.run.run_id

    @property
    def attempt(self) -> int:
        """How many times a worker has picked this run up (1 on the first execution)."""
        return self.run.attempt

    def now(self) -> datetime:
        """The engine's clock (use it instead of datetime.now() in job code)."""
        return self._runner.clock.now()

    @property
    def clock(self) -> Clock:
        """The engine's clock itself (for code that needs to wait or compute deadlines)."""
        return self._runner.clock

    @property
    def store(self) -> SystemDatabase:
        """The store this run lives in (for parts of runwright built on the engine)."""
        return self._runner.store

    @property
    def lease(self) -> Lease:
        """This execution's lease: writes fenced by it fail once another worker took over."""
        return self._lease

    @property
    def interrupter(self) -> Interrupter:
        """What stops this run's steps (timeouts, cancel, a lost lease)."""
        return self._runner.interrupter

    def step(
        self,
        key: str,
        fn: Callable[..., Any],
        *args: Any,
        kwargs: dict[str, Any] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        reconcile: Callable[..., ReconcileResult] | None = None,
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` once, durably: its result is memoized under ``key``.

        A step that already completed returns its stored result; one that failed for good
        raises StepFailed again. Options override what ``@runwright.step`` declared.
        """
        return self._runner.run_step(
            key,
            fn,
            args,
            kwargs or {},
            overrides={
                "idempotent": idempotent,
                "timeout": timeout,
                "retry": retry,
                "reconcile": reconcile,
            },
        )

    def attach(
        self,
        key: str,
        source: Path | str | bytes,
        *,
        name: str | None = None,
        label: str | None = None,
    ) -> str:
        """Store a file or bytes as evidence of this run, exactly once; return its sha256."""

        def _attach() -> str:
            link = self.evidence.attach(source, name=name, label=label)
            return link.sha256

        return str(
            self._runner.run_step(
                key, _attach, (), {}, overrides={"idempotent": True, "tool_id": "runwright.attach"}
            )
        )

    def start_children(self, key: str, children: Sequence[ChildSpec]) -> list[str]:
        """Start child runs (a DAG through ``depends_on``) once; return their run ids."""
        memo = self._runner.memo.get(key)
        if memo is not None:
            return [str(i) for i in memo.result]
        self._runner.check_boundary()
        self._runner.claim_key(key)
        from runwright.domain.ids import new_id

        for spec in children:
            spec.run_id = spec.run_id or new_id()
        specs: list[NewRun] = []
        for spec in children:
            jd = job_def(spec.job)
            deps = [d.run_id if isinstance(d, ChildSpec) else d for d in spec.depends_on]
            if any(d is None for d in deps):
                raise ValidationError(
                    "depends_on names a child that is not in this batch", field="depends_on"
                )
            specs.append(
                NewRun(
                    run_id=spec.run_id or new_id(),
                    job_name=jd.name,
                    job_module=jd.module,
                    args=list(spec.args),
                    kwargs=dict(spec.kwargs),
                    project_id=self.run.project_id,
                    kind=jd.kind,
                    parent_run_id=self.run.run_id,
                    depends_on=tuple(d for d in deps if d is not None),
                    max_parallel=jd.max_parallel,
                    idempotency_key=spec.idempotency_key,
                    timeout_seconds=jd.timeout_seconds,
                    mode_id=self.run.mode_id,
                    block_id=self.run.block_id,
                )
            )
        now = self._runner.clock.now()
        ids: list[str] = self._runner._record(
            self._runner.store.start_children, self._lease, key, specs, now
        )
        self._runner.memo[key] = StepResult(
            run_id=self.run.run_id,
            step_key=key,
            status="completed",
            result=ids,
            step_attempt_id=new_id(),
            completed_at=now,
        )
        return ids

    def start_child(
        self,
        key: str,
        job: Callable[..., Any] | str,
        *args: Any,
        depends_on: Sequence[str] = (),
        **kwargs: Any,
    ) -> str:
        """Start one child run once; return its run id."""
        return self.start_children(
            key, [ChildSpec(job=job, args=args, kwargs=kwargs, depends_on=depends_on)]
        )[0]

    def wait(self, *run_ids: str) -> list[Any]:
        """Wait until the given child runs end; return their results in order.

        The run parks (freeing the worker) until the last of them ends. Raises ChildFailed
        naming the first child that did not succeed.
        """
        ids = [i for group in run_ids for i in ([group] if isinstance(group, str) else group)]
        self._runner.check_boundary()
        runs = self._runner._record(self._runner.store.get_runs, ids)
        if len(runs) != len(ids):
            missing = set(ids) - {r.run_id for r in runs}
            raise ValidationError(f"wait() names unknown runs: {', '.join(sorted(missing))}")
        strangers = [r.run_id for r in runs if r.parent_run_id != self.run.run_id]
        if strangers:
            raise ValidationError(
                f"wait() can only wait on this run's children; not a child: {strangers[0]}",
                hint="start the runs to wait on with ctx.start_children / ctx.start_child",
            )
        open_ids = [r.run_id for r in runs if r.state not in TERMINAL_RUN_STATES]
        if open_ids:
            raise Suspended(StateReason.WAITING_CHILDREN, wait_for=ids)
        for r in runs:
            if r.state != RunState.SUCCEEDED:
                failure = r.failure or Failure(type="ChildRun", message=r.state_reason or r.state)
                raise ChildFailed(
                    f"child run {r.run_id} ({r.job_name}) ended {r.state.value}: {failure.message}",
                    failure_type=failure.type,
                    run_id=r.run_id,
                )
        return [r.result for r in runs]

    def sleep(self, key: str, seconds: float) -> None:
        """Sleep durably: the run parks and a worker resumes it after ``seconds``."""
        memo = self._runner.memo.get(key)
        if memo is None:
            wake = self._runner.clock.now() + timedelta(seconds=seconds)
            self._runner.run_step(
                key,
                wake.isoformat,
                (),
                {},
                overrides={"idempotent": True, "tool_id": "runwright.sleep"},
            )
            memo = self._runner.memo[key]
        wake_at = datetime.fromisoformat(str(memo.result))
        if self._runner.clock.now() < wake_at:
            raise Suspended(StateReason.WAITING_TIMER, wake_at=wake_at)

    def log(self, message: str, **fields: Any) -> None:
        """Write a note into the run's event log (not memoized: use sparingly)."""
        self._runner.note(message, fields)

"""Executing one handler run under the core's lease: phases, the mutation call, endings.

A handler run is a core run (kind producer or consumer) whose job function is here. Its own
row holds the phase and status; every transition is one fenced transaction. A run is never
resumed after it ended: a retry is a new run (a waiting run, paused for reconciliation, is
resumed when its mutation's fate is known).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn

from runwright.domain.states import StateReason
from runwright.domain.workflows.models import HandlerRun, Mutation, WorkflowRecord
from runwright.domain.workflows.mutations import MutationStatus, ResolvedBy
from runwright.domain.workflows.phases import (
    ENDED_STATUSES,
    HandlerType,
    MutationOutcome,
    Phase,
    RunStatus,
)
from runwright.domain.workflows.rules import ErrorClass, Step, clamp_wake
from runwright.engine import interrupts
from runwright.engine.context import JobContext
from runwright.engine.interrupts import Interrupt, Interrupter
from runwright.engine.stepper import EngineFault, Suspended
from runwright.errors import Cancelled, Conflict, LeaseLost, RunwrightError, StorageError
from runwright.store.core import Lease
from runwright.store.workflows import (
    CommitSpec,
    Ending,
    NewMutation,
    RunAborted,
    WorkflowStore,
    commit_in,
)
from runwright.workflows.authoring import Handler, Workflow
from runwright.workflows.context import HandlerContext, HostHooks, PhaseGuard, guarded
from runwright.workflows.errors import InternalError, MutationDone
from runwright.workflows.outcomes import (
    STEP_PHASE,
    HandlerRunEnded,
    ending_for,
    jsonable,
)
from runwright.workflows.prepared import MutationResult, Prepared
from runwright.workflows.reconciler import Reconciler
from runwright.workflows.schedule import next_run
from runwright.workflows.tools import Tool, takes_idempotency_key

log = logging.getLogger(__name__)


class AbortRun(BaseException):
    """The run must stop before its mutation (cancelled, or one of its events was skipped)."""


class CallOutcome:
    """What the mutation call did: its ledger row, and its result or exception."""

    def __init__(self, mutation: Mutation, result: Any = None, error: BaseException | None = None):
        self.mutation = mutation
        self.result = result
        self.error = error


def _engine(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A store call from inside handler code: failures must not be catchable by that code."""
    try:
        return call(*args, **kwargs)
    except (StorageError, LeaseLost) as exc:
        raise EngineFault(exc) from exc


class Host:
    """Runs one handler run."""

    def __init__(
        self,
        jctx: JobContext,
        ws: WorkflowStore,
        record: WorkflowRecord,
        wf: Workflow,
        handler: Handler,
        run: HandlerRun,
    ):
        self.jctx = jctx
        self.ws = ws
        self.record = record
        self.wf = wf
        self.handler = handler
        self.run = run
        self.run_id = run.run_id
        self.lease: Lease = jctx.lease
        self.interrupter: Interrupter = jctx.interrupter
        self.reconciler = Reconciler(self)
        self.title = ""

    def now(self) -> datetime:
        """The engine's clock."""
        return self.jctx.now()

    def reload(self) -> HandlerRun:
        """Re-read the run's row."""
        self.run = self.ws.handler_run(self.run_id)
        return self.run

    # ---- endings ----------------------------------------------------------------------
    def finish_failed(self, status: RunStatus, reason: str, message: str) -> NoReturn:
        """End the core run the way the handler run ended (after our own transaction)."""
        if status is RunStatus.CANCELED:
            raise Cancelled(self.run_id)
        raise HandlerRunEnded(status.value, reason, message, run_id=self.run_id)

    def end(self, ending: Ending) -> NoReturn:
        """End the run without committing; the workflow decides what follows."""
        ended = self.ws.end(self.lease, self.run_id, ending, self.now())
        self.finish_failed(ending.status, ended.reason, ending.error)

    def park(self, wake_at: datetime | None, mutation_id: str) -> NoReturn:
        """Wait (paused for reconciliation): until ``wake_at``, or for a person."""
        raise Suspended(
            StateReason.PAUSED_RECONCILIATION,
            wake_at=wake_at,
            payload={"mutation_id": mutation_id, "workflow": self.wf.name},
        )

    def committed(self) -> dict[str, Any]:
        """The core run's result."""
        return {"workflow": self.wf.name, "handler": self.handler.name, "status": "committed"}

    def commit(self, spec: CommitSpec, now: datetime) -> dict[str, Any]:
        """→ committed in the transaction that ends the core run (one commit, not two): the
        handler run and its core run end together or not at all. Returns the core run's
        result; an error in the commit ends the run as if it had been raised here."""
        lease, run_id = self.lease, self.run_id
        self.jctx.finish_with(lambda conn: commit_in(conn, lease, run_id, spec, now))
        return self.committed()

    # ---- calling handler code ---------------------------------------------------------
    def hooks(self) -> HostHooks:
        """What the phase guard may ask the host."""
        name = self.wf.name
        return HostHooks(
            peek=lambda topic, limit: _engine(self.ws.peek, name, topic, limit),
            get_by_ids=lambda topic, ids: _engine(self.ws.get_by_ids, name, topic, ids),
            find_input=lambda s, t, i: _engine(self.ws.find_input, name, s, t, i),
            log=lambda message, fields: self.jctx.log(message, **fields),
            mutate=self.make_mutation,
            now=self.now,
        )

    def call(
        self,
        step: Step,
        fn: Callable[..., Any],
        *args: Any,
        prepared: Prepared | None = None,
        timed: bool = True,
    ) -> tuple[Any, PhaseGuard]:
        """Call handler code for ``step`` under the phase guard (and its timeout)."""
        guard = PhaseGuard(
            workflow=self.wf,
            handler=self.handler,
            step=step,
            hooks=self.hooks(),
            reservations=prepared.reservations if prepared else None,
            title=prepared.title if prepared else "",
        )
        ctx = HandlerContext(guard, run_id=self.run_id, attempt=self.jctx.attempt)
        value: Any = None
        with guarded(guard):
            try:
                if timed:
                    with self.interrupter.guard(self.handler.timeout):
                        value = fn(ctx, *args)
                else:
                    value = fn(ctx, *args)
            except MutationDone:
                pass
        if guard.violation is not None:
            raise guard.violation
        return value, guard

    def failed_in(self, step: Step, exc: BaseException) -> NoReturn:
        """Handler code raised: classify by type and end the run."""
        if isinstance(exc, Interrupt) and exc.cause == interrupts.LEASE_LOST:
            if not self.ws.holds_lease(self.lease):
                raise EngineFault(LeaseLost(f"lease on run {self.run_id} lost", run_id=self.run_id))
            # A stale signal (the worker's heartbeat raced with the previous run's end): the
            # lease is ours, only this phase's code was interrupted; retry it in a new run.
            self.end(
                Ending(
                    RunStatus.PAUSED_TRANSIENT,
                    STEP_PHASE[step],
                    error=f"{step} was interrupted by a stale lease-lost signal",
                    error_type="Interrupted",
                    error_class=ErrorClass.TRANSIENT,
                )
            )
        self.end(ending_for(exc, step, timeout=self.handler.timeout))

    # ---- the mutation call ------------------------------------------------------------
    def make_mutation(
        self,
        tool: Tool,
        method: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        params: dict[str, Any],
        key: str,
    ) -> CallOutcome:
        """Ledger row first, then the call, then (on success) ``applied`` at once."""
        try:
            mutation = self.ws.start_mutation(
                self.lease,
                self.run_id,
                NewMutation(
                    tool_namespace=tool.namespace,
                    tool_method=method,
                    params=params,
                    idempotency_key=key,
                    ui_title=self.title,
                    can_reconcile=tool.can_reconcile(method),
                ),
                self.now(),
            )
        except RunAborted as exc:
            raise AbortRun(str(exc)) from exc
        except (StorageError, LeaseLost, Conflict) as exc:
            raise EngineFault(exc) from exc
        call_kwargs = dict(kwargs)
        if takes_idempotency_key(fn):
            # the ledger's key: an earlier write of these events in doubt may have handed it on
            call_kwargs["idempotency_key"] = mutation.idempotency_key
        try:
            result = fn(tool, *args, **call_kwargs)
        except Exception as exc:
            return CallOutcome(mutation, error=exc)
        value = jsonable(result)
        _engine(
            self.ws.mutation_applied,
            self.lease,
            self.run_id,
            mutation.mutation_id,
            value,
            self.now(),
        )
        return CallOutcome(mutation, result=value)

    # ---- producers --------------------------------------------------------------------
    def run_producer(self) -> dict[str, Any]:
        """pending → executing → committed; state and next_run_at change only on success."""
        if self.jctx.attempt > 1 and self.run.phase is not Phase.PENDING:
            self.end(self._crash_ending())
        self.ws.begin_phase(self.lease, self.run_id, Phase.EXECUTING, self.now())
        assert self.handler.run is not None
        try:
            value, guard = self.call(Step.PRODUCER, self.handler.run, self.run.input_state)
        except (Exception, Interrupt) as exc:
            self.failed_in(Step.PRODUCER, exc)
        spec = self.record.spec.handler(self.handler.name)
        schedule = spec.schedule if spec else None
        now = self.now()
        return self.commit(
            CommitSpec(
                output_state=value,
                keep_state=value is None,
                publishes=guard.publishes,
                inputs=guard.inputs,
                next_run_at=next_run(schedule, now) if schedule else None,
            ),
            now,
        )

    # ---- consumers --------------------------------------------------------------------
    def run_consumer(self) -> dict[str, Any]:
        """prepare → mutate → next → commit, or recovery / reconciliation first."""
        run = self.run
        if run.status is RunStatus.PAUSED_RECONCILIATION:
            return self.reconciler.resume()
        if self.jctx.attempt > 1 and run.phase is not Phase.PENDING:
            return self.recover()
        if run.phase is Phase.EMITTING:
            return self.emit_stored()
        self.ws.begin_phase(self.lease, self.run_id, Phase.PREPARING, self.now())
        assert self.handler.prepare is not None
        try:
            raw, _ = self.call(Step.PREPARE, self.handler.prepare, run.input_state)
            wanted = Prepared.from_json(raw)
        except (Exception, Interrupt) as exc:
            self.failed_in(Step.PREPARE, exc)
        now = self.now()
        wake = clamp_wake(wanted.wake_at, now)
        stored = wanted.to_json()
        stored["wake_at"] = wake.isoformat() if wake else None
        got = self.ws.save_prepared(self.lease, self.run_id, stored, wanted.reservations, wake, now)
        prepared = Prepared(reservations=got, data=wanted.data, title=wanted.title, wake_at=wake)
        if not got or self.handler.mutate is None:
            return self.emit(prepared, MutationResult.none(), reserved=bool(got))
        return self.mutate(prepared)

    def mutate(self, prepared: Prepared) -> dict[str, Any]:
        """Run ``mutate``: at most one mutation call, which ends the phase."""
        assert self.handler.mutate is not None
        self.title = prepared.title
        try:
            _, guard = self.call(
                Step.MUTATE, self.handler.mutate, prepared, prepared=prepared, timed=False
            )
        except AbortRun as exc:
            self.end(
                Ending(RunStatus.CANCELED, Phase.PREPARED, error=str(exc), error_type="Aborted")
            )
        except (Exception, Interrupt) as exc:
            self.failed_in(Step.MUTATE, exc)
        outcome = guard.mutation_outcome
        if not isinstance(outcome, CallOutcome):
            return self.emit(prepared, MutationResult.none(), reserved=True)
        if outcome.error is None:
            return self.emit(prepared, MutationResult.applied(outcome.result), reserved=True)
        return self.reconciler.after_error(outcome.mutation, outcome.error)

    def stored_prepared(self) -> Prepared:
        """The prepare result stored with the run, with the reservations it really holds."""
        stored = Prepared.from_json(self.run.prepare_result)
        return Prepared(
            reservations=self.run.reservations,
            data=stored.data,
            title=stored.title,
            wake_at=stored.wake_at,
        )

    def emit_stored(self) -> dict[str, Any]:
        """A retry that starts at emitting: ``next`` with the stored prepare result and outcome."""
        return self.emit(self.stored_prepared(), self.stored_result(), reserved=True)

    def stored_result(self) -> MutationResult:
        """What ``next`` learns from the stored outcome (the call is never repeated)."""
        outcome = self.run.mutation_outcome
        if outcome is MutationOutcome.SKIPPED:
            return MutationResult.skipped()
        if outcome is MutationOutcome.SUCCESS:
            mutation = self._find_applied()
            return MutationResult.applied(mutation.result if mutation else None)
        return MutationResult.none()

    def _find_applied(self) -> Mutation | None:
        """The applied mutation of this run or of the run it retries (walking back)."""
        run_id: str | None = self.run_id
        seen = 0
        while run_id and seen < 1000:
            found = self.ws.mutation_of(run_id)
            if found is not None and found.status is MutationStatus.APPLIED:
                return found
            run_id = self.ws.handler_run(run_id).retry_of
            seen += 1
        return None

    def emit(self, prepared: Prepared, result: MutationResult, *, reserved: bool) -> dict[str, Any]:
        """Run ``next`` and commit: events consumed, publishes written, state saved, at once."""
        value: Any = None
        publishes: list[Any] = []
        if self.handler.next is not None:
            try:
                value, guard = self.call(
                    Step.NEXT, self.handler.next, prepared, result, prepared=prepared
                )
            except (Exception, Interrupt) as exc:
                self.failed_in(Step.NEXT, exc)
            publishes = guard.publishes
        return self.commit(
            CommitSpec(
                output_state=value,
                keep_state=value is None,
                publishes=publishes,
                inherit_caused_by=True,
                clear_dirty=not reserved,
            ),
            self.now(),
        )

    # ---- recovery after a lost worker -------------------------------------------------
    def _crash_ending(self) -> Ending:
        return Ending(
            RunStatus.CRASHED,
            self.run.phase,
            error="the worker running this run was lost",
            error_type="WorkerLost",
        )

    def recover(self) -> dict[str, Any]:
        """A takeover: a mutation left in flight is reconciled, anything else is a crash."""
        run = self.run
        if run.phase is Phase.MUTATING:
            mutation = self.ws.mutation_of(self.run_id)
            if mutation is not None and mutation.status is MutationStatus.IN_FLIGHT:
                lost = InternalError("the worker was lost during the mutation call")
                return self.reconciler.after_error(mutation, lost, error_type="WorkerLost")
        return self.end(self._crash_ending())


def replay_end(ws: WorkflowStore, run: HandlerRun) -> dict[str, Any]:
    """A run that already ended (its core run was not finished yet): end the core run alike."""
    if run.status is RunStatus.COMMITTED:
        return {"workflow": run.workflow, "handler": run.handler, "status": "committed"}
    if run.status is RunStatus.CANCELED:
        raise Cancelled(run.run_id)
    reason = run.status.value
    raise HandlerRunEnded(run.status.value, reason, run.error, run_id=run.run_id)


__all__ = [
    "ENDED_STATUSES",
    "AbortRun",
    "CallOutcome",
    "HandlerType",
    "Host",
    "ResolvedBy",
    "RunwrightError",
    "replay_end",
]

"""Reconciliation: finding out whether an uncertain mutation happened, never guessing.

After an ambiguous error (a timeout, a reset connection, an auth or internal error from the
call) or a crash with the call in flight, the tool's ``reconcile`` is asked under
``MUTATION_RECONCILE`` (the engine's reconcile policy, domain.reconcile): at once (inline,
attempt 1), then in the background 10 s, 20 s, 40 s, 80 s and 160 s after the attempt before
while the run waits ``paused:reconciliation``; when the 6th attempt cannot tell either, the
mutation is ``indeterminate`` and waits for a person. The ledger's ``reconcile_attempts``
counts every attempt, inline and background. A tool without ``reconcile`` goes to
``indeterminate`` at once (no attempt).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from runwright.domain.events import EventKind
from runwright.domain.reconcile import MUTATION_RECONCILE, Reconciled, Reconciliation
from runwright.domain.workflows.models import Mutation
from runwright.domain.workflows.mutations import MutationStatus
from runwright.domain.workflows.phases import Phase, RunStatus
from runwright.domain.workflows.rules import ErrorClass
from runwright.engine import interrupts
from runwright.engine.interrupts import Interrupt
from runwright.engine.stepper import EngineFault
from runwright.errors import LeaseLost
from runwright.store.core import NewEvent
from runwright.store.workflows import Ending
from runwright.workflows.errors import classify
from runwright.workflows.outcomes import CLASS_STATUS, jsonable
from runwright.workflows.prepared import MutationResult
from runwright.workflows.tools import MutationCall, Tool

if TYPE_CHECKING:
    from runwright.workflows.host import Host

#: Errors from the mutation call that prove the write did not happen.
DEFINITE = {ErrorClass.TRANSIENT, ErrorClass.LOGIC, ErrorClass.PERMISSION}


class Reconciler:
    """The reconciliation flow of one handler run."""

    def __init__(self, host: Host):
        self.host = host

    def after_error(
        self, mutation: Mutation, exc: BaseException, *, error_type: str | None = None
    ) -> dict[str, Any]:
        """The mutation call raised: a definite failure ends the run, anything else reconciles."""
        h = self.host
        cls = classify(exc, from_tool=True)
        error = f"{type(exc).__name__}: {exc}"[:4000]
        etype = error_type or type(exc).__name__
        if cls in DEFINITE:
            status = CLASS_STATUS[cls]
            ended = h.ws.mutation_failed(
                h.lease,
                h.run_id,
                mutation.mutation_id,
                Ending(status, Phase.MUTATED, error=error, error_type=etype, error_class=cls),
                h.now(),
            )
            h.finish_failed(status, ended.reason, error)
        return self.reconcile(mutation, inline=True, error=error, error_type=etype)

    def resume(self) -> dict[str, Any]:
        """A run paused for reconciliation was woken: by its timer or by a person's decision."""
        h = self.host
        m = h.ws.mutation_of(h.run_id)
        if m is None:
            h.end(Ending(RunStatus.RELEASED, h.run.phase, error="no mutation to reconcile"))
        if m.status in {MutationStatus.NEEDS_RECONCILE, MutationStatus.IN_FLIGHT}:
            return self.reconcile(m, inline=False, error=m.error, error_type=m.error_type)
        if m.status is MutationStatus.INDETERMINATE:
            h.park(None, m.mutation_id)
        if m.status is MutationStatus.SKIPPED:
            h.ws.resume_after_decision(h.lease, h.run_id, h.now())
            h.reload()
            return h.emit(h.stored_prepared(), MutationResult.skipped(), reserved=True)
        if m.status is MutationStatus.APPLIED:
            h.ws.resume_after_decision(h.lease, h.run_id, h.now())
            h.reload()
            return h.emit(h.stored_prepared(), MutationResult.applied(m.result), reserved=True)
        return h.end(
            Ending(RunStatus.RELEASED, Phase.MUTATED, error=m.error or "the write did not happen")
        )

    def ask(self, tool: Tool, m: Mutation) -> Reconciliation:
        """One reconcile attempt; a raised error or a timeout counts as ``retry``."""
        call = MutationCall(m.tool_namespace, m.tool_method, dict(m.params), m.idempotency_key)
        try:
            with self.host.interrupter.guard(MUTATION_RECONCILE.timeout):
                verdict = tool.reconcile(call)
        except Interrupt as it:
            if it.cause == interrupts.LEASE_LOST:
                raise EngineFault(
                    LeaseLost("lease lost during reconcile", run_id=m.handler_run_id)
                ) from it
            return Reconciliation.retry(f"reconcile was interrupted ({it.cause})")
        except Exception as exc:
            return Reconciliation.retry(f"reconcile raised {type(exc).__name__}: {exc}")
        if not isinstance(verdict, Reconciliation):
            return Reconciliation.retry(
                f"reconcile returned {type(verdict).__name__}, not a Reconciliation"
            )
        return verdict

    def reconcile(
        self, m: Mutation, *, inline: bool, error: str, error_type: str
    ) -> dict[str, Any]:
        """Ask, record, and act on the verdict."""
        h = self.host
        tool = h.wf.tools.get(m.tool_namespace)
        if tool is None or not tool.can_reconcile(m.tool_method):
            h.ws.mutation_uncertain(
                h.lease,
                h.run_id,
                m.mutation_id,
                status=MutationStatus.INDETERMINATE,
                error=error,
                error_type=error_type,
                attempts=m.reconcile_attempts,
                next_reconcile_at=None,
                now=h.now(),
            )
            h.park(None, m.mutation_id)
        verdict = self.ask(tool, m)
        attempt = m.reconcile_attempts + 1
        event = NewEvent(
            EventKind.RECONCILE_ATTEMPTED,
            {
                "mutation_id": m.mutation_id,
                "attempt": attempt,
                "inline": inline,
                "verdict": verdict.status.value,
                "reason": verdict.reason[:500],
            },
        )
        now = h.now()
        if verdict.status is Reconciled.APPLIED:
            result = jsonable(verdict.result)
            h.ws.mutation_applied(
                h.lease,
                h.run_id,
                m.mutation_id,
                result,
                now,
                reconciled=True,
                attempts=attempt,
                extra=[event],
            )
            h.reload()
            return h.emit(h.stored_prepared(), MutationResult.applied(result), reserved=True)
        if verdict.status is Reconciled.NOT_APPLIED:
            why = "reconcile found that the write did not happen"
            ended = h.ws.mutation_failed(
                h.lease,
                h.run_id,
                m.mutation_id,
                Ending(RunStatus.RELEASED, Phase.MUTATED, error=why, error_type="NotApplied"),
                now,
                reconciled=True,
                attempts=attempt,
                extra=[event],
            )
            h.finish_failed(RunStatus.RELEASED, ended.reason, why)
        if MUTATION_RECONCILE.exhausted(attempt):
            h.ws.mutation_uncertain(
                h.lease,
                h.run_id,
                m.mutation_id,
                status=MutationStatus.INDETERMINATE,
                error=error,
                error_type=error_type,
                attempts=attempt,
                next_reconcile_at=None,
                now=now,
                extra=[event],
            )
            h.park(None, m.mutation_id)
        wake = now + timedelta(seconds=MUTATION_RECONCILE.delay(attempt))
        h.ws.mutation_uncertain(
            h.lease,
            h.run_id,
            m.mutation_id,
            status=MutationStatus.NEEDS_RECONCILE,
            error=error,
            error_type=error_type,
            attempts=attempt,
            next_reconcile_at=wake,
            now=now,
            extra=[event],
        )
        return h.park(wake, m.mutation_id)

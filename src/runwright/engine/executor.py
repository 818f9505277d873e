"""Executing one claimed run: call the job function and record how the execution ended."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import cast

from runwright.domain.events import EventKind
from runwright.domain.evidence import EvidenceLink, Manifest, ManifestEntry
from runwright.domain.failures import NOT_SERIALIZABLE, Failure
from runwright.domain.runs import Run
from runwright.domain.states import RunState, StateReason
from runwright.engine.clock import Clock
from runwright.engine.context import JobContext
from runwright.engine.evidence import EvidenceWriter
from runwright.engine.group_commit import GroupedStore
from runwright.engine.interrupts import Interrupter
from runwright.engine.registry import resolve
from runwright.engine.stepper import (
    DeadlineExceeded,
    EngineFault,
    Released,
    StepRunner,
    Suspended,
)
from runwright.errors import (
    Cancelled,
    JobNotFound,
    LeaseLost,
    RunwrightError,
    StepFailed,
    StorageError,
    ValidationError,
)
from runwright.store.blobs import BlobStore
from runwright.store.core import (
    Claim,
    ClaimRequest,
    Finisher,
    FinisherFailed,
    Lease,
    NewEvent,
    SystemDatabase,
)

log = logging.getLogger(__name__)


class Executor:
    """Runs claimed runs for one worker."""

    def __init__(
        self,
        *,
        store: SystemDatabase,
        clock: Clock,
        blobs: BlobStore,
        worker_id: str,
        interrupter: Interrupter,
        project_root: Path | None = None,
    ):
        self.store = store
        self.clock = clock
        self.blobs = blobs
        self.worker_id = worker_id
        self.interrupter = interrupter
        self.project_root = project_root
        self._claim_next: ClaimRequest | None = None
        self.next_claim: Claim | None = None
        self._grouped: GroupedStore | None = None  # this run's steps waiting for a commit

    def execute(self, claim: Claim, *, claim_next: ClaimRequest | None = None) -> RunState | None:
        """Run the job of ``claim`` until it ends, parks or is handed back; return its state.

        With ``claim_next``, the transaction that ends or parks the run also claims the
        worker's next run; it is left in ``next_claim``.
        """
        run, lease = claim.run, claim.lease
        self._claim_next = claim_next
        self.next_claim = None
        self._grouped = None
        try:
            with self.store.pinned():
                return self._execute(run, lease)
        except (EngineFault, StorageError, LeaseLost) as exc:
            if self._grouped is not None:
                self._grouped.discard()
            cause = exc.cause if isinstance(exc, EngineFault) else exc
            log.warning("abandoned run %s: %s", run.run_id, cause)
            return None

    def _execute(self, run: Run, lease: Lease) -> RunState | None:
        try:
            jd = resolve(run.job_name, run.job_module)
        except JobNotFound as exc:
            failure = Failure.from_exception(exc, non_retryable=True)
            return self._finish(
                lease, RunState.FAILED, failure=failure, reason=StateReason.FAILED_INTERNAL
            )
        if run.attempt > 1:
            memo, open_attempts, counts, reconciles = self.store.load_progress(run.run_id)
        else:
            memo, open_attempts, counts, reconciles = {}, {}, {}, {}
        grouped = GroupedStore(self.store, lease, jd.group_commit) if jd.group_commit else None
        self._grouped = grouped
        store = cast(SystemDatabase, grouped) if grouped is not None else self.store
        evidence = EvidenceWriter(store, self.blobs, run.run_id, self.clock.now, self.project_root)
        runner = StepRunner(
            store=store,
            clock=self.clock,
            run=run,
            lease=lease,
            worker_id=self.worker_id,
            interrupter=self.interrupter,
            evidence=evidence,
            memo=memo,
            open_attempts=open_attempts,
            attempt_counts=counts,
            reconcile_counts=reconciles,
        )
        ctx = JobContext(runner, run, lease, evidence)
        try:
            runner.check_boundary()
            result = jd.fn(ctx, *run.args, **run.kwargs)
        except (LeaseLost, EngineFault):
            if grouped is not None:
                grouped.discard()  # the lease is gone: those steps run again elsewhere
            raise
        except BaseException as exc:
            if not isinstance(exc, Exception | Suspended | Cancelled | Released | DeadlineExceeded):
                raise
            return self._conclude(lease, exc)
        if grouped is not None and (evidence.attached or run.attempt > 1):
            grouped.flush()  # the manifest names the run's last event: every step before it
        manifest = self._manifest(run, lease, evidence)
        try:
            return self._finish(
                lease,
                RunState.SUCCEEDED,
                result=result,
                manifest=manifest,
                finisher=ctx.finisher,
            )
        except FinisherFailed as exc:  # as if the job itself had raised it
            return self._conclude(lease, exc.cause)
        except ValidationError as exc:
            failure = Failure(type=NOT_SERIALIZABLE, message=exc.message, non_retryable=True)
            return self._finish(lease, RunState.FAILED, failure=failure)

    def _conclude(self, lease: Lease, exc: BaseException) -> RunState | None:
        """Record how an execution that raised ends: parked, cancelled, handed back or failed."""
        if self._grouped is not None and isinstance(exc, Suspended | Released):
            self._grouped.flush()  # every completed step is recorded before the run parks
        now = self.clock.now()
        if isinstance(exc, Suspended):
            extra = []
            if "reconcile_attempt" in exc.payload:
                extra.append(
                    NewEvent(
                        EventKind.RECONCILE_ATTEMPTED,
                        dict(exc.payload),
                        exc.payload.get("step_attempt_id"),
                    )
                )
            self.next_claim = self.store.park_run(
                lease,
                now,
                reason=exc.reason,
                wake_at=exc.wake_at,
                wait_for=exc.wait_for,
                payload=exc.payload,
                extra_events=extra,
                claim_next=self._claim_next,
            )
            return RunState.WAITING
        if isinstance(exc, Cancelled):
            return self._finish(lease, RunState.CANCELED, reason=StateReason.CANCEL_REQUESTED)
        if isinstance(exc, Released):
            self.store.release_run(lease, now)
            return None
        if isinstance(exc, DeadlineExceeded):
            failure = Failure(
                type="RunTimebox", message="the run's timebox ran out", non_retryable=True
            )
            return self._finish(
                lease, RunState.FAILED, failure=failure, reason=StateReason.OVER_TIMEBOX
            )
        if isinstance(exc, StepFailed):
            failure = Failure(
                type=exc.failure_type,
                message=exc.message,
                non_retryable=True,
                details={k: v for k, v in exc.fields.items() if isinstance(v, str)},
            )
        else:
            final = isinstance(exc, RunwrightError) and not exc.retryable
            failure = Failure.from_exception(exc, non_retryable=final)
        # A runwright error may say why in the run's own terms (e.g. a workflow's "failed:logic").
        reason = exc.state_reason if isinstance(exc, RunwrightError) else None
        return self._finish(lease, RunState.FAILED, failure=failure, reason=reason)

    def _finish(
        self,
        lease: Lease,
        state: RunState,
        *,
        result: object = None,
        failure: Failure | None = None,
        reason: str | None = None,
        manifest: tuple[str, str] | None = None,
        finisher: Finisher | None = None,
    ) -> RunState:
        grouped = self._grouped
        self.next_claim = self.store.finish_run(
            lease,
            self.clock.now(),
            state=state,
            result=result,
            failure=failure,
            reason=reason,
            manifest=manifest,
            claim_next=self._claim_next,
            finisher=finisher,
            steps=grouped.waiting() if grouped is not None else None,
        )
        if grouped is not None:
            grouped.discard()  # recorded with the run's end
        return state

    def _manifest(self, run: Run, lease: Lease, evidence: EvidenceWriter) -> tuple[str, str] | None:
        if evidence.attached == 0 and run.attempt <= 1:
            return None
        links = self.store.list_evidence(run.run_id)
        if not links:
            return None
        return write_manifest(
            self.blobs,
            run.run_id,
            links,
            self.clock.now(),
            events=lease.event_seq,
            last_event_hash=lease.last_event_hash,
        )


def write_manifest(
    blobs: BlobStore,
    run_id: str,
    links: list[EvidenceLink],
    now: datetime,
    *,
    events: int | None,
    last_event_hash: str | None = None,
) -> tuple[str, str]:
    """Write the manifest of a run's evidence; return (relative path, sha256).

    ``events`` and ``last_event_hash`` anchor the run's log: the manifest names the event it
    was written after (its seq and hash), and the run's finishing event records the
    manifest's own hash, so neither can be rewritten without the other noticing.
    """
    entries = [
        ManifestEntry(
            path=link.artifact_path,
            size=link.size,
            sha256=link.sha256,
            media_type=link.media_type,
            counts=link.counts,
            label=link.label,
            evidence_id=link.evidence_id,
        )
        for link in links
    ]
    counts = {"artifacts": len(entries), "bytes": sum(e.size for e in entries)}
    if events is not None:
        counts["events"] = events
    manifest = Manifest(
        run_id=run_id,
        generated_at=now,
        artifacts=entries,
        counts=counts,
        last_event_hash=last_event_hash,
    )
    return blobs.write_manifest(manifest)

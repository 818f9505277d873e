"""Rows become domain objects here, and only here."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, RowMapping

from runwright.domain.events import EventKind, RunEvent, StoredEvent
from runwright.domain.evidence import EvidenceCounts, EvidenceLink
from runwright.domain.failures import Failure
from runwright.domain.runs import (
    Counters,
    Origin,
    Run,
    RunKind,
    StepAttempt,
    StepOutputs,
    StepResult,
)
from runwright.domain.states import RunState
from runwright.errors import EvidenceError
from runwright.store.types import loads


def _failure(text: str | None) -> Failure | None:
    data = loads(text)
    return None if data is None else Failure.model_validate(data)


@lru_cache(maxsize=256)
def _origin(text: str | None) -> Origin:
    """An origin from its JSON text (immutable, so one instance serves every run that shares
    the text: most runs have the same few origins)."""
    return Origin.model_validate(loads(text))


def run_from_row(row: Row[Any]) -> Run:
    """Build a Run from a ``runs`` row (with the parts' columns of ``run_features.SELECT_RUNS``
    when read through it)."""
    return run_from_mapping(dict(row._mapping))


def run_from_mapping(m: Mapping[str, Any]) -> Run:
    """Build a Run from a mapping of ``runs`` columns; the fields kept in a part's table
    (phase, workstream, mode, block, execution request, patch counters) are None or 0 when
    the mapping lacks them or the run has no row there."""
    return Run.model_construct(
        run_id=m["run_id"],
        project_id=m["project_id"],
        phase_id=m.get("phase_id"),
        workstream_id=m.get("workstream_id"),
        execution_request_id=m.get("execution_request_id"),
        state=RunState(m["state"]),
        state_reason=m["state_reason"],
        origin=_origin(m["origin"]),
        counters=Counters(
            step_attempts=m["step_attempts"],
            patches_created=m.get("patches_created") or 0,
            patches_applied=m.get("patches_applied") or 0,
            errors=m["errors"],
        ),
        created_at=m["created_at"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        kind=RunKind(m["kind"]),
        job_name=m["job_name"],
        job_module=m["job_module"],
        args=loads(m["args"]),
        kwargs=loads(m["kwargs"]),
        parent_run_id=m["parent_run_id"],
        depends_on=[],
        max_parallel=m["max_parallel"],
        idempotency_key=m["idempotency_key"],
        result=loads(m["result"]),
        failure=_failure(m["failure"]),
        next_pointer=m["next_pointer"],
        mode_id=m.get("mode_id"),
        block_id=m.get("block_id"),
        attempt=m["attempt"],
        available_at=m["available_at"],
        wake_at=m["wake_at"],
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
        cancel_requested=bool(m["cancel_requested"]),
        timeout_seconds=m["timeout_seconds"],
        deadline_at=m["deadline_at"],
        manifest_path=m["manifest_path"],
        manifest_sha256=m["manifest_sha256"],
        event_seq=m["event_seq"],
        last_event_hash=m["last_event_hash"],
    )


def attempt_from_row(row: Row[Any]) -> StepAttempt:
    """Build a StepAttempt from a ``step_attempts`` row."""
    m = row._mapping
    return StepAttempt(
        step_attempt_id=m["step_attempt_id"],
        run_id=m["run_id"],
        sequence=m["sequence"],
        tool_id=m["tool_id"],
        state=m["state"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        tool_run_id=m["tool_run_id"],
        execution_request_id=m["execution_request_id"],
        prompt_id=m["prompt_id"],
        outputs=StepOutputs.model_validate(loads(m["outputs"])),
        step_key=m["step_key"],
        attempt=m["attempt"],
        idempotent=bool(m["idempotent"]),
        failure=_failure(m["failure"]),
        worker_id=m["worker_id"],
    )


def result_from_row(row: Row[Any]) -> StepResult:
    """Build a StepResult (the memo) from a ``step_results`` row."""
    m = row._mapping
    return StepResult.model_construct(
        run_id=m["run_id"],
        step_key=m["step_key"],
        status=m["status"],
        result=loads(m["result"]),
        failure=_failure(m["failure"]),
        step_attempt_id=m["step_attempt_id"],
        completed_at=m["completed_at"],
    )


def stored_event_from_row(row: Row[Any]) -> StoredEvent:
    """A ``run_events`` row as stored, trusting nothing in it (for verification)."""
    m = row._mapping
    return StoredEvent(
        event_id=m["event_id"],
        run_id=m["run_id"],
        seq=m["seq"],
        ts=m["ts"],
        kind=m["kind"],
        step_attempt_id=m["step_attempt_id"],
        payload=m["payload"],
        prev_hash=m["prev_hash"],
        hash=m["hash"],
    )


def _tampered(m: RowMapping, field: str, problem: str) -> EvidenceError:
    run_id = m["run_id"]
    return EvidenceError(
        f"run {run_id} event seq {m['seq']}: {field} {problem} (the stored event was edited)",
        hint=f"`runwright evidence verify {run_id}` lists every problem in the run's log",
        run_id=run_id,
        field=f"run_events.{field}",
    )


def event_from_row(row: Row[Any]) -> RunEvent:
    """Build a RunEvent from a ``run_events`` row; a row whose kind or payload was edited
    into something unreadable is refused, naming its seq."""
    m = row._mapping
    try:
        kind = EventKind(m["kind"])
    except ValueError:
        raise _tampered(m, "kind", f"{m['kind']!r} is not a run event kind") from None
    try:
        payload = loads(m["payload"])
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise _tampered(m, "payload", f"{str(m['payload'])[:40]!r} is not a JSON object")
    return RunEvent.model_construct(
        event_id=m["event_id"],
        run_id=m["run_id"],
        seq=m["seq"],
        ts=m["ts"],
        kind=kind,
        step_attempt_id=m["step_attempt_id"],
        payload=payload,
        prev_hash=m["prev_hash"],
        hash=m["hash"],
    )


def evidence_from_row(row: Row[Any]) -> EvidenceLink:
    """Build an EvidenceLink from an ``evidence`` row."""
    m = row._mapping
    return EvidenceLink(
        evidence_id=m["evidence_id"],
        run_id=m["run_id"],
        step_attempt_id=m["step_attempt_id"],
        artifact_path=m["artifact_path"],
        label=m["label"],
        sha256=m["sha256"],
        size=m["size"],
        media_type=m["media_type"],
        counts=EvidenceCounts.model_validate(loads(m["counts"])),
        manifest_path=m["manifest_path"],
        log_path=m["log_path"],
        commit_hash=m["commit_hash"],
        sheet_row=m["sheet_row"],
        created_at=m["created_at"],
    )


def evidence_row(link: EvidenceLink) -> dict[str, Any]:
    """The ``evidence`` row for a link."""
    from runwright.store.types import dumps

    return {
        "evidence_id": link.evidence_id,
        "run_id": link.run_id,
        "step_attempt_id": link.step_attempt_id,
        "artifact_path": link.artifact_path,
        "label": link.label,
        "sha256": link.sha256,
        "size": link.size,
        "media_type": link.media_type,
        "counts": dumps(link.counts.model_dump(exclude_none=True)),
        "manifest_path": link.manifest_path,
        "log_path": link.log_path,
        "commit_hash": link.commit_hash,
        "sheet_row": link.sheet_row,
        "created_at": link.created_at,
    }

"""Workflow rows become domain objects here, and only here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, select

from runwright.domain.workflows.models import (
    HandlerRun,
    HandlerState,
    Input,
    Mutation,
    Reservation,
    TopicEvent,
    WorkflowRecord,
    WorkflowSpec,
)
from runwright.domain.workflows.mutations import MutationStatus, ResolvedBy
from runwright.domain.workflows.phases import HandlerType, MutationOutcome, Phase, RunStatus
from runwright.domain.workflows.rules import WorkflowStatus, label
from runwright.domain.workflows.topics import EventStatus, InputStatus
from runwright.store.schema.workflows import wf_event_inputs
from runwright.store.types import loads


@lru_cache(maxsize=256)
@lru_cache(maxsize=64)
def parse_spec(text: str) -> WorkflowSpec:
    """A stored spec (cached by its text: specs are immutable per version, and frozen)."""
    return WorkflowSpec.model_validate(loads(text))


def workflow_from_row(r: Row[Any], *, unresolved_mutation: bool = False) -> WorkflowRecord:
    """A WorkflowRecord from a ``wf_workflows`` row."""
    return WorkflowRecord(
        name=r.name,
        ref=r.ref,
        status=WorkflowStatus(r.status),
        label=label(
            r.status,
            r.error,
            bool(r.maintenance),
            has_active_run=r.active_run_id is not None,
            unresolved_mutation=unresolved_mutation,
            repairing=r.repair_run_id is not None,
        ),
        error=r.error,
        error_kind=r.error_kind,
        error_run_id=r.error_run_id,
        maintenance=bool(r.maintenance),
        maintenance_fix_count=r.maintenance_fix_count,
        pending_retry_run_id=r.pending_retry_run_id,
        active_run_id=r.active_run_id,
        transient_failures=r.transient_failures,
        retry_at=r.retry_at,
        version=r.version,
        config_hash=r.config_hash,
        code_hash=r.code_hash,
        spec=parse_spec(r.spec),
        deployed_at=r.deployed_at,
        updated_at=r.updated_at,
    )


def state_from_row(r: Row[Any]) -> HandlerState:
    """A HandlerState from a ``wf_handler_state`` row."""
    return HandlerState(
        workflow=r.workflow,
        handler=r.handler,
        type=HandlerType(r.handler_type),
        state=loads(r.state),
        next_run_at=r.next_run_at,
        wake_at=r.wake_at,
        dirty=bool(r.dirty),
        last_run_id=r.last_run_id,
    )


def caused_by_map(conn: Connection, event_ids: list[str]) -> dict[str, list[str]]:
    """event_id → the input ids that caused it."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start : start + 500]
        rows = conn.execute(
            select(wf_event_inputs.c.event_id, wf_event_inputs.c.input_id)
            .where(wf_event_inputs.c.event_id.in_(chunk))
            .order_by(wf_event_inputs.c.input_id)
        )
        for row in rows:
            found.setdefault(row.event_id, []).append(row.input_id)
    return found


def event_from_row(r: Row[Any], caused_by: list[str] | None = None) -> TopicEvent:
    """A TopicEvent from a ``wf_events`` row."""
    return TopicEvent.model_construct(
        event_id=r.event_id,
        workflow=r.workflow,
        topic=r.topic,
        message_id=r.message_id,
        payload=loads(r.payload),
        status=EventStatus(r.status),
        reserved_by_run_id=r.reserved_by_run_id,
        created_by_run_id=r.created_by_run_id,
        caused_by=list(caused_by or []),
        attempt_number=r.attempt_number,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def events_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[TopicEvent]:
    """TopicEvents with their ``caused_by`` filled in."""
    links = caused_by_map(conn, [r.event_id for r in rows])
    return [event_from_row(r, links.get(r.event_id)) for r in rows]


def input_from_row(r: Row[Any], status: InputStatus, events: int) -> Input:
    """An Input from a ``wf_inputs`` row and its computed status."""
    return Input(
        input_id=r.input_id,
        workflow=r.workflow,
        source=r.source,
        type=r.type,
        id=r.external_id,
        title=r.title,
        status=status,
        created_by_run_id=r.created_by_run_id,
        created_at=r.created_at,
        skipped_at=r.skipped_at,
        events=events,
    )


def handler_run_from_row(r: Row[Any]) -> HandlerRun:
    """A HandlerRun from a ``wf_handler_runs`` row."""
    return HandlerRun.model_construct(
        run_id=r.run_id,
        workflow=r.workflow,
        handler=r.handler,
        handler_type=HandlerType(r.handler_type),
        phase=Phase(r.phase),
        status=RunStatus(r.status),
        retry_of=r.retry_of,
        prepare_result=loads(r.prepare_result),
        input_state=loads(r.input_state),
        output_state=loads(r.output_state),
        error=r.error,
        error_type=r.error_type,
        mutation_outcome=MutationOutcome(r.mutation_outcome),
        reservations=[Reservation.model_validate(x) for x in loads(r.reservations) or []],
        workflow_version=r.workflow_version,
        created_at=r.created_at,
        updated_at=r.updated_at,
        ended_at=r.ended_at,
    )


def mutation_from_row(r: Row[Any]) -> Mutation:
    """A Mutation from a ``wf_mutations`` row."""
    return Mutation(
        mutation_id=r.mutation_id,
        handler_run_id=r.handler_run_id,
        workflow=r.workflow,
        handler=r.handler,
        tool_namespace=r.tool_namespace,
        tool_method=r.tool_method,
        params=loads(r.params) or {},
        idempotency_key=r.idempotency_key,
        status=MutationStatus(r.status),
        result=loads(r.result),
        error=r.error,
        error_type=r.error_type,
        reconcile_attempts=r.reconcile_attempts,
        next_reconcile_at=r.next_reconcile_at,
        resolved_by=ResolvedBy(r.resolved_by) if r.resolved_by else None,
        resolved_at=r.resolved_at,
        ui_title=r.ui_title,
        can_reconcile=bool(r.can_reconcile),
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def iso(value: datetime | None) -> str | None:
    """A timestamp as ISO text for event payloads."""
    return value.isoformat() if value else None

"""Run-event kinds and the hash chain that makes a run's log tamper-evident."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.ids import Ulid
from runwright.errors import ValidationError


class EventKind(StrEnum):
    """Every kind of run event: UET's fifteen, then the ones later parts need."""

    # UET run_event.v1 (15)
    RUN_CREATED = "run_created"
    RUN_STARTED = "run_started"
    RUN_STATE_CHANGED = "run_state_changed"
    TOOL_CALL_STARTED = "tool_call_started"
    TOOL_CALL_COMPLETED = "tool_call_completed"
    TOOL_CALL_ERROR = "tool_call_error"
    PATCH_CREATED = "patch_created"
    PATCH_VALIDATED = "patch_validated"
    PATCH_APPLY_STARTED = "patch_apply_started"
    PATCH_APPLY_SUCCEEDED = "patch_apply_succeeded"
    PATCH_APPLY_FAILED = "patch_apply_failed"
    PATCH_QUARANTINED = "patch_quarantined"
    ERROR_PIPELINE_TRIGGERED = "error_pipeline_triggered"
    PHASE_TRANSITION = "phase_transition"
    NOTE = "note"
    # engine
    STEP_RETRY_SCHEDULED = "step_retry_scheduled"
    STEP_INTERRUPTED = "step_interrupted"
    LEASE_TAKEN_OVER = "lease_taken_over"
    CHILD_STARTED = "child_started"
    CANCEL_REQUESTED = "cancel_requested"
    EVIDENCE_ATTACHED = "evidence_attached"
    NEXT_POINTER_SET = "next_pointer_set"
    HUMAN_ACTION = "human_action"
    # gates and checks
    CHECK_COMPLETED = "check_completed"
    GATE_EVALUATED = "gate_evaluated"
    GATE_PASSED = "gate_passed"
    GATE_FAILED = "gate_failed"
    # escalation
    ESCALATION_RAISED = "escalation_raised"
    ESCALATION_RESOLVED = "escalation_resolved"
    # mutations and reconciliation
    MUTATION_STARTED = "mutation_started"
    MUTATION_APPLIED = "mutation_applied"
    MUTATION_FAILED = "mutation_failed"
    MUTATION_NEEDS_RECONCILE = "mutation_needs_reconcile"
    MUTATION_INDETERMINATE = "mutation_indeterminate"
    RECONCILE_ATTEMPTED = "reconcile_attempted"
    RECONCILE_RESOLVED = "reconcile_resolved"
    # execution model: blocks, op runs, stop rules, debug packets
    MODE_SELECTED = "mode_selected"
    BLOCK_STARTED = "block_started"
    BLOCK_ENDED = "block_ended"
    STOP_RULE_FIRED = "stop_rule_fired"
    TIMEBOX_EXCEEDED = "timebox_exceeded"
    FAILURE_PATH_TAKEN = "failure_path_taken"
    DEBUG_PACKET_OPENED = "debug_packet_opened"
    EVIDENCE_PATTERN_CHECKED = "evidence_pattern_checked"
    # event workflows
    TOPIC_EVENT_PUBLISHED = "topic_event_published"
    TOPIC_EVENTS_RESERVED = "topic_events_reserved"
    TOPIC_EVENTS_RELEASED = "topic_events_released"
    TOPIC_EVENTS_CONSUMED = "topic_events_consumed"
    TOPIC_EVENT_SKIPPED = "topic_event_skipped"
    INPUT_REGISTERED = "input_registered"
    HANDLER_PHASE_CHANGED = "handler_phase_changed"
    MAINTENANCE_STARTED = "maintenance_started"
    REPAIR_ATTEMPTED = "repair_attempted"
    # patches and routing
    PATCH_VERIFIED = "patch_verified"
    PATCH_COMMITTED = "patch_committed"
    PATCH_ROLLED_BACK = "patch_rolled_back"
    PATCH_DROPPED = "patch_dropped"
    PATCH_STATE_CHANGED = "patch_state_changed"
    ROUTE_DECIDED = "route_decided"
    PROMPT_RENDERED = "prompt_rendered"
    # plans
    STAGE_STARTED = "stage_started"
    STAGE_COMPLETE = "stage_complete"
    STAGE_BLOCKED = "stage_blocked"
    STAGE_ESCALATED = "stage_escalated"
    CORRECTION_REQUESTED = "correction_requested"
    COMPLETION_WRITTEN = "completion_written"


UET_EVENT_KINDS = tuple(list(EventKind)[:15])

GENESIS_HASH = "0" * 64


def check_event_kind(kind: str) -> EventKind:
    """Return ``kind`` as an EventKind, or raise naming the allowed kinds."""
    try:
        return EventKind(kind)
    except ValueError:
        raise ValidationError(
            f"unknown run event kind {kind!r}",
            hint="use one of: " + ", ".join(k.value for k in EventKind),
            field="kind",
        ) from None


def format_ts(ts: datetime) -> str:
    """The canonical text of a timestamp inside a hash: UTC, microseconds, 'Z'."""
    if ts.year >= 1000:  # isoformat pads years to four digits; strftime's %Y does not
        return ts.isoformat(timespec="microseconds")[:26] + "Z"
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return _CANONICAL.encode(value)


def _json_text(value: str) -> str:
    """``canonical_json`` of a string; ids and hashes (letters and digits) need no escaping."""
    return f'"{value}"' if value.isalnum() else _CANONICAL.encode(value)


def event_hash(
    *,
    event_id: str,
    run_id: str,
    seq: int,
    ts: datetime,
    kind: str,
    step_attempt_id: str | None,
    payload: dict[str, Any],
    prev_hash: str,
) -> str:
    """sha256 over the event's canonical content and the previous event's hash.

    The content is ``canonical_json`` of ``{"event_id", "kind", "payload", "prev_hash",
    "run_id", "seq", "step_attempt_id", "ts"}`` (``ts`` as ``format_ts``), written out here
    key by key in that (sorted) order: the same text, without sorting or encoding the
    envelope on every event.
    """
    body = "".join(
        (
            '{"event_id":',
            _json_text(event_id),
            ',"kind":',
            _json_text(kind),
            ',"payload":',
            _CANONICAL.encode(payload),
            ',"prev_hash":',
            _json_text(prev_hash),
            ',"run_id":',
            _json_text(run_id),
            ',"seq":',
            str(seq) if type(seq) is int else _CANONICAL.encode(seq),
            ',"step_attempt_id":',
            "null" if step_attempt_id is None else _json_text(step_attempt_id),
            ',"ts":"',
            format_ts(ts),
            '"}',
        )
    )
    return hashlib.sha256(body.encode()).hexdigest()


class RunEvent(BaseModel):
    """One immutable entry in a run's append-only log (UET run_event, plus the chain)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Ulid
    run_id: Ulid
    ts: datetime
    kind: EventKind
    step_attempt_id: Ulid | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    seq: int = Field(ge=1, description="1, 2, 3… within the run.")
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    def expected_hash(self) -> str:
        """The hash this event should carry given its content and ``prev_hash``."""
        return event_hash(
            event_id=self.event_id,
            run_id=self.run_id,
            seq=self.seq,
            ts=self.ts,
            kind=self.kind.value,
            step_attempt_id=self.step_attempt_id,
            payload=self.payload,
            prev_hash=self.prev_hash,
        )


class StoredEvent(BaseModel):
    """A ``run_events`` row exactly as stored: nothing in it is trusted yet (its kind may not
    be a kind, its payload may not be JSON), so a tampered log can still be walked."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    run_id: str
    seq: int
    ts: datetime
    kind: str
    step_attempt_id: str | None = None
    payload: str
    prev_hash: str
    hash: str

    def parsed_payload(self) -> dict[str, Any] | None:
        """The payload as a JSON object, or None if the stored text is not one."""
        try:
            value = json.loads(self.payload)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


class ChainProblem(BaseModel):
    """One break in a run's hash chain."""

    model_config = ConfigDict(frozen=True)

    seq: int
    event_id: str
    problem: str


_KINDS = frozenset(k.value for k in EventKind)


def _content_problem(event: RunEvent | StoredEvent) -> str | None:
    """What is wrong with one event's own content, if anything."""
    if isinstance(event, RunEvent):
        expected = event.expected_hash()
    else:
        if event.kind not in _KINDS:
            return f"kind {event.kind!r} is not a run event kind (the event was edited)"
        payload = event.parsed_payload()
        if payload is None:
            return f"payload is not a JSON object: {event.payload[:40]!r} (the event was edited)"
        expected = event_hash(
            event_id=event.event_id,
            run_id=event.run_id,
            seq=event.seq,
            ts=event.ts,
            kind=event.kind,
            step_attempt_id=event.step_attempt_id,
            payload=payload,
            prev_hash=event.prev_hash,
        )
    if expected != event.hash:
        return "content does not match its hash (the event was edited)"
    return None


def _gap(expected: int, found: int) -> str:
    missing = f"seq {expected}" if found == expected + 1 else f"seq {expected} to {found - 1}"
    return f"sequence gap: {missing} missing before seq {found} (events were removed)"


def verify_chain(events: Sequence[RunEvent | StoredEvent]) -> list[ChainProblem]:
    """Check that ``events`` (ordered by seq) form an unbroken, untampered chain.

    Each break is reported once: removed events as one gap (not every later event), an
    edited event by its seq and what is wrong with it (an unknown kind, a payload that is not
    JSON, content that no longer matches its hash).
    """
    problems: list[ChainProblem] = []
    prev_seq, prev_hash = 0, GENESIS_HASH
    for event in events:
        found: list[str] = []
        if event.seq > prev_seq + 1:
            found.append(_gap(prev_seq + 1, event.seq))
        elif event.seq != prev_seq + 1:
            found.append(f"sequence out of order: seq {event.seq} after seq {prev_seq}")
        elif event.prev_hash != prev_hash:
            found.append(
                "prev_hash does not match the previous event's hash "
                "(an event was removed, reordered or inserted)"
            )
        content = _content_problem(event)
        if content:
            found.append(content)
        problems += [ChainProblem(seq=event.seq, event_id=event.event_id, problem=p) for p in found]
        prev_seq, prev_hash = event.seq, event.hash
    return problems

"""The workflow store's hot-path statements, named in one place.

Every statement here runs for each event a workflow handles (claiming a handler run's context,
fencing each phase, reserving and consuming the event, the ledger row, starting the next run)
or for each event a producer publishes. They are ``DriverStatement``s: built once, compiled
once per dialect, sent on the driver's cursor inside the caller's transaction (see
``runwright.store.driver_sql``), so they send exactly what SQLAlchemy would send and cost a
fraction of it. Rows come back as named tuples read by column name, like SQLAlchemy's rows.

Colder statements (deploys, upkeep, human actions, listings) stay with the code that uses them.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam, func, or_, select, update

from runwright.domain.workflows.mutations import KEY_KEPT_AFTER, MutationStatus
from runwright.domain.workflows.phases import HandlerType
from runwright.domain.workflows.topics import EventStatus
from runwright.store.driver_sql import DriverStatement
from runwright.store.schema import runs
from runwright.store.schema.metadata import metadata
from runwright.store.schema.workflows import (
    wf_event_inputs,
    wf_events,
    wf_handler_runs,
    wf_handler_state,
    wf_inputs,
    wf_mutations,
    wf_workflows,
)
from runwright.store.types import UtcDateTime

PENDING, RESERVED = EventStatus.PENDING.value, EventStatus.RESERVED.value
CONSUMED = EventStatus.CONSUMED.value

# ---- runs and workflows (common.py, defs.py) -------------------------------------------------

#: The leased run's chain head and lease, with its handler row, both locked (``run_id``).
FENCE_RUN = DriverStatement(
    select(
        runs.c.lease_owner.label("core_lease_owner"),
        runs.c.attempt.label("core_attempt"),
        runs.c.event_seq.label("core_event_seq"),
        runs.c.last_event_hash.label("core_last_event_hash"),
        runs.c.cancel_requested.label("core_cancel_requested"),
        wf_handler_runs,
    )
    .select_from(runs.join(wf_handler_runs, wf_handler_runs.c.run_id == runs.c.run_id))
    .where(runs.c.run_id == bindparam("run_id"))
    .with_for_update()
)
#: A workflow's row, locked (``name``).
LOCK_WORKFLOW = DriverStatement(
    select(wf_workflows).where(wf_workflows.c.name == bindparam("name")).with_for_update()
)
#: A workflow's row (``name``).
READ_WORKFLOW = DriverStatement(
    select(wf_workflows).where(wf_workflows.c.name == bindparam("name"))
)
_HANDLER_ROW = select(wf_handler_runs).where(wf_handler_runs.c.run_id == bindparam("run_id"))
#: A handler run's row (``run_id``), and the same locked.
HANDLER_ROW = DriverStatement(_HANDLER_ROW)
HANDLER_ROW_LOCK = DriverStatement(_HANDLER_ROW.with_for_update())
#: The workflow of a handler run (``run_id``).
WORKFLOW_OF = DriverStatement(
    select(wf_handler_runs.c.workflow).where(wf_handler_runs.c.run_id == bindparam("run_id"))
)


@lru_cache(maxsize=256)
def update_by(table: str, keys: tuple[str, ...], values: frozenset[str]) -> DriverStatement:
    """``UPDATE table SET <values> WHERE <keys>``, one statement per shape: parameters
    ``w_<key>`` for each condition and ``v_<column>`` for each value set."""
    t = metadata.tables[table]
    stmt = t.update()
    for k in keys:
        stmt = stmt.where(t.c[k] == bindparam(f"w_{k}"))
    return DriverStatement(stmt.values({v: bindparam(f"v_{v}") for v in sorted(values)}))


# ---- topic events (events.py) ----------------------------------------------------------------

_PENDING = (
    select(wf_events)
    .where(
        wf_events.c.workflow == bindparam("workflow"),
        wf_events.c.topic == bindparam("topic"),
        wf_events.c.status == PENDING,
    )
    .order_by(wf_events.c.created_at, wf_events.c.event_id)
    .limit(bindparam("limit"))
    .subquery()
)
#: Pending events of a topic, oldest first, each joined with its inputs (``workflow``,
#: ``topic``, ``limit``).
PEEK = DriverStatement(
    select(_PENDING, wf_event_inputs.c.input_id)
    .select_from(
        _PENDING.outerjoin(wf_event_inputs, wf_event_inputs.c.event_id == _PENDING.c.event_id)
    )
    .order_by(_PENDING.c.created_at, _PENDING.c.event_id, wf_event_inputs.c.input_id)
)
_MINE = (wf_events.c.reserved_by_run_id == bindparam("run_id"), wf_events.c.status == RESERVED)
#: Mark the run's reserved events consumed, returning their ids (``run_id``, ``v_updated_at``).
CONSUME = DriverStatement(
    update(wf_events)
    .where(*_MINE)
    .values(status=CONSUMED, updated_at=bindparam("v_updated_at"))
    .returning(wf_events.c.event_id)
)
#: Reserve one pending event by message id, returning it (``b_workflow``, ``b_topic``,
#: ``b_id``, ``b_run``, ``v_updated_at``): a run reserving several uses the IN-list form.
RESERVE_ONE = DriverStatement(
    update(wf_events)
    .where(
        wf_events.c.workflow == bindparam("b_workflow"),
        wf_events.c.topic == bindparam("b_topic"),
        wf_events.c.message_id == bindparam("b_id"),
        wf_events.c.status == PENDING,
    )
    .values(
        status=RESERVED,
        reserved_by_run_id=bindparam("b_run"),
        updated_at=bindparam("v_updated_at"),
    )
    .returning(wf_events.c.message_id)
)
#: How many events the run holds reserved (``run_id``).
RESERVED_COUNT = DriverStatement(select(func.count()).select_from(wf_events).where(*_MINE))
#: An event by its message id (``workflow``, ``topic``, ``message_id``).
FIND_EVENT = DriverStatement(
    select(wf_events.c.event_id).where(
        wf_events.c.workflow == bindparam("workflow"),
        wf_events.c.topic == bindparam("topic"),
        wf_events.c.message_id == bindparam("message_id"),
    )
)
#: A new event.
INSERT_EVENT = DriverStatement(
    wf_events.insert(),
    keys=[
        "event_id",
        "workflow",
        "topic",
        "message_id",
        "payload",
        "status",
        "reserved_by_run_id",
        "created_by_run_id",
        "attempt_number",
        "created_at",
        "updated_at",
    ],
)
#: A link from an event to an input that caused it (``event_id``, ``input_id``).
INSERT_EVENT_INPUT = DriverStatement(wf_event_inputs.insert(), keys=["event_id", "input_id"])

# ---- inputs (inputs.py) ----------------------------------------------------------------------

#: The id of a registered input (``workflow``, ``source``, ``type``, ``external_id``).
FIND_INPUT = DriverStatement(
    select(wf_inputs.c.input_id).where(
        wf_inputs.c.workflow == bindparam("workflow"),
        wf_inputs.c.source == bindparam("source"),
        wf_inputs.c.type == bindparam("type"),
        wf_inputs.c.external_id == bindparam("external_id"),
    )
)
#: A new input.
INSERT_INPUT = DriverStatement(
    wf_inputs.insert(),
    keys=[
        "input_id",
        "workflow",
        "source",
        "type",
        "external_id",
        "title",
        "created_by_run_id",
        "created_at",
    ],
)

# ---- the mutation ledger (mutations.py) ------------------------------------------------------

#: A new ledger row (without a resolution or a reconcile schedule).
INSERT_MUTATION = DriverStatement(
    wf_mutations.insert(),
    keys=[
        "mutation_id",
        "handler_run_id",
        "workflow",
        "handler",
        "tool_namespace",
        "tool_method",
        "params",
        "idempotency_key",
        "status",
        "result",
        "error",
        "error_type",
        "reconcile_attempts",
        "ui_title",
        "can_reconcile",
        "created_at",
        "updated_at",
    ],
)
#: A ledger row, locked (``mutation_id``).
LOCK_MUTATION = DriverStatement(
    select(wf_mutations)
    .where(wf_mutations.c.mutation_id == bindparam("mutation_id"))
    .with_for_update()
)
#: How many earlier settled-as-not-made writes of a handler are searched for a key to keep.
KEPT_KEY_SEARCH = 100
#: Earlier writes by a handler of one tool method that were in doubt and then settled as not
#: made, newest first (``workflow``, ``handler``, ``namespace``, ``method``).
EARLIER_IN_DOUBT = DriverStatement(
    select(
        wf_mutations.c.mutation_id,
        wf_mutations.c.idempotency_key,
        wf_handler_runs.c.reservations,
    )
    .select_from(
        wf_mutations.join(
            wf_handler_runs, wf_handler_runs.c.run_id == wf_mutations.c.handler_run_id
        )
    )
    .where(
        wf_mutations.c.workflow == bindparam("workflow"),
        wf_mutations.c.handler == bindparam("handler"),
        wf_mutations.c.tool_namespace == bindparam("namespace"),
        wf_mutations.c.tool_method == bindparam("method"),
        wf_mutations.c.status == MutationStatus.FAILED.value,
        # spelled out (not IN): a driver statement takes no expanding parameter
        or_(*(wf_mutations.c.resolved_by == r for r in sorted(r.value for r in KEY_KEPT_AFTER))),
    )
    .order_by(wf_mutations.c.mutation_id.desc())
    .limit(KEPT_KEY_SEARCH)
)

# ---- starting the next run (sched.py) --------------------------------------------------------

_HS = wf_handler_state.c
#: The producer of a workflow due longest ago (``name``, ``now``).
DUE_PRODUCER = DriverStatement(
    select(_HS.handler)
    .where(
        _HS.workflow == bindparam("name"),
        _HS.handler_type == HandlerType.PRODUCER.value,
        _HS.next_run_at <= bindparam("now", type_=UtcDateTime()),
    )
    .order_by(_HS.next_run_at)
    .limit(1)
)
#: The consumer of a workflow, dirty or due to wake, that waited longest (``name``, ``now``).
DUE_CONSUMER = DriverStatement(
    select(_HS.handler)
    .where(
        _HS.workflow == bindparam("name"),
        _HS.handler_type == HandlerType.CONSUMER.value,
        or_(_HS.dirty.is_(True), _HS.wake_at <= bindparam("now", type_=UtcDateTime())),
    )
    .order_by(_HS.last_started_at.nulls_first(), _HS.handler)
    .limit(1)
)
#: A handler's state (``workflow``, ``handler``).
HANDLER_STATE = DriverStatement(
    select(_HS.state).where(
        _HS.workflow == bindparam("workflow"), _HS.handler == bindparam("handler")
    )
)
#: A new handler run.
INSERT_HANDLER_RUN = DriverStatement(
    wf_handler_runs.insert(),
    keys=[
        "run_id",
        "workflow",
        "handler",
        "handler_type",
        "phase",
        "status",
        "retry_of",
        "output_state",
        "error",
        "error_type",
        "workflow_version",
        "created_at",
        "updated_at",
        "prepare_result",
        "mutation_outcome",
        "reservations",
        "input_state",
    ],
)

__all__ = [
    "CONSUME",
    "DUE_CONSUMER",
    "DUE_PRODUCER",
    "EARLIER_IN_DOUBT",
    "FENCE_RUN",
    "FIND_EVENT",
    "FIND_INPUT",
    "HANDLER_ROW",
    "HANDLER_ROW_LOCK",
    "HANDLER_STATE",
    "INSERT_EVENT",
    "INSERT_EVENT_INPUT",
    "INSERT_HANDLER_RUN",
    "INSERT_INPUT",
    "INSERT_MUTATION",
    "KEPT_KEY_SEARCH",
    "LOCK_MUTATION",
    "LOCK_WORKFLOW",
    "PEEK",
    "READ_WORKFLOW",
    "RESERVED_COUNT",
    "RESERVE_ONE",
    "WORKFLOW_OF",
    "update_by",
]

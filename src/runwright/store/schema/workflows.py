"""Tables of event workflows (topics, events, inputs, handler runs, mutations).

Declared on the shared ``metadata``; their migrations form the ``workflows`` Alembic branch, whose
first revision has ``down_revision = "0001_core"`` and ``branch_labels = ("workflows",)``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from runwright.store.schema.metadata import ID, metadata
from runwright.store.types import UtcDateTime

NAME = 200

wf_workflows = Table(
    "wf_workflows",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("ref", String(500), nullable=False),
    Column("project_id", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("error_kind", String(32), nullable=False, default=""),
    Column("error_run_id", String(ID)),
    Column("maintenance", Boolean, nullable=False, default=False),
    Column("maintenance_fix_count", Integer, nullable=False, default=0),
    Column("pending_retry_run_id", String(ID)),
    Column("active_run_id", String(ID)),
    Column("repair_run_id", String(ID)),
    Column("transient_failures", Integer, nullable=False, default=0),
    Column("retry_at", UtcDateTime),
    Column("version", Integer, nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("spec", Text, nullable=False),
    Column("deployed_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

wf_handler_state = Table(
    "wf_handler_state",
    metadata,
    Column("workflow", String(NAME), ForeignKey("wf_workflows.name"), primary_key=True),
    Column("handler", String(NAME), primary_key=True),
    Column("handler_type", String(16), nullable=False),
    Column("state", Text),
    Column("next_run_at", UtcDateTime),
    Column("wake_at", UtcDateTime),
    Column("dirty", Boolean, nullable=False, default=False),
    Column("last_run_id", String(ID)),
    Column("last_started_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)

wf_inputs = Table(
    "wf_inputs",
    metadata,
    Column("input_id", String(ID), primary_key=True),
    Column("workflow", String(NAME), nullable=False),
    Column("source", String(NAME), nullable=False),
    Column("type", String(NAME), nullable=False),
    Column("external_id", String(500), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("created_by_run_id", String(ID)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("skipped_at", UtcDateTime),
    Column("skipped_by", String(200)),
    UniqueConstraint("workflow", "source", "type", "external_id"),
    Index(None, "workflow", "created_at"),
    Index(None, "workflow", "input_id"),  # a workflow's inputs newest first (0006)
)

wf_events = Table(
    "wf_events",
    metadata,
    Column("event_id", String(ID), primary_key=True),
    Column("workflow", String(NAME), nullable=False),
    Column("topic", String(NAME), nullable=False),
    Column("message_id", String(500), nullable=False),
    Column("payload", Text),
    Column("status", String(16), nullable=False),
    Column("reserved_by_run_id", String(ID)),
    Column("created_by_run_id", String(ID)),
    Column("attempt_number", Integer, nullable=False, default=1),
    Column("skipped_by", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("workflow", "topic", "message_id"),
    Index(None, "workflow", "topic", "status", "created_at"),
    Index(None, "reserved_by_run_id"),
    # a topic's events newest first, all or of one status (0006)
    Index(None, "workflow", "topic", "event_id"),
    Index(None, "workflow", "topic", "status", "event_id"),
)

#: Events per (workflow, topic, status), kept exact by database triggers on ``wf_events`` in the
#: transaction of every insert, status change and delete (migration 0007). Each writer adds its
#: changes to a row of its own (``shard``: the PostgreSQL backend's pid, 0 on SQLite, which has one
#: writer at a time), so that concurrent writers never wait for each other; a count is the sum
#: of its shards.
wf_topic_counts = Table(
    "wf_topic_counts",
    metadata,
    Column("workflow", String(NAME), primary_key=True),
    Column("topic", String(NAME), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("shard", Integer, primary_key=True),
    Column("n", BigInteger, nullable=False),
)

wf_event_inputs = Table(
    "wf_event_inputs",
    metadata,
    Column("event_id", String(ID), ForeignKey("wf_events.event_id"), primary_key=True),
    Column("input_id", String(ID), ForeignKey("wf_inputs.input_id"), primary_key=True),
    Index(None, "input_id"),
)

wf_handler_runs = Table(
    "wf_handler_runs",
    metadata,
    Column("run_id", String(ID), ForeignKey("runs.run_id"), primary_key=True),
    Column("workflow", String(NAME), nullable=False),
    Column("handler", String(NAME), nullable=False),
    Column("handler_type", String(16), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("retry_of", String(ID)),
    Column("prepare_result", Text),
    Column("input_state", Text),
    Column("output_state", Text),
    Column("error", Text, nullable=False, default=""),
    Column("error_type", String(64), nullable=False, default=""),
    Column("mutation_outcome", String(16), nullable=False, default=""),
    Column("reservations", Text, nullable=False),
    Column("workflow_version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Index(None, "workflow", "created_at"),
    Index(None, "status"),
    Index(None, "workflow", "run_id"),  # a workflow's handler runs newest first (0006)
)

wf_mutations = Table(
    "wf_mutations",
    metadata,
    Column("mutation_id", String(ID), primary_key=True),
    Column(
        "handler_run_id",
        String(ID),
        ForeignKey("wf_handler_runs.run_id"),
        nullable=False,
        unique=True,
    ),
    Column("workflow", String(NAME), nullable=False),
    Column("handler", String(NAME), nullable=False),
    Column("tool_namespace", String(NAME), nullable=False),
    Column("tool_method", String(NAME), nullable=False),
    Column("params", Text, nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("status", String(32), nullable=False),
    Column("result", Text),
    Column("error", Text, nullable=False, default=""),
    Column("error_type", String(64), nullable=False, default=""),
    Column("reconcile_attempts", Integer, nullable=False, default=0),
    Column("next_reconcile_at", UtcDateTime),
    Column("resolved_by", String(32)),
    Column("resolved_at", UtcDateTime),
    Column("ui_title", Text, nullable=False, default=""),
    Column("can_reconcile", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "status"),
    Index(None, "workflow", "created_at"),
)

__all__ = [
    "metadata",
    "wf_event_inputs",
    "wf_events",
    "wf_handler_runs",
    "wf_handler_state",
    "wf_inputs",
    "wf_mutations",
    "wf_topic_counts",
    "wf_workflows",
]

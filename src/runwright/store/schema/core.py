"""The system database's tables: runs, their dependencies, events, steps, evidence, workers.

``runs`` holds only what the durable-run core reads and writes; a part's fields of a run (its
phase, mode, block, patch counters…) live in that part's table keyed by ``run_id`` (see
``store.core.run_features``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
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

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(ID), primary_key=True),
    Column("project_id", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("job_name", String(300), nullable=False),
    Column("job_module", String(300)),
    Column("state", String(16), nullable=False),
    Column("state_reason", String(200)),
    Column("origin", Text, nullable=False),
    Column("step_attempts", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("args", Text, nullable=False),
    Column("kwargs", Text, nullable=False),
    Column("parent_run_id", String(ID), ForeignKey("runs.run_id")),
    Column("max_parallel", Integer),
    Column("running_children", Integer, nullable=False, default=0),
    Column("pending_deps", Integer, nullable=False, default=0),
    Column("has_dependents", Boolean, nullable=False, default=False),
    Column("wait_for", Text),
    Column("wait_remaining", Integer),
    Column("idempotency_key", String(300)),
    Column("result", Text),
    Column("failure", Text),
    Column("next_pointer", Text),
    Column("attempt", Integer, nullable=False, default=0),
    Column("available_at", UtcDateTime),
    Column("wake_at", UtcDateTime),
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UtcDateTime),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("timeout_seconds", Float),
    Column("deadline_at", UtcDateTime),
    Column("manifest_path", Text),
    Column("manifest_sha256", String(64)),
    Column("event_seq", Integer, nullable=False, default=0),
    Column("last_event_hash", String(64)),
    UniqueConstraint("project_id", "idempotency_key"),
    Index(None, "available_at", "run_id"),
    # run ids are ULIDs (time-ordered): listings page by run_id, so indexes end with it
    Index(None, "state", "run_id"),
    Index(None, "parent_run_id", "run_id"),
    Index(None, "project_id", "run_id"),
    Index(None, "kind", "run_id"),
    Index(None, "job_name", "run_id"),
)

run_deps = Table(
    "run_deps",
    metadata,
    Column("run_id", String(ID), ForeignKey("runs.run_id"), primary_key=True),
    Column("depends_on_run_id", String(ID), ForeignKey("runs.run_id"), primary_key=True),
    Index(None, "depends_on_run_id"),
)

step_attempts = Table(
    "step_attempts",
    metadata,
    Column("step_attempt_id", String(ID), primary_key=True),
    Column("run_id", String(ID), ForeignKey("runs.run_id"), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("step_key", String(300), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("tool_id", String(300), nullable=False),
    Column("state", String(16), nullable=False),
    Column("idempotent", Boolean, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("failure", Text),
    Column("worker_id", String(100)),
    Column("tool_run_id", String(200)),
    Column("execution_request_id", String(200)),
    Column("prompt_id", String(200)),
    Column("outputs", Text, nullable=False),
    UniqueConstraint("run_id", "sequence"),
    Index(None, "run_id", "step_key"),
)

step_results = Table(
    "step_results",
    metadata,
    Column("run_id", String(ID), ForeignKey("runs.run_id"), primary_key=True),
    Column("step_key", String(300), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("result", Text),
    Column("failure", Text),
    Column("step_attempt_id", String(ID), nullable=False),
    Column("completed_at", UtcDateTime, nullable=False),
)

run_events = Table(
    "run_events",
    metadata,
    Column("event_id", String(ID), primary_key=True),
    Column("run_id", String(ID), ForeignKey("runs.run_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("step_attempt_id", String(ID)),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("run_id", "seq"),
    Index(None, "kind", "ts"),
)

evidence = Table(
    "evidence",
    metadata,
    Column("evidence_id", String(ID), primary_key=True),
    Column("run_id", String(ID), ForeignKey("runs.run_id"), nullable=False),
    Column("step_attempt_id", String(ID)),
    Column("artifact_path", Text, nullable=False),
    Column("label", String(200)),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(200), nullable=False),
    Column("counts", Text, nullable=False),
    Column("manifest_path", Text),
    Column("log_path", Text),
    Column("commit_hash", String(64)),
    Column("sheet_row", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "run_id"),
    Index(None, "sha256"),
)

workers = Table(
    "workers",
    metadata,
    Column("worker_id", String(100), primary_key=True),
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
    Column("stopped_at", UtcDateTime),
    Column("current_run_id", String(ID)),
    Column("version", String(40), nullable=False),
    Column("jobs", Text),  # JSON list of the job names it claims; NULL: any (older workers)
    Index(None, "heartbeat_at"),
)


__all__ = [
    "ID",
    "evidence",
    "metadata",
    "run_deps",
    "run_events",
    "runs",
    "step_attempts",
    "step_results",
    "workers",
]

"""Tables of plans (plan runs, runs' phases, phase delegations, gate results, escalations,
agent spend).

Declared on the shared ``metadata``; their migrations form the ``plans`` Alembic branch, whose
first revision has ``down_revision = "0001_core"`` and ``branch_labels = ("plans",)``.
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
)

from runwright.store.schema.metadata import ID, metadata
from runwright.store.types import UtcDateTime

plan_runs = Table(
    "plan_runs",
    metadata,
    Column("run_id", String(ID), ForeignKey("runs.run_id"), primary_key=True),
    Column("plan_id", String(100), nullable=False),
    Column("project_id", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("plan_path", Text, nullable=False),
    Column("plan_sha256", String(64), nullable=False),
    Column("spec", Text, nullable=False),
    # intake | preflight | tests | implementation | validation | completion
    Column("stage", String(32), nullable=False),
    # running | waiting_decision | complete | blocked | escalated
    Column("status", String(32), nullable=False),
    Column("acknowledgment", Text),
    Column("schedule", Text, nullable=False),
    Column("completion", Text),
    Column("completion_path", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "project_id", "run_id"),
    Index(None, "plan_id", "run_id"),
)

#: The phase and the workstream a run works for (no row: neither), e.g. a patch agent's run
#: for a plan's phase.
phase_runs = Table(
    "phase_runs",
    metadata,
    Column("run_id", String(ID), ForeignKey("runs.run_id"), primary_key=True),
    Column("phase_id", String(200)),
    Column("workstream_id", String(200)),
)

plan_phases = Table(
    "plan_phases",
    metadata,
    Column("run_id", String(ID), ForeignKey("plan_runs.run_id"), primary_key=True),
    Column("phase_id", String(64), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("gate", String(32), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("child_run_id", String(ID)),
    # running | committed | failed | skipped
    Column("status", String(16), nullable=False),
    Column("correction", Text),
    Column("outcome", Text),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
)

plan_gates = Table(
    "plan_gates",
    metadata,
    Column("run_id", String(ID), ForeignKey("plan_runs.run_id"), primary_key=True),
    Column("gate", String(32), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("passed", Boolean, nullable=False),
    Column("result", Text, nullable=False),
    Column("evaluated_at", UtcDateTime, nullable=False),
)

plan_escalations = Table(
    "plan_escalations",
    metadata,
    Column("escalation_id", String(ID), primary_key=True),
    Column("run_id", String(ID), ForeignKey("plan_runs.run_id"), nullable=False),
    Column("plan_id", String(100), nullable=False),
    Column("project_id", String(200), nullable=False),
    Column("gate", String(32), nullable=False),
    Column("blocker_class", String(32), nullable=False),
    # open | answered
    Column("status", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime),
    Index(None, "status", "escalation_id"),
    Index(None, "run_id", "escalation_id"),
)

#: One row per agent call made for a plan delegation: what it spent (NULL: not reported).
plan_spend = Table(
    "plan_spend",
    metadata,
    Column("agent_run_id", String(ID), primary_key=True),
    Column("tool", String(100), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("run_id", String(ID), ForeignKey("plan_runs.run_id"), nullable=False),
    Column("phase_id", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("task_id", String(64)),
    Column("input_tokens", BigInteger),
    Column("output_tokens", BigInteger),
    Column("cost_usd", Float),
    Column("cost_estimated", Boolean, nullable=False),
    Column("wall_seconds", Float, nullable=False),
    Column("session_id", String(200)),
    Column("stopped_by", String(32)),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index(None, "run_id", "recorded_at"),
)

__all__ = [
    "metadata",
    "phase_runs",
    "plan_escalations",
    "plan_gates",
    "plan_phases",
    "plan_runs",
    "plan_spend",
]

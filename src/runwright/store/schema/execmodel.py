"""Tables of the execution model (blocks, op runs, runs' modes, debug packets, stop-rule firings).

Declared on the shared ``metadata``; their migrations form the ``execmodel`` Alembic branch, whose
first revision has ``down_revision = "0001_core"`` and ``branch_labels = ("execmodel",)``.
"""

from __future__ import annotations

from sqlalchemy import (
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

blocks = Table(
    "blocks",
    metadata,
    Column("block_id", String(ID), primary_key=True),
    Column("project_id", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("block_type", String(16), nullable=False),
    Column("mode_id", String(64)),
    Column("classified_mode_id", String(64)),
    Column("mode_override", Boolean, nullable=False, default=False),
    Column("tags", Text, nullable=False),
    Column("status", String(16), nullable=False),
    # the project id while the block is active, NULL after: one active block per project
    Column("active_key", String(200)),
    Column("planned_minutes", Float),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("next_pointer", Text),
    Column("governance_artifact", Text),
    Column("previous_block_id", String(ID), ForeignKey("blocks.block_id")),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("active_key"),
    Index(None, "project_id", "started_at"),
)

op_runs = Table(
    "op_runs",
    metadata,
    Column("run_id", String(ID), ForeignKey("runs.run_id"), primary_key=True),
    Column("op_id", String(200), nullable=False),
    Column("project_id", String(200), nullable=False),
    Column("mode_id", String(64), nullable=False),
    Column("mode_source", String(16), nullable=False),
    Column("block_id", String(ID), ForeignKey("blocks.block_id")),
    Column("timestamp_start", UtcDateTime, nullable=False),
    Column("timestamp_end", UtcDateTime),
    Column("inputs_used", Text, nullable=False),
    Column("outputs_written", Text),
    Column("acceptance_results", Text),
    Column("result", String(4)),
    Column("pattern", Text),
    Column("stop_rules", Text),
    Column("failure_path", Text),
    Column("over_timebox", Boolean, nullable=False, default=False),
    Column("finalized", Boolean, nullable=False, default=False),
    Column("retry_of", String(ID), ForeignKey("runs.run_id")),
    Index(None, "op_id", "timestamp_start"),
    Index(None, "project_id", "mode_id", "timestamp_start"),
    Index(None, "block_id"),
    Index(None, "finalized"),
)

#: The mode and the block a run was started in (no row: neither); a child run started by a
#: run that has one inherits it.
mode_runs = Table(
    "mode_runs",
    metadata,
    Column("run_id", String(ID), ForeignKey("runs.run_id"), primary_key=True),
    Column("mode_id", String(64)),
    Column("block_id", String(ID)),
    Index(None, "block_id", "run_id"),
)

debug_packets = Table(
    "debug_packets",
    metadata,
    Column("packet_id", String(ID), primary_key=True),
    Column("project_id", String(200), nullable=False),
    Column("mode_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("symptom", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("minimal_repro", Text),
    Column("hypotheses", Text, nullable=False),
    Column("experiments", Text, nullable=False),
    Column("decision", Text),
    Column("resolution_or_next", Text),
    Column("regression_guard", Text),
    Column("time_spent_minutes", Float),
    Column("next_pointer", Text),
    Column("source_run_id", String(ID), ForeignKey("runs.run_id")),
    Column("block_id", String(ID), ForeignKey("blocks.block_id")),
    Column("opened_by", String(100), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("concluded_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "project_id", "status"),
    Index(None, "source_run_id"),
)

stop_rule_firings = Table(
    "stop_rule_firings",
    metadata,
    Column("firing_id", String(ID), primary_key=True),
    Column("rule_id", String(100), nullable=False),
    Column("mode_id", String(64)),
    Column("project_id", String(200), nullable=False),
    Column("run_id", String(ID), ForeignKey("runs.run_id")),
    Column("block_id", String(ID), ForeignKey("blocks.block_id")),
    Column("packet_id", String(ID), ForeignKey("debug_packets.packet_id")),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("remedy", Text, nullable=False),
    Column("fired_at", UtcDateTime, nullable=False),
    Index(None, "project_id", "fired_at"),
    Index(None, "run_id"),
)

__all__ = [
    "blocks",
    "debug_packets",
    "metadata",
    "mode_runs",
    "op_runs",
    "stop_rule_firings",
]

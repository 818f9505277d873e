"""Tables of patches, the patch ledger, runs' patch work and routing.

Declared on the shared ``metadata``; their migrations form the ``patches`` Alembic branch, whose
first revision has ``down_revision = "0001_core"`` and ``branch_labels = ("patches",)``.
JSON values are stored as text (``runwright.store.types.dumps``).
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

patches = Table(
    "patches",
    metadata,
    Column("patch_id", String(ID), primary_key=True),
    Column("project_id", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Column("run_id", String(ID), ForeignKey("runs.run_id")),
    Column("format", String(64), nullable=False),
    Column("target_repo", Text, nullable=False),
    Column("base_ref", String(300)),
    Column("base_commit", String(64)),
    Column("summary", Text),
    Column("origin", Text, nullable=False),
    Column("scope", Text),
    Column("diff_text", Text, nullable=False),
    Column("diff_sha256", String(64), nullable=False),
    Column("signature", String(64)),
    Column("context", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("project_id", "position"),
)

patch_ledger = Table(
    "patch_ledger",
    metadata,
    Column("ledger_id", String(ID), primary_key=True),
    Column("patch_id", String(ID), ForeignKey("patches.patch_id"), nullable=False, unique=True),
    Column("project_id", String(200), nullable=False),
    Column("run_id", String(ID), ForeignKey("runs.run_id")),
    Column("state", String(16), nullable=False),
    Column("validation", Text, nullable=False),
    Column("state_history", Text, nullable=False),
    Column("apply", Text, nullable=False),
    Column("quarantine", Text, nullable=False),
    Column("relations", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "project_id", "state"),
)

#: A run's patch work (no row: none yet): the execution request it serves and how many
#: patches it created and applied.
patch_runs = Table(
    "patch_runs",
    metadata,
    Column("run_id", String(ID), ForeignKey("runs.run_id"), primary_key=True),
    Column("execution_request_id", String(200)),
    Column("patches_created", Integer, nullable=False, default=0),
    Column("patches_applied", Integer, nullable=False, default=0),
)

patch_route_counters = Table(
    "patch_route_counters",
    metadata,
    Column("project_id", String(200), primary_key=True),
    Column("rule_id", String(200), primary_key=True),
    Column("counter", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

patch_tool_runs = Table(
    "patch_tool_runs",
    metadata,
    Column("run_id", String(ID), primary_key=True),
    Column("attempt_key", String(300), primary_key=True),
    Column("project_id", String(200), nullable=False),
    Column("tool_id", String(200), nullable=False),
    Column("success", Boolean, nullable=False),
    Column("latency_seconds", Float, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index(None, "project_id", "tool_id", "recorded_at"),
)

patch_prompts = Table(
    "patch_prompts",
    metadata,
    Column("prompt_instance_id", String(ID), primary_key=True),
    Column("project_id", String(200), nullable=False),
    Column("run_id", String(ID), ForeignKey("runs.run_id")),
    Column("request_id", String(ID)),
    Column("template_id", String(200), nullable=False),
    Column("target_tool", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("sections", Text, nullable=False),
    Column("rendered", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "run_id"),
)

__all__ = [
    "metadata",
    "patch_ledger",
    "patch_prompts",
    "patch_route_counters",
    "patch_runs",
    "patch_tool_runs",
    "patches",
]

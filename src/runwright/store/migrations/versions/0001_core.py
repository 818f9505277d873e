"""Core tables: runs, dependencies, step attempts, step results, events, evidence, workers.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-22 05:00:58.368227
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import runwright.store.types

revision: str = "0001_core"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(length=26), nullable=False),
        sa.Column("project_id", sa.String(length=200), nullable=False),
        sa.Column("phase_id", sa.String(length=200), nullable=True),
        sa.Column("workstream_id", sa.String(length=200), nullable=True),
        sa.Column("execution_request_id", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("job_name", sa.String(length=300), nullable=False),
        sa.Column("job_module", sa.String(length=300), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.String(length=200), nullable=True),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("step_attempts", sa.Integer(), nullable=False),
        sa.Column("patches_created", sa.Integer(), nullable=False),
        sa.Column("patches_applied", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("created_at", runwright.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", runwright.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", runwright.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", runwright.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("kwargs", sa.Text(), nullable=False),
        sa.Column("parent_run_id", sa.String(length=26), nullable=True),
        sa.Column("max_parallel", sa.Integer(), nullable=True),
        sa.Column("running_children", sa.Integer(), nullable=False),
        sa.Column("pending_deps", sa.Integer(), nullable=False),
        sa.Column("has_dependents", sa.Boolean(), nullable=False),
        sa.Column("wait_for", sa.Text(), nullable=True),
        sa.Column("wait_remaining", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=300), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("next_pointer", sa.Text(), nullable=True),
        sa.Column("mode_id", sa.String(length=64), nullable=True),
        sa.Column("block_id", sa.String(length=26), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("available_at", runwright.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("wake_at", runwright.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column(
            "lease_expires_at", runwright.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=True),
        sa.Column("deadline_at", runwright.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("manifest_path", sa.Text(), nullable=True),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("last_event_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_run_id"], ["runs.run_id"], name=op.f("fk_runs_parent_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
        sa.UniqueConstraint(
            "project_id", "idempotency_key", name=op.f("uq_runs_project_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_runs_available_at_run_id"), ["available_at", "run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_runs_kind_run_id"), ["kind", "run_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_runs_job_name_run_id"), ["job_name", "run_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_runs_parent_run_id_run_id"), ["parent_run_id", "run_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_runs_project_id_run_id"), ["project_id", "run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_runs_state_run_id"), ["state", "run_id"], unique=False)

    op.create_table(
        "workers",
        sa.Column("worker_id", sa.String(length=100), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", runwright.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", runwright.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", runwright.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("current_run_id", sa.String(length=26), nullable=True),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_heartbeat_at"), ["heartbeat_at"], unique=False)

    op.create_table(
        "evidence",
        sa.Column("evidence_id", sa.String(length=26), nullable=False),
        sa.Column("run_id", sa.String(length=26), nullable=False),
        sa.Column("step_attempt_id", sa.String(length=26), nullable=True),
        sa.Column("artifact_path", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("manifest_path", sa.Text(), nullable=True),
        sa.Column("log_path", sa.Text(), nullable=True),
        sa.Column("commit_hash", sa.String(length=64), nullable=True),
        sa.Column("sheet_row", sa.String(length=200), nullable=True),
        sa.Column("created_at", runwright.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_evidence_run_id_runs")),
        sa.PrimaryKeyConstraint("evidence_id", name=op.f("pk_evidence")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_sha256"), ["sha256"], unique=False)

    op.create_table(
        "run_deps",
        sa.Column("run_id", sa.String(length=26), nullable=False),
        sa.Column("depends_on_run_id", sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(
            ["depends_on_run_id"], ["runs.run_id"], name=op.f("fk_run_deps_depends_on_run_id_runs")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_run_deps_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "depends_on_run_id", name=op.f("pk_run_deps")),
    )
    with op.batch_alter_table("run_deps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_run_deps_depends_on_run_id"), ["depends_on_run_id"], unique=False
        )

    op.create_table(
        "run_events",
        sa.Column("event_id", sa.String(length=26), nullable=False),
        sa.Column("run_id", sa.String(length=26), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts", runwright.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("step_attempt_id", sa.String(length=26), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_run_events_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_run_events")),
        sa.UniqueConstraint("run_id", "seq", name=op.f("uq_run_events_run_id_seq")),
    )
    with op.batch_alter_table("run_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_events_kind_ts"), ["kind", "ts"], unique=False)

    op.create_table(
        "step_attempts",
        sa.Column("step_attempt_id", sa.String(length=26), nullable=False),
        sa.Column("run_id", sa.String(length=26), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("step_key", sa.String(length=300), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("idempotent", sa.Boolean(), nullable=False),
        sa.Column("started_at", runwright.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", runwright.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("worker_id", sa.String(length=100), nullable=True),
        sa.Column("tool_run_id", sa.String(length=200), nullable=True),
        sa.Column("execution_request_id", sa.String(length=200), nullable=True),
        sa.Column("prompt_id", sa.String(length=200), nullable=True),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_step_attempts_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("step_attempt_id", name=op.f("pk_step_attempts")),
        sa.UniqueConstraint("run_id", "sequence", name=op.f("uq_step_attempts_run_id_sequence")),
    )
    with op.batch_alter_table("step_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_step_attempts_run_id_step_key"), ["run_id", "step_key"], unique=False
        )

    op.create_table(
        "step_results",
        sa.Column("run_id", sa.String(length=26), nullable=False),
        sa.Column("step_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("step_attempt_id", sa.String(length=26), nullable=False),
        sa.Column("completed_at", runwright.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_step_results_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "step_key", name=op.f("pk_step_results")),
    )


def downgrade() -> None:
    op.drop_table("step_results")
    with op.batch_alter_table("step_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_step_attempts_run_id_step_key"))

    op.drop_table("step_attempts")
    with op.batch_alter_table("run_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_events_kind_ts"))

    op.drop_table("run_events")
    with op.batch_alter_table("run_deps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_deps_depends_on_run_id"))

    op.drop_table("run_deps")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_sha256"))
        batch_op.drop_index(batch_op.f("ix_evidence_run_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_heartbeat_at"))

    op.drop_table("workers")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_state_run_id"))
        batch_op.drop_index(batch_op.f("ix_runs_project_id_run_id"))
        batch_op.drop_index(batch_op.f("ix_runs_parent_run_id_run_id"))
        batch_op.drop_index(batch_op.f("ix_runs_job_name_run_id"))
        batch_op.drop_index(batch_op.f("ix_runs_kind_run_id"))
        batch_op.drop_index(batch_op.f("ix_runs_available_at_run_id"))

    op.drop_table("runs")

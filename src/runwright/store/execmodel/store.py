"""The execution model's database operations: blocks and op runs (each one transaction).

Debug packets and stop-rule firings are in ``execmodel_debug``; both halves make up
``ExecModelStore``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from runwright.domain.events import EventKind
from runwright.domain.evidence import EvidenceLink
from runwright.domain.execmodel.blocks import Block, BlockStatus, GovernanceArtifact
from runwright.domain.execmodel.checks import CheckStatus
from runwright.domain.execmodel.debug import DebugPacket
from runwright.domain.execmodel.records import OpRunRecord, StopRuleFiring
from runwright.domain.runs import Run, StepResult
from runwright.domain.states import TERMINAL_RUN_STATES
from runwright.errors import Conflict, NotFound
from runwright.store.core.chain import NewEvent, append_locked
from runwright.store.core.records import NewRun
from runwright.store.core.rows import evidence_from_row, result_from_row, run_from_row
from runwright.store.core.run_features import SELECT_RUNS
from runwright.store.core.run_queries import insert_runs
from runwright.store.database import Database
from runwright.store.execmodel.debug import DebugOps
from runwright.store.execmodel.finalizing import find_finalize_run
from runwright.store.execmodel.rows import (
    block_from_row,
    block_row,
    firing_row,
    op_run_from_row,
    op_run_row,
    packet_row,
)
from runwright.store.schema import evidence, runs, step_results
from runwright.store.schema.execmodel import (
    blocks,
    debug_packets,
    mode_runs,
    op_runs,
    stop_rule_firings,
)
from runwright.store.types import dumps

_TERMINAL = [s.value for s in TERMINAL_RUN_STATES]


def insert_op_run(
    conn: Connection, spec: NewRun, record: OpRunRecord, payload: dict[str, Any], now: datetime
) -> None:
    """Create the core run, its op-run row and its mode_selected event in ``conn``."""
    insert_runs(conn, [spec], now)
    conn.execute(op_runs.insert(), [op_run_row(record)])
    append_locked(conn, spec.run_id, [NewEvent(EventKind.MODE_SELECTED, payload)], now)


class ExecModelStore(DebugOps):
    """Blocks, op runs, debug packets and stop-rule firings on one database."""

    def __init__(self, db: Database):
        self.db = db

    # ---- blocks -----------------------------------------------------------------------
    def start_block(
        self, block: Block, now: datetime, *, end: tuple[str, BlockStatus, str | None] | None = None
    ) -> Block:
        """Insert an active block; with ``end`` (block id, status, next pointer) the current
        block ends in the same transaction (a mode switch)."""

        def tx(conn: Connection) -> None:
            if end is not None:
                self._end(conn, end[0], end[1], end[2], None, now)
            active = conn.execute(
                select(blocks.c.block_id).where(blocks.c.active_key == block.project_id)
            ).scalar()
            if active is not None:
                raise Conflict(
                    f"block {active} is still active in project {block.project_id}",
                    hint="end it with `runwright block end --next …` or switch mode with "
                    "`runwright block switch --mode M --next …`",
                    block_id=active,
                )
            conn.execute(blocks.insert(), [block_row(block, now)])

        self.db.run(tx)
        return self.get_block(block.block_id)

    def _end(
        self,
        conn: Connection,
        block_id: str,
        status: BlockStatus,
        next_pointer: str | None,
        artifact: GovernanceArtifact | None,
        now: datetime,
    ) -> None:
        values: dict[str, Any] = {
            "status": str(status),
            "active_key": None,
            "ended_at": now,
            "next_pointer": next_pointer,
            "updated_at": now,
        }
        if artifact is not None:
            values["governance_artifact"] = dumps(artifact.model_dump())
        done = conn.execute(
            blocks.update()
            .where(blocks.c.block_id == block_id, blocks.c.status == BlockStatus.ACTIVE.value)
            .values(**values)
        )
        if done.rowcount != 1:
            raise Conflict(
                f"block {block_id} is no longer active", hint="see `runwright block status`"
            )

    def end_block(
        self,
        block_id: str,
        status: BlockStatus,
        next_pointer: str | None,
        artifact: GovernanceArtifact | None,
        now: datetime,
    ) -> Block:
        """End an active block (fails with Conflict if it already ended)."""
        self.db.run(lambda conn: self._end(conn, block_id, status, next_pointer, artifact, now))
        return self.get_block(block_id)

    def get_block(self, block_id: str) -> Block:
        """A block (without its runs and evidence), or NotFound."""
        row = self.db.run(
            lambda conn: conn.execute(select(blocks).where(blocks.c.block_id == block_id)).first(),
            write=False,
        )
        if row is None:
            raise NotFound(
                f"block {block_id} not found", hint="list blocks with `runwright block list`"
            )
        return block_from_row(row)

    def active_block(self, project_id: str) -> Block | None:
        """The project's active block, if any."""
        q = select(blocks).where(blocks.c.active_key == project_id)
        row = self.db.run(lambda conn: conn.execute(q).first(), write=False)
        return None if row is None else block_from_row(row)

    def list_blocks(self, project_id: str | None, *, limit: int = 50) -> list[Block]:
        """Blocks, newest first."""
        q = select(blocks).order_by(blocks.c.started_at.desc(), blocks.c.block_id.desc())
        if project_id:
            q = q.where(blocks.c.project_id == project_id)
        q = q.limit(limit)
        return self.db.run(lambda conn: [block_from_row(r) for r in conn.execute(q)], write=False)

    def block_runs(self, block_id: str) -> list[Run]:
        """The runs started inside a block, oldest first."""
        q = SELECT_RUNS.where(mode_runs.c.block_id == block_id).order_by(runs.c.run_id)
        return self.db.run(lambda conn: [run_from_row(r) for r in conn.execute(q)], write=False)

    def block_evidence(self, block_id: str) -> list[EvidenceLink]:
        """The evidence of every run started inside a block."""
        q = (
            select(evidence)
            .join(mode_runs, mode_runs.c.run_id == evidence.c.run_id)
            .where(mode_runs.c.block_id == block_id)
            .order_by(evidence.c.evidence_id)
        )
        return self.db.run(
            lambda conn: [evidence_from_row(r) for r in conn.execute(q)], write=False
        )

    # ---- op runs ----------------------------------------------------------------------
    def create_op_run(
        self, spec: NewRun, record: OpRunRecord, payload: dict[str, Any], now: datetime
    ) -> None:
        """Create the run and its op-run record in one transaction."""
        self.db.run(lambda conn: insert_op_run(conn, spec, record, payload, now))

    def find_op_run(self, run_id: str) -> OpRunRecord | None:
        """The op-run record of ``run_id``, or None if it is not an operator run."""
        q = select(op_runs).where(op_runs.c.run_id == run_id)
        row = self.db.run(lambda conn: conn.execute(q).first(), write=False)
        return None if row is None else op_run_from_row(row)

    def get_op_run(self, run_id: str) -> OpRunRecord:
        """The op-run record of ``run_id``, or NotFound."""
        found = self.find_op_run(run_id)
        if found is None:
            raise NotFound(
                f"run {run_id} is not an operator run",
                hint="list operator runs with `runwright op runs`",
                run_id=run_id,
            )
        return found

    def list_op_runs(
        self,
        *,
        op_id: str | None = None,
        project_id: str | None = None,
        mode_id: str | None = None,
        block_id: str | None = None,
        limit: int = 50,
    ) -> list[OpRunRecord]:
        """Op-run records, newest first."""
        q = select(op_runs)
        for column, value in (
            (op_runs.c.op_id, op_id),
            (op_runs.c.project_id, project_id),
            (op_runs.c.mode_id, mode_id),
            (op_runs.c.block_id, block_id),
        ):
            if value:
                q = q.where(column == value)
        q = q.order_by(op_runs.c.timestamp_start.desc(), op_runs.c.run_id.desc()).limit(limit)
        return self.db.run(lambda conn: [op_run_from_row(r) for r in conn.execute(q)], write=False)

    def unfinalized_ended(self, *, limit: int = 20) -> list[str]:
        """Op runs whose core run has ended but whose record is not finalized yet (normally
        only while their finalize run waits for a worker)."""
        q = (
            select(op_runs.c.run_id)
            .join(runs, runs.c.run_id == op_runs.c.run_id)
            .where(op_runs.c.finalized.is_(False), runs.c.state.in_(_TERMINAL))
            .order_by(op_runs.c.run_id)
            .limit(limit)
        )
        return self.db.run(lambda conn: [str(r) for r in conn.execute(q).scalars()], write=False)

    def finalize_run_of(self, project_id: str, op_run_id: str) -> str | None:
        """The id of the system run its end queued to finalize ``op_run_id`` (None: none)."""
        return self.db.run(lambda conn: find_finalize_run(conn, project_id, op_run_id), write=False)

    def memos(self, run_id: str) -> dict[str, StepResult]:
        """The memoized step results of a run, by step key."""
        q = select(step_results).where(step_results.c.run_id == run_id)
        return self.db.run(
            lambda conn: {r.step_key: result_from_row(r) for r in conn.execute(q)}, write=False
        )

    def failing_since(self, project_id: str, mode_id: str, *, exclude: str) -> datetime | None:
        """When the current failing streak of a project's op runs in a mode began: the first
        FAIL after the last PASS (None if there is no finalized FAIL since)."""

        def tx(conn: Connection) -> datetime | None:
            scope = and_(
                op_runs.c.project_id == project_id,
                op_runs.c.mode_id == mode_id,
                op_runs.c.finalized.is_(True),
                op_runs.c.run_id != exclude,
            )
            last_pass = conn.execute(
                select(func.max(op_runs.c.timestamp_start)).where(
                    scope, op_runs.c.result == CheckStatus.PASS.value
                )
            ).scalar()
            q = select(func.min(op_runs.c.timestamp_start)).where(
                scope, op_runs.c.result == CheckStatus.FAIL.value
            )
            if last_pass is not None:
                q = q.where(op_runs.c.timestamp_start > last_pass)
            value = conn.execute(q).scalar()
            return value if isinstance(value, datetime) else None

        return self.db.run(tx, write=False)

    def finalize_op_run(
        self,
        record: OpRunRecord,
        events: list[NewEvent],
        now: datetime,
        *,
        packets: Sequence[DebugPacket] = (),
        firings: Sequence[StopRuleFiring] = (),
        retry: tuple[NewRun, OpRunRecord, dict[str, Any]] | None = None,
    ) -> bool:
        """Store a finished op run's record, events, packets, firings and retry run at once.

        Returns False (and writes nothing) if another process finalized it first.
        """

        def tx(conn: Connection) -> bool:
            row = op_run_row(record)
            row.pop("run_id")
            done = conn.execute(
                op_runs.update()
                .where(op_runs.c.run_id == record.run_id, op_runs.c.finalized.is_(False))
                .values(**row)
            )
            if done.rowcount != 1:
                return False
            if packets:
                conn.execute(debug_packets.insert(), [packet_row(p, now) for p in packets])
            if firings:
                conn.execute(stop_rule_firings.insert(), [firing_row(f) for f in firings])
            if retry is not None:
                insert_op_run(conn, retry[0], retry[1], retry[2], now)
            if events:
                append_locked(conn, record.run_id, events, now)
            return True

        return self.db.run(tx)

"""The client's execution model: modes, blocks, operators, op runs and debug packets.

The CLI and the dashboard both go through this facade; the rules live in ``runwright.domain``
and ``runwright.execmodel``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runwright.domain.execmodel.blocks import Block
from runwright.domain.execmodel.classifier import Classification, classify
from runwright.domain.execmodel.debug import DebugPacket, MinimalRepro
from runwright.domain.execmodel.modes import Mode
from runwright.domain.execmodel.operators import Operator
from runwright.domain.execmodel.records import OpRunRecord, StopRuleFiring
from runwright.domain.execmodel.registry import ModeRegistry
from runwright.domain.runs import Run
from runwright.errors import NotFound
from runwright.execmodel import blocks, debugging, finalize, loader, opruns, runtime
from runwright.execmodel.blocks import BlockReport
from runwright.execmodel.config import ExecModelConfig, resolve_in_project
from runwright.execmodel.env import ExecEnv
from runwright.execmodel.loader import LoadedOperator
from runwright.execmodel.opruns import OpRunView

if TYPE_CHECKING:
    from runwright.api.client import Client

WAIT_MARGIN_SECONDS = 60.0


class OpsClient:
    """Operations on the execution model, through the shared client."""

    def __init__(self, client: Client):
        self.client = client

    @cached_property
    def env(self) -> ExecEnv:
        """The execution model's services' view of the client."""
        from runwright.api.client import whoami

        c = self.client
        return ExecEnv(
            store=c.store, settings=c.settings, clock=c.clock, blobs=c.blobs, who=whoami()
        )

    @property
    def config(self) -> ExecModelConfig:
        """``[execmodel]`` of the project's config."""
        return self.env.config

    # ---- modes and the classifier -----------------------------------------------------
    @property
    def registry(self) -> ModeRegistry:
        """The modes (built-in, extended by the project), the tags and universal stop rules."""
        return self.env.registry

    def modes(self) -> list[Mode]:
        """The modes in classifier (table) order."""
        return list(self.registry.modes)

    def mode(self, mode_id: str) -> Mode:
        """One mode (any case)."""
        return self.registry.get(mode_id)

    def classify(self, title: str, *, mode: str | None = None) -> Classification:
        """The mode of a session title by the keyword table; ``mode`` overrides."""
        return classify(title, self.registry, override=mode)

    # ---- blocks -----------------------------------------------------------------------
    def start_block(
        self,
        title: str,
        *,
        block_type: str = "FOCUS",
        mode: str | None = None,
        tags: Iterable[str] = (),
        planned_minutes: float | None = None,
        project_id: str | None = None,
    ) -> Block:
        """Start a time block (one per project at a time)."""
        return blocks.start_block(
            self.env,
            title,
            block_type=block_type,
            mode=mode,
            tags=tags,
            planned_minutes=planned_minutes,
            project_id=project_id,
        )

    def active_block(self, project_id: str | None = None) -> Block | None:
        """The project's active block, with its runs and evidence."""
        found = blocks.active(self.env, project_id)
        return None if found is None else blocks.with_evidence(self.env, found)

    def block(self, block_id: str) -> Block:
        """One block with its runs and evidence."""
        return blocks.with_evidence(self.env, self.env.em.get_block(block_id))

    def block_report(self, project_id: str | None = None) -> BlockReport | None:
        """The active block's status and the stop rules due in it."""
        return blocks.report(self.env, project_id)

    def list_blocks(self, project_id: str | None = None, *, limit: int = 50) -> list[Block]:
        """Blocks, newest first."""
        return self.env.em.list_blocks(project_id, limit=limit)

    def end_block(
        self,
        *,
        next_pointer: str | None,
        artifact: str | None = None,
        incomplete: bool = False,
        project_id: str | None = None,
    ) -> Block:
        """End the active block: completed with evidence or an artifact, plus a next pointer."""
        return blocks.end_block(
            self.env,
            next_pointer=next_pointer,
            artifact=artifact,
            incomplete=incomplete,
            project_id=project_id,
        )

    def switch_block(
        self,
        mode: str,
        *,
        next_pointer: str | None,
        title: str | None = None,
        incomplete: bool = False,
        project_id: str | None = None,
    ) -> tuple[Block, Block]:
        """End the active block and start one in ``mode``: (ended, started)."""
        return blocks.switch_block(
            self.env,
            mode=mode,
            next_pointer=next_pointer,
            title=title,
            incomplete=incomplete,
            project_id=project_id,
        )

    def start_in_block(
        self, job: Callable[..., Any] | str, *args: Any, project_id: str | None = None, **kw: Any
    ) -> Run:
        """Start any job inside the active block: the run carries the block's mode."""
        block = blocks.require_active(self.env, project_id)
        return self.client.start(
            job,
            *args,
            project_id=block.project_id,
            mode_id=block.mode_id,
            block_id=block.block_id,
            **kw,
        )

    # ---- operators --------------------------------------------------------------------
    def operators_dir(self) -> Path:
        """Where the project's operators live (``[execmodel] operators_dir``)."""
        return resolve_in_project(self.client.settings, self.config.operators_dir)

    def _source(self, source: str | Path | None) -> Path:
        return Path(source) if source else self.operators_dir()

    def operators(self, source: str | Path | None = None) -> list[LoadedOperator]:
        """The operators of a file or folder (default: the project's operators)."""
        return loader.load_operators(self._source(source), self.registry)

    def operator(self, op_id: str, source: str | Path | None = None) -> LoadedOperator:
        """One operator by op_id."""
        found = {lo.operator.op_id: lo for lo in self.operators(source)}
        if op_id not in found:
            raise NotFound(
                f"no operator {op_id!r} in {self._source(source)}",
                hint=f"known: {', '.join(found) or 'none'} (`runwright op list`)",
                field="op_id",
            )
        return found[op_id]

    def validate_operators(self, source: str | Path | None = None) -> list[tuple[Path, str | None]]:
        """Every operator file with its first problem (None if valid)."""
        return loader.validate_files(self._source(source), self.registry)

    # ---- op runs ----------------------------------------------------------------------
    def start_op_run(
        self,
        op: Operator,
        inputs: Mapping[str, Any] | None = None,
        *,
        mode: str | None = None,
        project_id: str | None = None,
        in_block: bool = True,
        source: str | Path | None = None,
    ) -> Run:
        """Create an op run (not executed yet): one project, one mode legal for ``op``;
        ``source`` is the operator file or folder ``op`` came from, if not the default."""
        project = self.env.project(project_id)
        block = blocks.active(self.env, project) if in_block else None
        operators = str(Path(source).resolve()) if source else None
        return opruns.start(
            self.env,
            op,
            inputs or {},
            mode=mode,
            project_id=project,
            block=block,
            operators=operators,
        )

    def execute(self, run_id: str, *, timeout: float | None = None) -> OpRunView:
        """Execute an op run in this process until it ends, then finalize it (the finalize
        run its end queued, executed here too unless a worker took it)."""
        run = self.client.get(run_id)
        budget = (
            timeout if timeout is not None else (run.timeout_seconds or 600) + WAIT_MARGIN_SECONDS
        )
        with runtime.bound(self.client.settings):
            self.client.wait(run_id, timeout=budget)
            follow_up = self.env.em.finalize_run_of(run.project_id, run_id)
            if follow_up is not None:
                self.client.wait(follow_up, timeout=budget)
        if not self.env.em.get_op_run(run_id).finalized:
            # No finalize run (an op run that ended before ends queued one) or it failed:
            # finalize here (idempotent), so that the error, if any, reaches the caller.
            finalize.finalize(self.env, run_id)
        return self.op_run(run_id)

    def run_operator(
        self,
        op: Operator,
        inputs: Mapping[str, Any] | None = None,
        *,
        mode: str | None = None,
        project_id: str | None = None,
        on_start: Callable[[Run], None] | None = None,
    ) -> list[OpRunView]:
        """Start and execute an op run, following its retry failure path; the chain of runs."""
        run = self.start_op_run(op, inputs, mode=mode, project_id=project_id)
        return self.follow(run, on_start=on_start)

    def follow(self, run: Run, *, on_start: Callable[[Run], None] | None = None) -> list[OpRunView]:
        """Execute a started op run and every retry its failure paths start; the chain."""
        chain: list[OpRunView] = []
        while True:
            if on_start is not None:
                on_start(run)
            view = self.execute(run.run_id)
            chain.append(view)
            path = view.record.failure_path
            if path is None or path.retry_run_id is None or len(chain) > 10:
                return chain
            run = self.client.get(path.retry_run_id)

    def progress(self, run_id: str) -> list[opruns.ProgressRow]:
        """Where each step and check of an op run is now (for live views)."""
        return opruns.progress(self.env, run_id)

    def is_op_run(self, run_id: str) -> bool:
        """True when ``run_id`` is an operator run."""
        return self.env.em.find_op_run(run_id) is not None

    def op_run(self, run_id: str) -> OpRunView:
        """An op run, with whether it counts once its finalize run recorded its results."""
        return opruns.view(self.env, run_id)

    def op_runs(
        self,
        *,
        op_id: str | None = None,
        project_id: str | None = None,
        mode_id: str | None = None,
        block_id: str | None = None,
        limit: int = 50,
    ) -> list[OpRunRecord]:
        """Op-run records, newest first (an ended one is ``finalized`` once its finalize run
        ran)."""
        return self.env.em.list_op_runs(
            op_id=op_id, project_id=project_id, mode_id=mode_id, block_id=block_id, limit=limit
        )

    def finalize_pending(self) -> int:
        """Finalize ended op runs that no finalize run covers (they ended before an op
        run's end queued one); return how many."""
        return finalize.finalize_pending(self.env)

    def suggested_next_pointer(self, run_id: str) -> str | None:
        """The next pointer the operator's rule (or its failure path) writes, if any."""
        return opruns.suggested_next_pointer(self.env, run_id)

    def set_next_pointer(self, run_id: str, next_pointer: str) -> Run:
        """Record an op run's next pointer (over its timebox: reschedule or re-scope)."""
        return opruns.set_next_pointer(self.env, run_id, next_pointer)

    def firings(
        self,
        *,
        project_id: str | None = None,
        run_id: str | None = None,
        block_id: str | None = None,
        packet_id: str | None = None,
        limit: int = 50,
    ) -> list[StopRuleFiring]:
        """Stop-rule firings, newest first."""
        return self.env.em.list_firings(
            project_id=project_id,
            run_id=run_id,
            block_id=block_id,
            packet_id=packet_id,
            limit=limit,
        )

    # ---- debug packets ----------------------------------------------------------------
    def new_packet(
        self,
        symptom: str,
        *,
        context: str = "",
        repro: MinimalRepro | None = None,
        mode: str | None = None,
        run_id: str | None = None,
        project_id: str | None = None,
    ) -> DebugPacket:
        """Open a debug packet (CONTRACT work needs a minimal repro)."""
        return debugging.new(
            self.env,
            symptom=symptom,
            context=context,
            minimal_repro=repro,
            mode=mode,
            run_id=run_id,
            project_id=project_id,
        )

    def packet(self, packet_id: str) -> DebugPacket:
        """One debug packet."""
        return debugging.get(self.env, packet_id)

    def packets(
        self, *, project_id: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[DebugPacket]:
        """Debug packets, newest first."""
        return self.env.em.list_packets(project_id=project_id, status=status, limit=limit)

    def add_hypothesis(self, packet_id: str, text: str) -> DebugPacket:
        """Add a hypothesis (refused past the limit; the stop rule fires)."""
        return debugging.add_hypothesis(self.env, packet_id, text)

    def add_experiment(
        self,
        packet_id: str,
        *,
        change: str,
        result: str,
        evidence: Iterable[str],
        hypothesis: str | None = None,
    ) -> DebugPacket:
        """Record an experiment with its evidence (files, run ids, note:TEXT)."""
        return debugging.add_experiment(
            self.env,
            packet_id,
            change=change,
            result=result,
            evidence=evidence,
            hypothesis=hypothesis,
        )

    def conclude(
        self,
        packet_id: str,
        *,
        decision: str,
        resolution_or_next: str,
        regression_guard: str | None = None,
        time_spent_minutes: float | None = None,
    ) -> DebugPacket:
        """Conclude a packet with a decision and a resolution (or next experiments)."""
        return debugging.conclude(
            self.env,
            packet_id,
            decision=decision,
            resolution_or_next=resolution_or_next,
            regression_guard=regression_guard,
            time_spent_minutes=time_spent_minutes,
        )

    def close_packet(self, packet_id: str, *, next_pointer: str) -> DebugPacket:
        """Close a concluded packet with its next pointer."""
        return debugging.close(self.env, packet_id, next_pointer=next_pointer)

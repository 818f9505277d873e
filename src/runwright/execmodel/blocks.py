"""Time blocks: start (one mode, classified from the title when not given), switch, end."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from runwright.domain.execmodel.blocks import (
    Block,
    BlockStatus,
    BlockType,
    GovernanceArtifact,
    end_status,
    require_mode,
)
from runwright.domain.execmodel.classifier import Classification, classify
from runwright.domain.execmodel.records import StopRuleFiring
from runwright.domain.execmodel.stoprules import FiredStopRule, StopFacts, evaluate
from runwright.domain.execmodel.validation import translated
from runwright.domain.ids import new_id
from runwright.domain.runs import Run
from runwright.errors import NotFound, ValidationError
from runwright.execmodel.env import ExecEnv
from runwright.execmodel.paths import confine, user_base


@dataclass
class BlockReport:
    """A block with its runs, their evidence, and the stop rules that are due."""

    block: Block
    runs: list[Run]
    elapsed_minutes: float
    due: list[FiredStopRule] = field(default_factory=list)
    firings: list[StopRuleFiring] = field(default_factory=list)


def _block_type(value: str | BlockType) -> BlockType:
    try:
        return BlockType(str(value).upper())
    except ValueError:
        raise ValidationError(
            f"block type {value!r} is not one of {', '.join(t.value for t in BlockType)}",
            field="block_type",
        ) from None


def _new_block(
    env: ExecEnv,
    *,
    title: str,
    block_type: BlockType,
    mode: str | None,
    tags: Iterable[str],
    planned_minutes: float | None,
    project_id: str,
    previous: str | None = None,
) -> Block:
    picked: Classification = classify(title, env.registry, override=mode)
    mode_id = picked.mode_id  # ADMIN and FREE blocks may have none
    require_mode(block_type, mode_id, title, env.registry.ids())
    with translated("block"):
        return Block(
            block_id=new_id(),
            project_id=project_id,
            title=picked.title,
            block_type=block_type,
            mode_id=mode_id,
            classified_mode_id=picked.classified_mode_id,
            mode_override=picked.override and picked.classified_mode_id != mode_id,
            tags=[env.registry.check_tag(t) for t in tags],
            planned_minutes=planned_minutes,
            started_at=env.clock.now(),
            previous_block_id=previous,
        )


def start_block(
    env: ExecEnv,
    title: str,
    *,
    block_type: str | BlockType = BlockType.FOCUS,
    mode: str | None = None,
    tags: Iterable[str] = (),
    planned_minutes: float | None = None,
    project_id: str | None = None,
) -> Block:
    """Start a block; MAINT/FOCUS need a mode (classified from the title when not given)."""
    block = _new_block(
        env,
        title=title,
        block_type=_block_type(block_type),
        mode=mode,
        tags=tags,
        planned_minutes=planned_minutes,
        project_id=env.project(project_id),
    )
    return env.em.start_block(block, env.clock.now())


def active(env: ExecEnv, project_id: str | None = None) -> Block | None:
    """The project's active block."""
    return env.em.active_block(env.project(project_id))


def require_active(env: ExecEnv, project_id: str | None = None) -> Block:
    """The project's active block, or NotFound saying how to start one."""
    found = active(env, project_id)
    if found is None:
        raise NotFound(
            f"no active block in project {env.project(project_id)}",
            hint='start one with `runwright block start --title "…"`',
        )
    return found


def with_evidence(env: ExecEnv, block: Block) -> Block:
    """The block with its runs and their evidence filled in."""
    runs = env.em.block_runs(block.block_id)
    links = env.em.block_evidence(block.block_id)
    return block.model_copy(update={"run_ids": [r.run_id for r in runs], "evidence_links": links})


def governance_artifact(env: ExecEnv, path: str) -> GovernanceArtifact:
    """A decision file inside the project, hashed and stored as evidence."""
    root = env.settings.project_root
    target = confine(
        path,
        (root, env.settings.home),
        base=user_base(env.settings.project_root),
        field="--artifact",
    )
    if not target.is_file():
        raise ValidationError(f"--artifact: {path} is not a file", field="governance_artifact")
    sha, size, _ = env.blobs.put_file(target)
    shown = str(target.relative_to(root)) if target.is_relative_to(root) else str(target)
    return GovernanceArtifact(path=shown, sha256=sha, size=size)


def _close_status(
    env: ExecEnv, block: Block, next_pointer: str | None, artifact: str | None, incomplete: bool
) -> tuple[BlockStatus, GovernanceArtifact | None, str | None]:
    line = (next_pointer or "").strip() or None
    if line and ("\n" in line or "\r" in line):
        raise ValidationError("the next pointer must be one line", field="next_pointer")
    found = governance_artifact(env, artifact) if artifact else None
    status = end_status(
        block.block_type,
        has_evidence=bool(env.em.block_evidence(block.block_id)),
        has_artifact=found is not None,
        next_pointer=line,
        allow_incomplete=incomplete,
    )
    return status, found, line


def end_block(
    env: ExecEnv,
    *,
    next_pointer: str | None,
    artifact: str | None = None,
    incomplete: bool = False,
    project_id: str | None = None,
) -> Block:
    """End the active block: completed with evidence (or an artifact) and a next pointer."""
    block = require_active(env, project_id)
    status, found, line = _close_status(env, block, next_pointer, artifact, incomplete)
    ended = env.em.end_block(block.block_id, status, line, found, env.clock.now())
    return with_evidence(env, ended)


def switch_block(
    env: ExecEnv,
    *,
    mode: str,
    next_pointer: str | None,
    title: str | None = None,
    incomplete: bool = False,
    project_id: str | None = None,
) -> tuple[Block, Block]:
    """A mode switch: end the active block and start a new one in ``mode`` (one transaction)."""
    block = require_active(env, project_id)
    mode_id = env.registry.check(mode, field="--mode")
    if mode_id == block.mode_id:
        raise ValidationError(
            f"the active block is already in {mode_id}", hint="keep working in it", field="mode"
        )
    status, _, line = _close_status(env, block, next_pointer, None, incomplete)
    new = _new_block(
        env,
        title=title or block.title,
        block_type=block.block_type,
        mode=mode_id,
        tags=block.tags,
        planned_minutes=block.planned_minutes,
        project_id=block.project_id,
        previous=block.block_id,
    )
    started = env.em.start_block(new, env.clock.now(), end=(block.block_id, status, line))
    return with_evidence(env, env.em.get_block(block.block_id)), started


def report(env: ExecEnv, project_id: str | None = None) -> BlockReport | None:
    """The active block's status, with the universal stop rules that are due in it."""
    block = active(env, project_id)
    if block is None:
        return None
    block = with_evidence(env, block)
    runs = env.em.block_runs(block.block_id)
    elapsed = (env.clock.now() - block.started_at).total_seconds() / 60
    due: list[FiredStopRule] = []
    if block.mode_id in env.config.debug_modes:
        records = env.em.list_op_runs(block_id=block.block_id, limit=500)
        passed = any(r.result == "PASS" for r in records)
        open_packets = env.em.list_packets(project_id=block.project_id, status="open")
        facts = StopFacts(
            mode_id=block.mode_id,
            failing_minutes=None if passed else elapsed,
            has_repro=any(p.minimal_repro is not None for p in open_packets),
        )
        due = evaluate(env.registry.universal_rules, facts, env.config.thresholds)
    firings = env.em.list_firings(block_id=block.block_id, limit=20)
    return BlockReport(block=block, runs=runs, elapsed_minutes=elapsed, due=due, firings=firings)

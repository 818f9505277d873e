"""Failure paths and debug packets opened by the engine after a failed op run."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

from runwright.domain.execmodel.checks import CheckStatus
from runwright.domain.execmodel.debug import DebugPacket, MinimalRepro
from runwright.domain.execmodel.operators import FailurePath, FailureTrigger, Operator
from runwright.domain.execmodel.records import OpRunRecord
from runwright.domain.ids import new_id
from runwright.execmodel.runtime import RunContext
from runwright.execmodel.summary import Summary


def applies(path: FailurePath, summary: Summary, *, over_timebox: bool) -> bool:
    """True when ``path`` is for the way this run ended."""
    failed = {r.check_id for r in summary.acceptance_results if r.status == CheckStatus.FAIL}
    match path.when:
        case FailureTrigger.TIMEBOX:
            return over_timebox
        case FailureTrigger.CHECK_FAILED:
            return path.check in failed
        case FailureTrigger.FAIL:
            return summary.result == CheckStatus.FAIL
        case FailureTrigger.WARN:
            return summary.result == CheckStatus.WARN
    return False  # pragma: no cover


def choose(
    op: Operator, summary: Summary, *, over_timebox: bool, retries_done: int
) -> FailurePath | None:
    """The first failure path that applies; a retry whose budget is spent gives way to the
    next path (e.g. retry once, then open a debug packet)."""
    for path in op.failure_paths:
        if not applies(path, summary, over_timebox=over_timebox):
            continue
        if path.action == "retry" and retries_done >= path.max_retries:
            continue
        return path
    return None


def _input_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def repro_command(op: Operator, record: OpRunRecord, ctx: RunContext) -> str:
    """The command that reruns this op run, as it ran: the same home (``--home``), operator
    source (``--ops``, if not the default), project, mode and inputs; quoted for a shell, so
    it runs as printed from any folder."""
    parts = ["runwright", "--home", ctx.home, "op", "run", op.op_id]
    if ctx.operators:
        parts += ["--ops", ctx.operators]
    if record.project_id != Path(ctx.home).parent.name:
        parts += ["--project", record.project_id]
    parts += ["--mode", record.mode_id]
    for name, value in sorted(record.inputs_used.items()):
        parts += ["--input", f"{name}={_input_text(value)}"]
    return shlex.join(parts)


def packet_for(
    op: Operator,
    record: OpRunRecord,
    summary: Summary,
    ctx: RunContext,
    *,
    opened_by: str,
    now: datetime,
) -> DebugPacket:
    """A debug packet about a failed op run, with its minimal repro filled in."""
    failing = [r for r in summary.acceptance_results if r.status == CheckStatus.FAIL]
    actual = "; ".join(f"{r.check_id}: {r.message}" for r in failing) or "the run failed"
    commands = [repro_command(op, record, ctx)]
    for r in failing:
        for p in r.probes:
            argv = p.details.get("argv")
            if isinstance(argv, list):
                commands.append(shlex.join(str(a) for a in argv))
    started = f"{record.timestamp_start:%Y-%m-%d %H:%M}Z"
    return DebugPacket(
        packet_id=new_id(),
        project_id=record.project_id,
        mode_id=record.mode_id,
        symptom=f"{op.op_id} fails in {record.mode_id}: {actual}"[:1000],
        context=f"op run {record.run_id} ({op.name}), started {started}",
        minimal_repro=MinimalRepro(
            commands=commands,
            inputs=json.dumps(record.inputs_used, sort_keys=True),
            expected="every acceptance check PASS",
            actual=actual[:1000],
        ),
        source_run_id=record.run_id,
        block_id=record.block_id,
        opened_by=opened_by,
        opened_at=now,
    )

"""Op runs: start (one project, one legal mode) and read back as the seed's OpRun with whether
it counts; ``finalize`` records their results (evidence pattern, stop rules, failure paths)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runwright.domain.execmodel.blocks import Block, needs_new_block
from runwright.domain.execmodel.checks import CheckStatus
from runwright.domain.execmodel.classifier import ModeSource
from runwright.domain.execmodel.operators import Operator
from runwright.domain.execmodel.opruns import Counting, OpRun
from runwright.domain.execmodel.patterns import effective_pattern, evaluate_pattern
from runwright.domain.execmodel.records import OpRunRecord
from runwright.domain.execmodel.templating import render
from runwright.domain.execmodel.validation import translated
from runwright.domain.ids import new_id
from runwright.domain.runs import Origin, Run, RunKind, StepAttempt, TriggerType
from runwright.domain.states import TERMINAL_RUN_STATES
from runwright.errors import Conflict, ValidationError
from runwright.execmodel.env import ExecEnv
from runwright.execmodel.job import JOB_NAME
from runwright.execmodel.runtime import RunContext, resolve_inputs
from runwright.store.core import NewRun

RESCHEDULE_WORDS = ("reschedule", "re-scope", "rescope")


@dataclass
class OpRunView:
    """An operator run as shown to people: the record, the core run, and once it has ended
    the seed's OpRun with whether it counts."""

    record: OpRunRecord
    run: Run
    steps: list[StepAttempt]
    op_run: OpRun | None
    counting: Counting | None


def choose_mode(
    env: ExecEnv, op: Operator, mode: str | None, block: Block | None
) -> tuple[str, ModeSource]:
    """Exactly one mode, legal for ``op``: --mode, else the block's, else the operator's only."""
    if mode:
        mode_id, source = env.registry.check(mode, field="--mode"), ModeSource.OVERRIDE
        if block is not None and needs_new_block(block.mode_id, mode_id):
            raise Conflict(
                f"the active block is in {block.mode_id}; {mode_id} work needs its own block",
                hint=f"a mode switch starts a new block: runwright block switch --mode {mode_id} "
                '--next "…"',
                field="mode",
            )
    elif block is not None and block.mode_id:
        mode_id, source = block.mode_id, ModeSource.BLOCK
    elif len(op.mode_ids) == 1:
        mode_id, source = op.mode_ids[0], ModeSource.OPERATOR
    else:
        raise ValidationError(
            f"operator {op.op_id} is legal in {', '.join(op.mode_ids)}: an op run needs one mode",
            hint="pick one with --mode",
            field="mode",
        )
    if mode_id not in op.mode_ids:
        where = " (the active block's mode)" if source == ModeSource.BLOCK else ""
        raise ValidationError(
            f"operator {op.op_id} is not legal in {mode_id}{where}",
            hint=f"it is legal in {', '.join(op.mode_ids)}",
            field="mode",
        )
    return mode_id, source


def start(
    env: ExecEnv,
    op: Operator,
    inputs: Mapping[str, Any],
    *,
    mode: str | None = None,
    project_id: str | None = None,
    block: Block | None = None,
    retry_of: str | None = None,
    operators: str | None = None,
) -> Run:
    """Create the op run (a durable operator run) without executing it; ``operators`` is
    the file or folder ``op`` was loaded from, if not the project's default."""
    spec, record, payload = prepare(
        env,
        op,
        inputs,
        mode=mode,
        project_id=project_id,
        block=block,
        retry_of=retry_of,
        operators=operators,
    )
    env.em.create_op_run(spec, record, payload, env.clock.now())
    return env.store.get_run(spec.run_id)


def prepare(
    env: ExecEnv,
    op: Operator,
    inputs: Mapping[str, Any],
    *,
    mode: str | None,
    project_id: str | None,
    block: Block | None,
    retry_of: str | None = None,
    source: ModeSource | None = None,
    operators: str | None = None,
) -> tuple[NewRun, OpRunRecord, dict[str, Any]]:
    """The core run, the op-run record and the mode_selected payload of a new op run."""
    project = env.project(project_id)
    mode_id, chosen = choose_mode(env, op, mode, block)
    run_id = new_id()
    home = env.settings.home.resolve()
    ctx = RunContext(
        op_id=op.op_id,
        mode_id=mode_id,
        project_id=project,
        project_root=str(env.settings.project_root.resolve()),
        home=str(home),
        workdir=str(home / "opruns" / run_id),
        evidence_dir=str(env.settings.evidence_dir.resolve()),
        operators=operators,
    )
    Path(ctx.workdir).mkdir(parents=True, exist_ok=True)
    resolved = resolve_inputs(op, inputs, ctx)
    preflight(op, ctx.values(resolved, run_id), ctx)
    spec = NewRun(
        run_id=run_id,
        job_name=JOB_NAME,
        job_module="runwright.execmodel.job",
        kwargs={
            "operator": op.model_dump(mode="json", by_alias=True, exclude_none=True),
            "inputs": resolved,
            "context": ctx.model_dump(),
        },
        project_id=project,
        kind=RunKind.OPERATOR,
        origin=Origin(
            trigger_type=TriggerType.MANUAL if retry_of is None else TriggerType.OTHER,
            trigger_ref=op.op_id if retry_of is None else f"retry_of:{retry_of}",
            requested_by=env.who,
        ),
        timeout_seconds=op.timebox_minutes * 60,
        mode_id=mode_id,
        block_id=block.block_id if block else None,
    )
    record = OpRunRecord(
        run_id=run_id,
        op_id=op.op_id,
        project_id=project,
        mode_id=mode_id,
        mode_source=source or chosen,
        block_id=block.block_id if block else None,
        timestamp_start=env.clock.now(),
        inputs_used=resolved,
        retry_of=retry_of,
    )
    payload = {
        "mode_id": mode_id,
        "source": str(record.mode_source),
        "op_id": op.op_id,
        "legal_modes": list(op.mode_ids),
        "block_id": record.block_id,
        "override": record.mode_source == ModeSource.OVERRIDE,
    }
    return spec, record, payload


PROBE_PATHS = ("path", "schema_path", "manifest", "cwd")


def preflight(op: Operator, values: Mapping[str, Any], ctx: RunContext) -> None:
    """Render every templated path of ``op`` and refuse, naming the field, one that is
    missing a value or leaves the project — before anything runs."""

    def check(template: str, field: str) -> None:
        ctx.confine(render(template, values, field=field), field=field)

    for i, s in enumerate(op.steps):
        for name in ("cwd", "stdout_to"):
            value = getattr(s, name)
            if value:
                check(value, f"steps[{i}].{name}")
    for i, o in enumerate(op.outputs):
        check(o.path, f"outputs[{i}].path")
    for i, c in enumerate(op.acceptance_checks):
        for j, p in enumerate(c.probes):
            where = f"acceptance_checks[{i}].probes[{j}]"
            for name in PROBE_PATHS:
                value = getattr(p, name, None)
                if isinstance(value, str):
                    check(value, f"{where}.{name}")
            for k, produced in enumerate(getattr(p, "produces", [])):
                check(produced, f"{where}.produces[{k}]")
    for field, text in op.template_strings():
        if field != "next_pointer_rule":
            render(text, values, field=field)


def operator_of(run: Run) -> Operator:
    """The operator spec an op run was started with."""
    with translated(f"operator of run {run.run_id}"):
        return Operator.model_validate(run.kwargs["operator"])


def context_of(run: Run) -> RunContext:
    """Where an op run executes (its home, project, the operators it was loaded from)."""
    with translated(f"context of run {run.run_id}"):
        return RunContext.model_validate(run.kwargs["context"])


def view(env: ExecEnv, run_id: str) -> OpRunView:
    """An op run as stored (its finalize run records the results once it has ended)."""
    record = env.em.get_op_run(run_id)
    run = env.store.get_run(run_id)
    steps = env.store.list_step_attempts(run_id)
    if not record.finalized or record.result is None:
        return OpRunView(record, run, steps, None, None)
    op = operator_of(run)
    verdict = None
    if record.pattern is not None and record.mode_id in env.registry:
        items = effective_pattern(env.registry.get(record.mode_id), op.evidence_pattern)
        verdict = evaluate_pattern(
            record.mode_id, items, record.pattern, has_next_pointer=bool(run.next_pointer)
        )
    with translated(f"op run {run_id}"):
        op_run = OpRun(
            op_id=record.op_id,
            project_id=record.project_id,
            mode_id=record.mode_id,
            timestamp_start=record.timestamp_start,
            timestamp_end=record.timestamp_end,
            inputs_used=record.inputs_used,
            outputs_written=record.outputs_written,
            acceptance_results=record.acceptance_results,
            result=record.result,
            evidence_links=env.store.list_evidence(run_id),
            next_pointer=run.next_pointer,
            run_id=run_id,
            mode_source=record.mode_source,
            block_id=record.block_id,
            over_timebox=record.over_timebox,
            evidence_pattern=verdict,
            stop_rules_fired=record.stop_rules,
            failure_path=record.failure_path,
            retry_of=record.retry_of,
        )
    return OpRunView(record, run, steps, op_run, op_run.counting())


def suggested_next_pointer(env: ExecEnv, run_id: str) -> str | None:
    """The next pointer the operator's ``next_pointer_rule`` writes (none when over timebox)."""
    record = env.em.get_op_run(run_id)
    run = env.store.get_run(run_id)
    if record.over_timebox or record.result is None:
        return None
    op = operator_of(run)
    if record.failure_path is not None and record.failure_path.action == "switch_mode":
        note = f": {record.failure_path.note}" if record.failure_path.note else ""
        return f"switch to {record.failure_path.to_mode} mode{note}"
    if not op.next_pointer_rule:
        return None
    ctx = RunContext.model_validate(run.kwargs["context"])
    values = {**ctx.values(record.inputs_used, run_id), "result": str(record.result)}
    line = render(op.next_pointer_rule, values, field="next_pointer_rule").strip()
    return line.splitlines()[0] if line else None


def set_next_pointer(env: ExecEnv, run_id: str, text: str) -> Run:
    """Record an op run's one-line next pointer; over its timebox it must reschedule or
    re-scope."""
    record = env.em.get_op_run(run_id)
    line = text.strip()
    if record.over_timebox and not line.lower().startswith(RESCHEDULE_WORDS):
        raise ValidationError(
            f"op run {run_id} went over its timebox: its next pointer must reschedule or re-scope",
            hint='start it with "reschedule: …" or "re-scope: …"',
            field="next_pointer",
        )
    return env.store.set_next_pointer(run_id, line, env.clock.now(), by=env.who)


def is_ended(run: Run) -> bool:
    """True once the core run is in a terminal state."""
    return run.state in TERMINAL_RUN_STATES


def result_of(view_: OpRunView) -> CheckStatus | None:
    """The result of an op run, if it ended."""
    return view_.record.result


@dataclass
class ProgressRow:
    """One step or check of a running op run, for a live view."""

    kind: str
    id: str
    state: str
    status: str | None
    message: str


def progress(env: ExecEnv, run_id: str) -> list[ProgressRow]:
    """Where each step and check of an op run is now."""
    run = env.store.get_run(run_id)
    op = operator_of(run)
    latest: dict[str, StepAttempt] = {}
    for attempt in env.store.list_step_attempts(run_id):
        latest[attempt.step_key] = attempt
    memos = env.em.memos(run_id)
    rows: list[ProgressRow] = []
    keyed = [("step", s.id, f"step:{s.id}") for s in op.steps]
    keyed += [("check", c.id, f"check:{c.id}") for c in op.acceptance_checks]
    for kind, item, key in keyed:
        memo, last = memos.get(key), latest.get(key)
        status: str | None = None
        message = ""
        if memo is not None and memo.status == "completed" and isinstance(memo.result, dict):
            if kind == "check":
                status = str(memo.result.get("status"))
            else:
                status = "ok" if memo.result.get("ok") else "failed"
            message = str(memo.result.get("message", ""))
        elif memo is not None:
            status, message = "failed", memo.failure.message if memo.failure else ""
        state = last.state.value if last else "pending"
        rows.append(ProgressRow(kind, item, state, status, message[:120]))
    return rows

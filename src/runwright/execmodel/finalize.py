"""Finalizing an ended op run, exactly once: its acceptance results and grounded result, the
evidence-pattern check, the stop rules, the failure path, and their events — one transaction.

An op run's end queues its finalization in the transaction that ends it: a run of the system
job ``runwright.execmodel.finalize_op_run`` (``finalize_op_run`` below), which any worker claims
like any run (see ``runwright.store.execmodel.finalizing``). ``finalize`` itself is idempotent,
so a finalize run taken over after a crash, or ``op run`` finalizing in its own process, stores
one finalization.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from runwright.domain.events import EventKind
from runwright.domain.execmodel.checks import CheckResult, CheckStatus, CheckType, ResultOrigin
from runwright.domain.execmodel.debug import DebugPacket
from runwright.domain.execmodel.operators import FailureAction, Operator
from runwright.domain.execmodel.opruns import FailurePathTaken
from runwright.domain.execmodel.patterns import PatternVerdict, effective_pattern, evaluate_pattern
from runwright.domain.execmodel.records import OpRunRecord, StopRuleFiring
from runwright.domain.execmodel.stoprules import FiredStopRule, StopFacts, evaluate
from runwright.domain.ids import new_id
from runwright.domain.runs import Run
from runwright.domain.states import TERMINAL_RUN_STATES, RunState, StateReason
from runwright.engine.context import JobContext
from runwright.engine.registry import job
from runwright.execmodel import failures
from runwright.execmodel.env import ExecEnv
from runwright.execmodel.opruns import context_of, operator_of, prepare
from runwright.execmodel.runtime import bound_settings
from runwright.execmodel.summary import (
    CHECK_PREFIX,
    OUTPUTS_KEY,
    STEP_PREFIX,
    Summary,
    summarize,
    synthetic,
)
from runwright.store.blobs import BlobStore
from runwright.store.core import NewEvent, NewRun
from runwright.store.execmodel import FINALIZE_JOB

DEBUG_RULE = "universal.debugging"


def _collect(env: ExecEnv, run: Run, op: Operator) -> Summary:
    memos = env.em.memos(run.run_id)
    steps: dict[str, Any] = {}
    for key, memo in memos.items():
        if not key.startswith(STEP_PREFIX):
            continue
        if memo.status == "completed":
            steps[key.removeprefix(STEP_PREFIX)] = memo.result
        else:  # the step itself broke: a failed step with the engine's message
            why = memo.failure.message if memo.failure else "error"
            steps[key.removeprefix(STEP_PREFIX)] = {"ok": False, "message": why, "evidence": []}
    checks: dict[str, CheckResult] = {}
    for c in op.acceptance_checks:
        found = memos.get(CHECK_PREFIX + c.id)
        if found is None:
            continue
        if found.status == "completed":
            checks[c.id] = CheckResult.model_validate(found.result)
        else:
            why = found.failure.message if found.failure else "error"
            checks[c.id] = synthetic(
                c.id, c.check_type, f"the check did not finish: {why}", ResultOrigin.CHECK
            )
    outputs_memo = memos.get(OUTPUTS_KEY)
    outputs = outputs_memo.result if outputs_memo and outputs_memo.status == "completed" else None
    over = run.state_reason == StateReason.OVER_TIMEBOX
    extra: list[CheckResult] = []
    if over:
        message = f"over its timebox of {op.timebox_minutes:g} min: the run was stopped"
        extra.append(synthetic("timebox", CheckType.RUN_LIVE_BOUNDED, message, ResultOrigin.STEP))
    elif run.state == RunState.CANCELED:
        extra.append(synthetic("run", CheckType.SMOKE, "the run was canceled", ResultOrigin.STEP))
    summary = summarize(op, steps, checks, outputs, over_timebox=over, extra=extra)
    if run.state != RunState.SUCCEEDED and summary.result != CheckStatus.FAIL:
        why = run.failure.message if run.failure else (run.state_reason or run.state.value)
        message = f"the run {run.state}: {why}"
        extra.append(synthetic("run", CheckType.SMOKE, message, ResultOrigin.STEP))
        summary = summarize(op, steps, checks, outputs, over_timebox=over, extra=extra)
    return summary


def _retries_done(env: ExecEnv, record: OpRunRecord) -> int:
    depth, current = 0, record.retry_of
    while current is not None and depth < 50:
        depth += 1
        parent = env.em.find_op_run(current)
        current = parent.retry_of if parent else None
    return depth


def _stop_facts(
    env: ExecEnv,
    record: OpRunRecord,
    summary: Summary,
    verdict: PatternVerdict | None,
    over: bool,
    next_items: set[str],
) -> StopFacts:
    failing = None
    if record.mode_id in env.config.debug_modes and summary.result == CheckStatus.FAIL:
        since = env.em.failing_since(record.project_id, record.mode_id, exclude=record.run_id)
        start = min(since, record.timestamp_start) if since else record.timestamp_start
        failing = (env.clock.now() - start).total_seconds() / 60
    packets = env.em.list_packets(project_id=record.project_id, status="open", limit=200)
    return StopFacts(
        mode_id=record.mode_id,
        over_timebox=over,
        failing_minutes=failing,
        has_repro=any(p.minimal_repro is not None for p in packets),
        missing_evidence=None
        if verdict is None
        else [i for i in verdict.missing if i not in next_items],
        passed_check_types=list(summary.facts.passed_check_types),
    )


def _events(
    summary: Summary,
    verdict: PatternVerdict | None,
    op: Operator,
    over: bool,
    fired: list[FiredStopRule],
) -> list[NewEvent]:
    events = [
        NewEvent(
            EventKind.CHECK_COMPLETED,
            {
                "check_id": r.check_id,
                "check_type": str(r.check_type),
                "status": str(r.status),
                "origin": str(r.origin),
                "message": r.message[:300],
                "evidence": [link.evidence_id for link in r.evidence_links],
            },
        )
        for r in summary.acceptance_results
    ]
    if verdict is not None:
        events.append(
            NewEvent(
                EventKind.EVIDENCE_PATTERN_CHECKED,
                {
                    "mode_id": verdict.mode_id,
                    "met": [i.id for i in verdict.items if i.met],
                    "missing": verdict.missing,
                    "complete": verdict.complete,
                },
            )
        )
    if over:
        events.append(
            NewEvent(
                EventKind.TIMEBOX_EXCEEDED,
                {
                    "timebox_minutes": op.timebox_minutes,
                    "needs": "a next pointer: reschedule or re-scope",
                },
            )
        )
    events += [
        NewEvent(
            EventKind.STOP_RULE_FIRED,
            {"rule_id": f.rule_id, "detail": f.detail, "then": f.then, "action": str(f.action)},
        )
        for f in fired
    ]
    return events


def finalize(env: ExecEnv, run_id: str) -> OpRunRecord | None:
    """Finalize ``run_id`` if it ended and is not finalized yet; return its record (None while
    it still runs). Safe to call from many processes: exactly one finalization is stored."""
    record = env.em.get_op_run(run_id)
    if record.finalized:
        return record
    run = env.store.get_run(run_id)
    if run.state not in TERMINAL_RUN_STATES:
        return None
    op = operator_of(run)
    now = env.clock.now()
    over = run.state_reason == StateReason.OVER_TIMEBOX
    summary = _collect(env, run, op)
    verdict, next_items = None, set()
    if record.mode_id in env.registry:
        items = effective_pattern(env.registry.get(record.mode_id), op.evidence_pattern)
        next_items = {i.id for i in items if i.from_next_pointer}
        verdict = evaluate_pattern(record.mode_id, items, summary.facts, has_next_pointer=False)
    facts = _stop_facts(env, record, summary, verdict, over, next_items)
    fired = evaluate(env.registry.stop_rules(record.mode_id), facts, env.config.thresholds)
    done = record.model_copy(
        update={
            "timestamp_end": run.ended_at or now,
            "outputs_written": summary.outputs_written,
            "acceptance_results": summary.acceptance_results,
            "result": summary.result,
            "pattern": summary.facts,
            "stop_rules": fired,
            "over_timebox": over,
            "finalized": True,
        }
    )
    events = _events(summary, verdict, op, over, fired)
    packets: list[DebugPacket] = []
    rule_packet: dict[str, str] = {}
    if any(f.rule_id == DEBUG_RULE for f in fired):
        open_now = env.em.list_packets(project_id=record.project_id, status="open", limit=1)
        if not open_now:
            packet = failures.packet_for(
                op, done, summary, context_of(run), opened_by=f"stop_rule:{DEBUG_RULE}", now=now
            )
            packets.append(packet)
            rule_packet[DEBUG_RULE] = packet.packet_id
    retry: tuple[NewRun, OpRunRecord, dict[str, Any]] | None = None
    path = failures.choose(op, summary, over_timebox=over, retries_done=_retries_done(env, record))
    if path is not None:
        taken = FailurePathTaken(
            when=path.when,
            action=path.action,
            check=path.check,
            to_mode=path.to_mode,
            note=path.note,
        )
        if path.action == FailureAction.RETRY:
            block = env.em.get_block(record.block_id) if record.block_id else None
            retry = prepare(
                env,
                op,
                record.inputs_used,
                mode=record.mode_id,
                project_id=record.project_id,
                block=block,
                retry_of=run_id,
                source=record.mode_source,
                operators=context_of(run).operators,
            )
            taken = taken.model_copy(
                update={"retry_run_id": retry[0].run_id, "attempt": _retries_done(env, record) + 1}
            )
        elif path.action == FailureAction.OPEN_DEBUG_PACKET:
            packet_id = rule_packet.get(DEBUG_RULE)
            if packet_id is None:
                packet = failures.packet_for(
                    op, done, summary, context_of(run), opened_by="failure_path", now=now
                )
                packets.append(packet)
                packet_id = packet.packet_id
            taken = taken.model_copy(update={"debug_packet_id": packet_id})
        elif path.action == FailureAction.ESCALATE:
            failing = [r.check_id for r in summary.acceptance_results if r.status == "FAIL"]
            events.append(
                NewEvent(
                    EventKind.ESCALATION_RAISED,
                    {
                        "op_id": op.op_id,
                        "failing": failing,
                        "evidence": [
                            link.evidence_id
                            for r in summary.acceptance_results
                            for link in r.evidence_links
                        ][:50],
                        "note": path.note,
                    },
                )
            )
        done = done.model_copy(update={"failure_path": taken})
        events.append(NewEvent(EventKind.FAILURE_PATH_TAKEN, taken.model_dump(mode="json")))
    events += [
        NewEvent(
            EventKind.DEBUG_PACKET_OPENED, {"packet_id": p.packet_id, "opened_by": p.opened_by}
        )
        for p in packets
    ]
    firings = [
        StopRuleFiring(
            firing_id=new_id(),
            rule_id=f.rule_id,
            mode_id=f.mode_id or record.mode_id,
            project_id=record.project_id,
            run_id=run_id,
            block_id=record.block_id,
            packet_id=rule_packet.get(f.rule_id),
            action=f.action,
            detail=f.detail,
            then=f.then,
            fired_at=now,
        )
        for f in fired
    ]
    env.em.finalize_op_run(done, events, now, packets=packets, firings=firings, retry=retry)
    return env.em.get_op_run(run_id)


def finalize_pending(env: ExecEnv, *, limit: int = 20) -> int:
    """Finalize op runs that ended without being finalized; return how many. Their finalize
    runs do it; this is for op runs that ended before ends queued one (an older runwright)."""
    count = 0
    for run_id in env.em.unfinalized_ended(limit=limit):
        record = finalize(env, run_id)
        count += int(record is not None)
    return count


def env_for(ctx: JobContext, op_run_id: str) -> ExecEnv:
    """The services that finalize ``op_run_id`` in a worker: the store and clock of the
    worker, and the settings of the project the op run was started in: those of the client
    executing op runs in this process (``op run``) if they are that project's, else the ones
    its recorded home holds."""
    from runwright.config import load_settings

    store = ctx.store
    home = Path(context_of(store.get_run(op_run_id)).home)
    settings = bound_settings()
    if settings is None or settings.home.resolve() != home.resolve():
        url = store.db.url.render_as_string(hide_password=False)
        settings = load_settings(env={}, overrides={"home": home, "database_url": url})
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "worker"
    return ExecEnv(
        store=store,
        settings=settings,
        clock=ctx.clock,
        blobs=BlobStore(settings.evidence_dir),
        who=who,
    )


@job(name=FINALIZE_JOB)
def finalize_op_run(ctx: JobContext, op_run_id: str) -> dict[str, Any]:
    """Finalize one ended op run: queued by the op run's end, safe to run again."""
    record = finalize(env_for(ctx, op_run_id), op_run_id)
    result = record.result if record is not None else None
    return {"op_run_id": op_run_id, "result": None if result is None else str(result)}

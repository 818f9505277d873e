"""The durable job that runs an operator: its steps, then its checks, then its outputs.

The operator spec, the resolved inputs and the run context travel in the run's kwargs, so any
worker can execute or replay the run, and a later change to the YAML does not change it.
"""

from __future__ import annotations

from typing import Any

from runwright.domain import job_names
from runwright.domain.execmodel.checks import CheckResult, CheckStatus, CheckType, ResultOrigin
from runwright.domain.execmodel.operators import Operator
from runwright.domain.retry import RetryPolicy
from runwright.domain.runs import RunKind
from runwright.engine.context import JobContext
from runwright.engine.registry import job
from runwright.engine.stepper import DeadlineExceeded
from runwright.errors import NonRetryableError, StepFailed
from runwright.execmodel.runtime import RunContext
from runwright.execmodel.stepping import collect_outputs, execute_check, execute_step
from runwright.execmodel.summary import CHECK_PREFIX, OUTPUTS_KEY, STEP_PREFIX, summarize, synthetic

JOB_NAME = job_names.OPERATOR
ONCE = RetryPolicy(max_attempts=1, initial_interval=0.0, max_interval=0.0)
CHECK_GRACE_SECONDS = 5.0


def _remaining(ctx: JobContext) -> float | None:
    deadline = ctx.run.deadline_at
    if deadline is None:
        return None
    return max((deadline - ctx.now()).total_seconds(), 0.01)


def check_failure(check_id: str, check_type: CheckType, exc: StepFailed) -> CheckResult:
    """The FAIL result of a check whose step itself failed (timed out or crashed)."""
    return synthetic(
        check_id, check_type, f"the check did not finish: {exc.message}", ResultOrigin.CHECK
    )


@job(name=JOB_NAME, kind=RunKind.OPERATOR)
def operator_run(
    ctx: JobContext, operator: dict[str, Any], inputs: dict[str, Any], context: dict[str, Any]
) -> dict[str, Any]:
    """Run ``operator`` with ``inputs``: each step, check and the outputs is a durable step."""
    op = Operator.model_validate(operator)
    run_ctx = RunContext.model_validate(context)
    values = run_ctx.values(inputs, ctx.run_id)
    steps: dict[str, dict[str, Any]] = {}
    for s in op.steps:
        try:
            record = ctx.step(
                f"{STEP_PREFIX}{s.id}",
                execute_step,
                s.model_dump(mode="json"),
                values,
                context,
                ctx.run_id,
                _remaining(ctx),
                idempotent=s.idempotent,
                retry=ONCE,
            )
        except StepFailed as exc:  # the step itself broke (e.g. its callable cannot be imported)
            record = {"id": s.id, "ok": False, "message": exc.message, "evidence": []}
        steps[s.id] = record
        if record.get("timebox_exceeded"):
            raise DeadlineExceeded()  # the timebox ran out: the run ends over_timebox
        if not record["ok"]:
            break  # the procedure failed: later steps are skipped, the checks still run
    checks: dict[str, CheckResult] = {}
    for c in op.acceptance_checks:
        try:
            raw = ctx.step(
                f"{CHECK_PREFIX}{c.id}",
                execute_check,
                c.model_dump(mode="json", by_alias=True),
                values,
                context,
                ctx.run_id,
                steps,
                _remaining(ctx),
                idempotent=True,
                retry=ONCE,
                timeout=c.timeout_seconds + CHECK_GRACE_SECONDS,
            )
            checks[c.id] = CheckResult.model_validate(raw)
        except StepFailed as exc:
            checks[c.id] = check_failure(c.id, c.check_type, exc)
    outputs = ctx.step(
        OUTPUTS_KEY,
        collect_outputs,
        [o.model_dump(mode="json") for o in op.outputs],
        values,
        context,
        idempotent=True,
        retry=ONCE,
    )
    summary = summarize(op, steps, checks, outputs)
    if summary.result == CheckStatus.FAIL:
        failing = [r.check_id for r in summary.acceptance_results if r.status == CheckStatus.FAIL]
        raise NonRetryableError(f"operator {op.op_id}: FAIL ({', '.join(failing)})")
    return {
        "op_id": op.op_id,
        "result": summary.result.value,
        "outputs_written": summary.outputs_written,
    }

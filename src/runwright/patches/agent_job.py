"""The durable job that runs a routed agent tool and sends its patch through the ledger.

Each piece is a memoized step: record the route and prompt, allocate patch ids, try the tool
(retries, then fallbacks), validate, apply, verify and (when asked) commit. After a crash the
run resumes at the first step that had not finished. A patch that ends quarantined or dropped
fails the run with the reason; when every tool fails the error pipeline is triggered.
"""

from __future__ import annotations

from typing import Any

from runwright.domain.ids import new_id
from runwright.domain.retry import RetryPolicy
from runwright.domain.runs import RunKind
from runwright.engine.context import JobContext
from runwright.engine.registry import job
from runwright.errors import NonRetryableError
from runwright.patches.agent import AGENT_JOB, AgentRunSpec
from runwright.patches.agent_steps import AgentSteps
from runwright.store.database import Database

ONE_TRY = RetryPolicy(max_attempts=1)
LEDGER_RETRY = RetryPolicy(max_attempts=3, initial_interval=1.0)
GOOD_ENDS = {"verified", "committed", "applied"}


def _database(ctx: JobContext) -> Database:
    """The database the worker running this job uses."""
    db = getattr(ctx.store, "db", None)
    if not isinstance(db, Database):  # pragma: no cover - only SQL stores exist
        raise NonRetryableError("agent tools need the SQL store")
    return db


def _allocate(count: int) -> list[str]:
    return [new_id() for _ in range(count)]


@job(name=AGENT_JOB, kind=RunKind.PATCH)
def agent_tool(ctx: JobContext, spec_data: dict[str, Any]) -> dict[str, Any]:
    """Run the routed tool in a worktree; take the patch of its edits through the ledger."""
    spec = AgentRunSpec.model_validate(spec_data)
    clock = ctx.clock
    steps = AgentSteps(
        _database(ctx), spec, ctx.run_id, clock, ctx.run.project_id, claim=ctx.attempt
    )
    ctx.step("record", steps.record, idempotent=True)
    plan = spec.attempts()
    ids = ctx.step("patch-ids", _allocate, len(plan), idempotent=True)
    outcomes: list[dict[str, Any]] = []
    patch_id = None
    for (tool, number), pid in zip(plan, ids, strict=True):
        outcome = ctx.step(
            f"tool:{tool}:{number}",
            steps.attempt,
            tool,
            number,
            pid,
            idempotent=True,
            retry=ONE_TRY,
        )
        outcomes.append(outcome)
        if outcome.get("ok"):
            patch_id = outcome["patch_id"]
            break
    if patch_id is None:
        ctx.step("final-failure", steps.final_failure, outcomes, idempotent=True)
        errors = "; ".join(f"{o['tool']}#{o['attempt']}: {o.get('error')}" for o in outcomes)
        raise NonRetryableError(f"every tool failed ({errors})")
    state = ctx.step("validate", steps.validate, patch_id, idempotent=True, retry=LEDGER_RETRY)
    if state == "validated":
        state = ctx.step("apply", steps.apply, patch_id, idempotent=True, retry=LEDGER_RETRY)
    if state == "applied" and spec.verify:
        state = ctx.step("verify", steps.verify, patch_id, idempotent=True, retry=LEDGER_RETRY)
    if state == "verified" and spec.auto_commit:
        state = ctx.step("commit", steps.commit, patch_id, idempotent=True, retry=LEDGER_RETRY)
    result = {
        "patch_id": patch_id,
        "state": state,
        "tool": outcomes[-1]["tool"],
        "attempts": outcomes,
    }
    if state not in GOOD_ENDS:
        why = ctx.step("explain", steps.explain, patch_id, idempotent=True)
        raise NonRetryableError(f"patch {patch_id} ended {state}: {why}")
    return result

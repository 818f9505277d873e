"""The durable job that runs a routed agent tool and sends its patch through the ledger.

Each piece is a memoized step: record the route and prompt, allocate patch ids, try the tool
(retries, then fallbacks), validate, apply, verify (or the caller's own judge) and (when asked)
commit. After a crash the run resumes at the first step that had not finished. A patch that
ends quarantined or dropped fails the run with the reason; when every tool fails the error
pipeline is triggered.

A caller with its own acceptance rules (a plan phase: tests that parse, checks, a proof
artifact) passes a **judge**: a ``module:function`` called in a step of this run once the patch
is applied, so that a patch the judge quarantines fails this run too, instead of a run that
succeeded with a patch rejected afterwards.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.ids import new_id
from runwright.domain.retry import RetryPolicy
from runwright.domain.runs import RunKind
from runwright.engine.clock import Clock
from runwright.engine.context import JobContext
from runwright.engine.registry import job
from runwright.errors import NonRetryableError
from runwright.patches.agent import AGENT_JOB, AgentRunSpec
from runwright.patches.agent_steps import AgentSteps
from runwright.store.database import Database

ONE_TRY = RetryPolicy(max_attempts=1)
LEDGER_RETRY = RetryPolicy(max_attempts=3, initial_interval=1.0)
GOOD_ENDS = {"verified", "committed", "applied"}


class AgentFailed(NonRetryableError):
    """The agent-tool run failed: no tool produced a patch, or its patch was rejected."""

    code = "agent_failed"

    def __init__(self, message: str, *, reason: str, **fields: Any):
        super().__init__(message, **fields)
        #: The run's state reason, in a few words ("patch quarantined", "tool failed").
        self.state_reason = reason


@dataclass(frozen=True)
class JudgeCall:
    """What a judge is called with: this run, its applied patch, and the caller's arguments."""

    db: Database
    clock: Clock
    run_id: str
    patch_id: str
    args: dict[str, Any]


class Judge(BaseModel):
    """The caller's own acceptance of the applied patch (the ``judge`` argument of the run).

    ``function(call: JudgeCall) -> dict`` returns at least ``state``, the patch's ledger state
    after judging (``verified`` to accept it); the rest of the dict is kept in the run's result.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    function: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module:function")
    args: dict[str, Any] = Field(default_factory=dict)

    def load(self) -> Callable[[JudgeCall], dict[str, Any]]:
        """The judge function, imported by name."""
        module, _, name = self.function.partition(":")
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise NonRetryableError(
                f"judge {self.function} cannot be loaded: {exc}", field="judge.function"
            ) from exc
        if not callable(fn):
            raise NonRetryableError(f"judge {self.function} is not callable", field="judge")
        return fn  # type: ignore[no-any-return]


def _database(ctx: JobContext) -> Database:
    """The database the worker running this job uses."""
    return ctx.store.db


def _allocate(count: int) -> list[str]:
    return [new_id() for _ in range(count)]


def _judge(judge: Judge, db: Database, clock: Clock, run_id: str, patch_id: str) -> dict[str, Any]:
    judged = judge.load()(JudgeCall(db, clock, run_id, patch_id, dict(judge.args)))
    if not isinstance(judged, dict) or not isinstance(judged.get("state"), str):
        raise NonRetryableError(
            f"judge {judge.function} returned {type(judged).__name__}, not a dict with a state",
            field="judge.function",
        )
    return judged


@job(name=AGENT_JOB, kind=RunKind.PATCH)
def agent_tool(
    ctx: JobContext, spec_data: dict[str, Any], judge: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run the routed tool in a worktree; take the patch of its edits through the ledger."""
    spec = AgentRunSpec.model_validate(spec_data)
    judging = Judge.model_validate(judge) if judge is not None else None
    clock = ctx.clock
    db = _database(ctx)
    steps = AgentSteps(db, spec, ctx.run_id, clock, ctx.run.project_id, claim=ctx.attempt)
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
        raise AgentFailed(f"every tool failed ({errors})", reason="tool failed")
    state = ctx.step("validate", steps.validate, patch_id, idempotent=True, retry=LEDGER_RETRY)
    if state == "validated":
        state = ctx.step("apply", steps.apply, patch_id, idempotent=True, retry=LEDGER_RETRY)
    if state == "applied" and spec.verify:
        state = ctx.step("verify", steps.verify, patch_id, idempotent=True, retry=LEDGER_RETRY)
    judged: dict[str, Any] | None = None
    if state == "applied" and judging is not None:
        judged = ctx.step(
            "judge",
            _judge,
            judging,
            db,
            clock,
            ctx.run_id,
            patch_id,
            idempotent=True,
            retry=LEDGER_RETRY,
        )
        state = judged["state"]
    if state == "verified" and spec.auto_commit:
        state = ctx.step("commit", steps.commit, patch_id, idempotent=True, retry=LEDGER_RETRY)
    result = {
        "patch_id": patch_id,
        "state": state,
        "tool": outcomes[-1]["tool"],
        "attempts": outcomes,
    }
    if judged is not None:
        result["judged"] = judged
    if state not in GOOD_ENDS:
        why = ctx.step("explain", steps.explain, patch_id, idempotent=True)
        raise AgentFailed(
            f"patch {patch_id} ended {state}: {why}",
            reason=f"patch {state.replace('_', ' ')}",
            patch_id=patch_id,
        )
    return result

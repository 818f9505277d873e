"""What a plan run's flow knows while it runs (or replays): the plan, the phases' outcomes,
the acknowledgment, escalations and the validation report — all rebuilt from memoized steps."""

from __future__ import annotations

from typing import Any

from runwright.domain.budgets import Budget
from runwright.domain.plan_completion import ValidationReport
from runwright.domain.plan_records import Acknowledgment, Escalation
from runwright.domain.plans import PlanSpec
from runwright.domain.retry import RetryPolicy
from runwright.engine.context import JobContext
from runwright.errors import NonRetryableError
from runwright.plans import delegation, gates
from runwright.plans.spec import PlanRunSpec
from runwright.plans.workspace import Workspace
from runwright.store.plans import PlanStore

STEP_RETRY = RetryPolicy(max_attempts=3, initial_interval=1.0)


class PlanBlocked(NonRetryableError):
    """The plan ended blocked (its completion contract says why)."""

    code = "plan_blocked"


class FlowState:
    """The state of one execution (or replay) of a plan run, and its memoized steps."""

    def __init__(self, ctx: JobContext, spec: PlanRunSpec):
        self.ctx = ctx
        self.spec = spec
        self.plan: PlanSpec = spec.plan
        self.db = db = ctx.store.db
        self.store = PlanStore(db)
        p = spec.project
        self.env = delegation.project_env(p.project_id, p.project_root, p.home, ctx.clock)
        self.workspace = Workspace(self.env, ctx.run_id)
        self.outcomes = gates.Outcomes()
        self.acknowledged: set[str] = set(spec.acknowledged)
        self.accepted: set[str] = set()
        self.escalations: list[Escalation] = []
        self.validate_runs: list[str] = []
        self.report: ValidationReport | None = None
        self.report_evidence: str | None = None
        self.test_gate_exception: str | None = None
        self.load_problems: list[str] = []
        self.ack: Acknowledgment | None = None
        self.writes = 0
        # budgets: raised by human answers (key: plan | phase:<id>), and the tasks a
        # budget-stopped delegation had committed (phase id → their records)
        self.budget_raises: dict[str, Budget] = {}
        self.budget_carry: dict[str, list[dict[str, Any]]] = {}

    @property
    def run_id(self) -> str:
        """The plan run's id."""
        return self.ctx.run_id

    def step(self, key: str, fn: Any, *args: Any) -> Any:
        """A memoized step of the plan run (safe to repeat after a crash)."""
        return self.ctx.step(key, fn, *args, idempotent=True, retry=STEP_RETRY)

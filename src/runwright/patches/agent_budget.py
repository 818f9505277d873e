"""The budget side of one agent call: refuse it when nothing is left, cap its time by the
wall time left, watch its output and stop it once its reported usage passes what is left, and
record what it spent.

Only a plan delegation's calls carry a budget (``AgentRunSpec.budget``); every call's usage is
still read from its output when its app declares a ``usage`` format.
"""

from __future__ import annotations

from typing import Any

from runwright.domain.budgets import BreachMoment, BudgetBreach, BudgetGuard
from runwright.domain.router import RouterApp
from runwright.domain.spend import SpendRow, Usage, UsageFormat
from runwright.engine.clock import Clock
from runwright.patches.agent import BudgetExceeded
from runwright.patches.commands import CommandResult
from runwright.patches.usage import UsageMonitor, parser_for
from runwright.store.database import Database
from runwright.store.plans import SpendStore

#: The shortest timeout a call gets when little wall time is left.
MIN_SECONDS = 0.5


class CallBudget:
    """One call of ``tool`` (attempt ``attempt``) of an agent-tool run, against its budget."""

    def __init__(
        self,
        db: Database,
        guard: BudgetGuard | None,
        app: RouterApp,
        *,
        agent_run_id: str,
        tool: str,
        attempt: int,
        clock: Clock,
    ):
        self.guard = guard
        self.spend = SpendStore(db) if guard is not None else None
        self.app = app
        self.agent_run_id = agent_run_id
        self.tool = tool
        self.attempt = attempt
        self.clock = clock
        self.monitor = UsageMonitor(parser_for(app.usage), None, app.pricing)
        self.wall_capped = False

    def before(self, timeout: float) -> float:
        """The call's timeout (capped by the wall time left); BudgetExceeded when a budget has
        nothing left for it."""
        if self.guard is None or self.spend is None:
            return timeout
        rows = self.spend.rows(self.guard.run_id)
        breach = self.guard.before_call(rows)
        if breach is not None:
            raise BudgetExceeded(breach)
        left = self.guard.remaining(rows)
        self.monitor.remaining = left
        if left.wall_seconds is not None and left.wall_seconds < timeout:
            self.wall_capped = True
            return max(left.wall_seconds, MIN_SECONDS)
        return timeout

    def watching(self) -> UsageMonitor | None:
        """The monitor ``run_command`` hands the output to (None: nothing to read or bound)."""
        if self.guard is None and UsageFormat(self.app.usage or "none") is UsageFormat.NONE:
            return None
        return self.monitor

    def after(self, result: CommandResult | None) -> tuple[Usage, BudgetBreach | None]:
        """The call's usage, recorded as spend; the breach that stopped it during the call."""
        self.monitor.parser.finish()
        usage = self.monitor.usage()
        if self.guard is None or self.spend is None:
            return usage, None
        stopped = result.stopped is not None if result else False
        wall_out = bool(result and result.timed_out and self.wall_capped)
        stopped_by = self.monitor.stopped_by if stopped else None
        if wall_out:
            stopped_by = "max_wall_seconds"
        g = self.guard
        self.spend.record(
            SpendRow(
                run_id=g.run_id,
                agent_run_id=self.agent_run_id,
                tool=self.tool,
                attempt=self.attempt,
                phase_id=g.phase_id,
                round=g.round,
                task_id=g.task_id,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=usage.cost_usd,
                cost_estimated=usage.cost_estimated,
                wall_seconds=round(result.seconds, 3) if result else 0.0,
                session_id=usage.session_id,
                stopped_by=stopped_by,
                recorded_at=self.clock.now(),
            )
        )
        if stopped_by is None:
            return usage, None
        rows = self.spend.rows(g.run_id)
        breach = g.after_call(rows, BreachMoment.DURING_CALL) or g.before_call(rows)
        return usage, breach


def usage_fields(usage: Usage) -> dict[str, Any]:
    """The usage as an attempt's outcome records it (nothing when nothing was reported)."""
    data = usage.model_dump(exclude_none=True, exclude_defaults=True)
    return {"usage": data} if data else {}

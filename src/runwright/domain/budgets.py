"""Budgets for agent work, per plan and per phase (pure types and arithmetic).

A budget bounds what the agent calls of a plan (or of one phase) may spend: ``max_tokens``
(input + output), ``max_cost_usd``, ``max_wall_seconds`` (the agents' wall time) and
``max_agent_calls`` (every call: first tries, correction rounds, attempts and fallbacks).

Before a call, a budget with nothing left (spent ≥ limit) refuses it; during and after a call,
spend above a limit is a breach. Tokens and cost the agents did not report are unknown and
count for nothing here: time and calls still bound such agents.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runwright.domain.spend import SpendRow, SpendTotals

LimitName = Literal["max_tokens", "max_cost_usd", "max_wall_seconds", "max_agent_calls"]
LIMITS: tuple[LimitName, ...] = (
    "max_tokens",
    "max_cost_usd",
    "max_wall_seconds",
    "max_agent_calls",
)
#: The largest value each limit takes (a bigger one is surely a typo).
MAXIMA: dict[str, float] = {
    "max_tokens": 10_000_000_000,
    "max_cost_usd": 1_000_000.0,
    "max_wall_seconds": 30 * 86_400.0,
    "max_agent_calls": 100_000,
}
WHOLE = frozenset({"max_tokens", "max_agent_calls"})
UNITS = {
    "max_tokens": "tokens",
    "max_cost_usd": "USD",
    "max_wall_seconds": "seconds of agent time",
    "max_agent_calls": "agent calls",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def check_limit(name: str, value: object) -> int | float:
    """``value`` as a valid ``name`` limit, or ValueError saying what is allowed."""
    if name not in MAXIMA:
        raise ValueError(f"unknown budget limit {name!r}; use one of {', '.join(LIMITS)}")
    top = MAXIMA[name]
    if name in WHOLE:
        allowed = f"a whole number from 1 to {int(top):,}"
    else:
        allowed = f"a number above 0 and at most {top:,.0f}"
    number: float
    if isinstance(value, bool):
        raise ValueError(f"{name} must be {allowed}, not {value!r}")
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"{name} must be {allowed}, not {value!r}") from None
    else:
        raise ValueError(f"{name} must be {allowed}, not {value!r}")
    if not math.isfinite(number) or number <= 0 or number > top:
        raise ValueError(f"{name} must be {allowed}, not {value!r}")
    if name in WHOLE:
        if number != int(number):
            raise ValueError(f"{name} must be {allowed}, not {value!r}")
        return int(number)
    return float(number)


class Budget(_Frozen):
    """Limits on agent work; a limit left out is not bounded."""

    max_tokens: int | None = Field(default=None, description="Input plus output tokens.")
    max_cost_usd: float | None = Field(default=None, description="Reported or estimated cost.")
    max_wall_seconds: float | None = Field(default=None, description="Agents' wall time.")
    max_agent_calls: int | None = Field(
        default=None, description="Agent calls: delegations, correction rounds and attempts."
    )

    @field_validator(*LIMITS, mode="before")
    @classmethod
    def _bounded(cls, value: object, info: Any) -> object:
        return None if value is None else check_limit(info.field_name, value)

    def limits(self) -> dict[str, int | float]:
        """The limits that are set."""
        return {k: v for k in LIMITS if (v := getattr(self, k)) is not None}

    def raised(self, updates: Budget | None) -> Budget:
        """This budget with the limits ``updates`` sets replacing its own."""
        if updates is None:
            return self
        return self.model_copy(update=updates.limits())


def parse_assignments(items: Sequence[str], *, option: str = "--budget") -> Budget:
    """``KEY=VALUE`` items (``max_tokens=400000``) as a Budget; ValueError, one line, naming
    the item and the fix."""
    values: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if key not in LIMITS:
            raise ValueError(
                f"{option} {item!r}: unknown limit {key!r}; use one of {', '.join(LIMITS)} "
                "(e.g. max_tokens=400000)"
            )
        if not sep or not value:
            raise ValueError(f"{option} {key}: give a value, e.g. {key}={_example(key)}")
        try:
            values[key] = check_limit(key, value)
        except ValueError as exc:
            raise ValueError(f"{option} {exc}") from None
    return Budget.model_validate(values)


def _example(key: str) -> str:
    return {
        "max_tokens": "400000",
        "max_cost_usd": "5",
        "max_wall_seconds": "1800",
        "max_agent_calls": "20",
    }[key]


def spent_on(limit: str, totals: SpendTotals) -> float:
    """What ``totals`` spent of ``limit``'s quantity."""
    return {
        "max_tokens": float(totals.tokens),
        "max_cost_usd": totals.cost_usd,
        "max_wall_seconds": totals.wall_seconds,
        "max_agent_calls": float(totals.calls),
    }[limit]


class BudgetScope(StrEnum):
    """Whose budget: the plan's or one phase's."""

    PLAN = "plan"
    PHASE = "phase"


class BreachMoment(StrEnum):
    """When the budget ran out."""

    BEFORE_CALL = "before_call"  # nothing left for the next call
    DURING_CALL = "during_call"  # the agent was stopped as its reported usage passed it
    AFTER_CALL = "after_call"  # the call's spend took it past the limit


class BudgetBreach(_Frozen):
    """A budget that ran out: whose, which limit, the limit and what was spent."""

    scope: BudgetScope
    phase_id: str | None = None
    limit: LimitName
    limit_value: float
    spent: float
    moment: BreachMoment
    unknown_calls: int = Field(default=0, ge=0, description="Calls whose usage is unknown.")

    @property
    def key(self) -> str:
        """The budget raised by answering: ``plan`` or ``phase:<id>``."""
        return "plan" if self.scope is BudgetScope.PLAN else f"phase:{self.phase_id}"

    def whose(self) -> str:
        """'the plan' or 'phase I1'."""
        return "the plan" if self.scope is BudgetScope.PLAN else f"phase {self.phase_id}"

    def describe(self) -> str:
        """One line: whose limit, the limit, the spend and when."""
        unit = UNITS[self.limit]
        spent, limit = _fmt(self.limit, self.spent), _fmt(self.limit, self.limit_value)
        when = {
            BreachMoment.BEFORE_CALL: "nothing is left for the next agent call",
            BreachMoment.DURING_CALL: "the running agent was stopped",
            BreachMoment.AFTER_CALL: "the last agent call went past it",
        }[self.moment]
        unknown = (
            f" ({self.unknown_calls} call(s) reported no usage)"
            if self.unknown_calls and self.limit in {"max_tokens", "max_cost_usd"}
            else ""
        )
        return (
            f"{self.whose()} spent {spent} {unit} of its {self.limit} budget of {limit}"
            f"{unknown}: {when}"
        )


def _fmt(limit: str, value: float) -> str:
    if limit == "max_cost_usd":
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if limit == "max_wall_seconds":
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _unknown(limit: str, totals: SpendTotals) -> int:
    return totals.unknown_tokens if limit == "max_tokens" else totals.unknown_cost


def exhausted(
    budget: Budget | None, totals: SpendTotals, scope: BudgetScope, phase_id: str | None = None
) -> BudgetBreach | None:
    """The first limit with nothing left for another call (spent ≥ limit), or None."""
    for limit, value in (budget.limits() if budget else {}).items():
        spent = spent_on(limit, totals)
        if spent >= value:
            return BudgetBreach(
                scope=scope,
                phase_id=phase_id,
                limit=limit,
                limit_value=value,
                spent=spent,
                moment=BreachMoment.BEFORE_CALL,
                unknown_calls=_unknown(limit, totals),
            )
    return None


def exceeded(
    budget: Budget | None,
    totals: SpendTotals,
    scope: BudgetScope,
    phase_id: str | None = None,
    moment: BreachMoment = BreachMoment.AFTER_CALL,
) -> BudgetBreach | None:
    """The first limit the spend went past (spent > limit), or None."""
    for limit, value in (budget.limits() if budget else {}).items():
        spent = spent_on(limit, totals)
        if spent > value:
            return BudgetBreach(
                scope=scope,
                phase_id=phase_id,
                limit=limit,
                limit_value=value,
                spent=spent,
                moment=moment,
                unknown_calls=_unknown(limit, totals),
            )
    return None


FIELD_OF = {
    "max_tokens": "tokens",
    "max_cost_usd": "cost_usd",
    "max_wall_seconds": "wall_seconds",
    "max_agent_calls": "calls",
}


class Remaining(_Frozen):
    """What a call may still spend (None: not bounded)."""

    tokens: float | None = None
    cost_usd: float | None = None
    wall_seconds: float | None = None
    calls: float | None = None

    @classmethod
    def of(cls, budget: Budget | None, totals: SpendTotals) -> Remaining:
        """What ``budget`` leaves after ``totals``."""
        left: dict[str, float | None] = {}
        for limit, field in FIELD_OF.items():
            value = getattr(budget, limit) if budget else None
            left[field] = None if value is None else value - spent_on(limit, totals)
        return cls.model_validate(left)

    def tighter(self, other: Remaining) -> Remaining:
        """The smaller of two remainders, field by field."""

        def least(a: float | None, b: float | None) -> float | None:
            return b if a is None else a if b is None else min(a, b)

        return Remaining(
            tokens=least(self.tokens, other.tokens),
            cost_usd=least(self.cost_usd, other.cost_usd),
            wall_seconds=least(self.wall_seconds, other.wall_seconds),
            calls=least(self.calls, other.calls),
        )


class BudgetGuard(_Frozen):
    """The budgets one delegation's agent calls are held to, and whose spend counts."""

    run_id: str = Field(description="The plan run whose spend the calls add to.")
    phase_id: str
    round: int = Field(ge=0)
    task_id: str | None = None
    plan: Budget | None = None
    phase: Budget | None = None

    def before_call(self, rows: Sequence[SpendRow]) -> BudgetBreach | None:
        """Why the next call may not be made (a budget with nothing left), or None."""
        plan_totals, phase_totals = self.totals(rows)
        return exhausted(self.plan, plan_totals, BudgetScope.PLAN) or exhausted(
            self.phase, phase_totals, BudgetScope.PHASE, self.phase_id
        )

    def after_call(self, rows: Sequence[SpendRow], moment: BreachMoment) -> BudgetBreach | None:
        """The budget the spend went past, or None."""
        plan_totals, phase_totals = self.totals(rows)
        return exceeded(self.plan, plan_totals, BudgetScope.PLAN, None, moment) or exceeded(
            self.phase, phase_totals, BudgetScope.PHASE, self.phase_id, moment
        )

    def remaining(self, rows: Sequence[SpendRow]) -> Remaining:
        """What the next call may spend: the tighter of the plan's and the phase's rest."""
        plan_totals, phase_totals = self.totals(rows)
        return Remaining.of(self.plan, plan_totals).tighter(Remaining.of(self.phase, phase_totals))

    def totals(self, rows: Sequence[SpendRow]) -> tuple[SpendTotals, SpendTotals]:
        """The plan's and this phase's totals of ``rows``."""
        mine = [r for r in rows if r.run_id == self.run_id]
        return SpendTotals.of(mine), SpendTotals.of(r for r in mine if r.phase_id == self.phase_id)


class PlanSpend(_Frozen):
    """A plan run's spend: its totals against its budget, per phase, and every call."""

    budget: Budget | None = Field(default=None, description="The plan's limits (with raises).")
    totals: SpendTotals = Field(default_factory=SpendTotals)
    phases: dict[str, SpendTotals] = Field(default_factory=dict)
    phase_budgets: dict[str, Budget] = Field(default_factory=dict)
    rows: list[SpendRow] = Field(default_factory=list, description="One per agent call.")


def plan_spend(
    rows: Sequence[SpendRow], budget: Budget | None, phase_budgets: Mapping[str, Budget]
) -> PlanSpend:
    """Sum ``rows`` for the plan and per phase."""
    phases: dict[str, list[SpendRow]] = {}
    for r in rows:
        phases.setdefault(r.phase_id, []).append(r)
    return PlanSpend(
        budget=budget,
        totals=SpendTotals.of(rows),
        phases={pid: SpendTotals.of(rs) for pid, rs in phases.items()},
        phase_budgets=dict(phase_budgets),
        rows=list(rows),
    )

"""A plan run's spend against its budgets: the limits in force (the plan's, raised by the
answers to its budget escalations) and every agent call recorded for it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from runwright.domain.budgets import Budget, PlanSpend, plan_spend
from runwright.domain.plan_records import Escalation
from runwright.domain.plans import PlanSpec
from runwright.store.database import Database
from runwright.store.plans import SpendStore

PLAN_KEY = "plan"


def phase_key(phase_id: str) -> str:
    """The key of a phase's budget among the raises."""
    return f"phase:{phase_id}"


def raises_from(escalations: Iterable[Escalation]) -> dict[str, Budget]:
    """The budgets raised by answering budget escalations, by key (``plan``, ``phase:<id>``)."""
    out: dict[str, Budget] = {}
    for esc in escalations:
        answer = esc.answer
        if esc.budget is None or answer is None or answer.budget is None:
            continue
        key = esc.budget.key
        out[key] = out[key].raised(answer.budget) if key in out else answer.budget
    return out


def in_force(base: Budget | None, raised: Budget | None) -> Budget | None:
    """``base`` with the raised limits replacing its own."""
    if raised is None:
        return base
    return (base or Budget()).raised(raised)


def budgets(
    plan: PlanSpec, raises: Mapping[str, Budget]
) -> tuple[Budget | None, dict[str, Budget]]:
    """The plan's budget and each phase's (those that have one), as in force."""
    phases = {}
    for p in plan.phases:
        b = in_force(p.budget, raises.get(phase_key(p.phase_id)))
        if b is not None:
            phases[p.phase_id] = b
    return in_force(plan.budget, raises.get(PLAN_KEY)), phases


def spend_of(db: Database, run_id: str, plan: PlanSpec, raises: Mapping[str, Budget]) -> PlanSpend:
    """The plan run's spend: totals against its budgets, per phase, and every call."""
    plan_budget, phase_budgets = budgets(plan, raises)
    return plan_spend(SpendStore(db).rows(run_id), plan_budget, phase_budgets)

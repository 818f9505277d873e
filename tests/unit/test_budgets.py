"""Budgets: bounded limits named by their field, KEY=VALUE raises, and the arithmetic that
refuses a call when nothing is left, finds a spend past a limit, and says what is left."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from runwright.api.plans import check_raise
from runwright.domain.budgets import (
    BreachMoment,
    Budget,
    BudgetBreach,
    BudgetGuard,
    BudgetScope,
    Remaining,
    exceeded,
    exhausted,
    parse_assignments,
    plan_spend,
)
from runwright.domain.spend import SpendRow, SpendTotals
from runwright.errors import ValidationError as RunwrightValidationError
from runwright.plans.contract import PlanInvalid, parse_plan
from runwright.plans.escalation import build_budget

NOW = datetime(2026, 12, 6, tzinfo=UTC)
PLAN_RUN = "01M8XE00000000000000000000"


def row(phase: str, attempt: int = 1, **kw: Any) -> SpendRow:
    """One recorded call of ``phase``."""
    values: dict[str, Any] = {
        "run_id": PLAN_RUN,
        "agent_run_id": f"01M8XE0000000000000000{attempt:04d}",
        "tool": "coder",
        "attempt": attempt,
        "phase_id": phase,
        "round": 0,
        "wall_seconds": 1.0,
        "recorded_at": NOW,
    }
    return SpendRow.model_validate({**values, **kw})


def minimal_plan(**extra: Any) -> dict[str, Any]:
    """The smallest valid plan, with ``extra`` fields."""
    return {
        "plan_id": "p",
        "title": "t",
        "test_spec": "spec.md",
        "test_command": ["pytest"],
        "requirements": [{"id": "R1", "text": "x"}],
        "roles": {"test-implementer": {"tools": ["a"]}, "implement-plan": {"tools": ["a"]}},
        "phases": [
            {
                "phase_id": "T1",
                "name": "n",
                "phase_type": "test",
                "owner_role": "test-implementer",
                "objective": "o",
                "commit_intent": "c",
                "requirements": ["R1"],
            }
        ],
        **extra,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_tokens", 0),
        ("max_tokens", -5),
        ("max_tokens", 1.5),
        ("max_tokens", 10**11),
        ("max_tokens", True),
        ("max_cost_usd", 0),
        ("max_cost_usd", float("nan")),
        ("max_cost_usd", float("inf")),
        ("max_cost_usd", "lots"),
        ("max_wall_seconds", -1),
        ("max_wall_seconds", 10**9),
        ("max_agent_calls", 0),
        ("max_agent_calls", 2.5),
    ],
)
def test_a_limit_out_of_bounds_is_refused_naming_its_field(field: str, value: object) -> None:
    """Zero, negative, non-finite, fractional counts, booleans and absurd sizes are refused,
    and the message names the field and what is allowed."""
    with pytest.raises(ValidationError) as err:
        Budget.model_validate({field: value})
    assert field in str(err.value)
    assert "must be" in str(err.value)


def test_a_plan_and_its_phases_take_budgets_and_bad_ones_name_the_path() -> None:
    """`budget:` is accepted on the plan and on each phase; a bad value names its whole path."""
    plan = minimal_plan(budget={"max_tokens": 400000, "max_cost_usd": 5})
    plan["phases"][0]["budget"] = {"max_agent_calls": 3, "max_wall_seconds": 600}
    spec = parse_plan(plan, source="plan.yaml")
    assert spec.budget == Budget(max_tokens=400000, max_cost_usd=5.0)
    assert spec.phases[0].budget == Budget(max_agent_calls=3, max_wall_seconds=600.0)
    plan["phases"][0]["budget"] = {"max_agent_calls": -1, "max_cost": 1}
    with pytest.raises(PlanInvalid) as err:
        parse_plan(plan, source="plan.yaml")
    problems = "\n".join(err.value.problems)
    assert "phases[0].budget.max_agent_calls: max_agent_calls must be a whole number" in problems
    assert "phases[0].budget.max_cost" in problems


def test_key_value_raises_parse_and_errors_are_one_line_naming_the_key() -> None:
    """`max_tokens=400000 max_cost_usd=2.5` parses; a missing value, an unknown key or a bad
    value is one line saying what to write."""
    assert parse_assignments(["max_tokens=400000", "max_cost_usd=2.5"]) == Budget(
        max_tokens=400000, max_cost_usd=2.5
    )
    for items, words in [
        (["max_tokens"], "--budget max_tokens: give a value, e.g. max_tokens=400000"),
        (["max_tokens="], "give a value"),
        (["tokens=5"], "unknown limit 'tokens'"),
        (["max_agent_calls=0"], "max_agent_calls must be a whole number from 1"),
        (["max_cost_usd=free"], "max_cost_usd must be a number above 0"),
    ]:
        with pytest.raises(ValueError, match="--budget") as err:
            parse_assignments(items)
        assert words in str(err.value)
        assert "\n" not in str(err.value)


def test_nothing_left_refuses_the_next_call_and_more_than_the_limit_is_a_breach() -> None:
    """Spent == limit: no call may start (before), but it is not past the limit (after);
    spent > limit is past it. Unknown usage counts for nothing."""
    budget = Budget(max_tokens=1000, max_agent_calls=3)
    even = SpendTotals.of([row("T1", 1, input_tokens=900, output_tokens=100)])
    breach = exhausted(budget, even, BudgetScope.PLAN)
    assert breach is not None
    assert (breach.limit, breach.limit_value, breach.spent) == ("max_tokens", 1000, 1000)
    assert breach.moment is BreachMoment.BEFORE_CALL
    assert exceeded(budget, even, BudgetScope.PLAN) is None
    over = SpendTotals.of([row("T1", 1, input_tokens=900, output_tokens=101)])
    past = exceeded(budget, over, BudgetScope.PHASE, "T1")
    assert past is not None
    assert "phase T1 spent 1,001 tokens of its max_tokens budget of 1,000" in past.describe()
    unknown = SpendTotals.of([row("T1", n) for n in (1, 2)])
    assert (unknown.tokens, unknown.unknown_tokens) == (0, 2)
    assert exhausted(budget, unknown, BudgetScope.PLAN) is None
    three = SpendTotals.of([row("T1", n) for n in (1, 2, 3)])
    calls = exhausted(budget, three, BudgetScope.PLAN)
    assert calls is not None
    assert calls.limit == "max_agent_calls"


def test_the_guard_counts_the_plan_and_its_own_phase_and_leaves_the_tighter_rest() -> None:
    """A delegation is held to the plan's budget (all phases' calls) and its phase's (its own
    calls): what is left is the tighter of the two, field by field."""
    guard = BudgetGuard(
        run_id=PLAN_RUN,
        phase_id="I1",
        round=0,
        plan=Budget(max_tokens=10_000, max_wall_seconds=100),
        phase=Budget(max_tokens=3_000),
    )
    rows = [
        row("T1", 1, input_tokens=5_000, output_tokens=0, wall_seconds=30),
        row("I1", 2, input_tokens=1_000, output_tokens=500, wall_seconds=20),
        row("I1", 3, run_id="01M8XF00000000000000000000", input_tokens=99_999),
    ]
    left = guard.remaining(rows)
    assert left == Remaining(tokens=1_500, wall_seconds=50)
    assert guard.before_call(rows) is None
    rows.append(row("I1", 4, input_tokens=1_600, output_tokens=0))
    breach = guard.after_call(rows, BreachMoment.DURING_CALL)
    assert breach is not None
    assert (breach.scope, breach.phase_id, breach.moment.value) == (
        BudgetScope.PHASE,
        "I1",
        "during_call",
    )


def test_plan_spend_sums_per_phase_and_keeps_unknown_apart() -> None:
    """Totals add known tokens and costs, count the calls that reported none, and mark an
    estimated cost; each phase has its own totals."""
    rows = [
        row("T1", 1, input_tokens=100, output_tokens=10, cost_usd=0.01),
        row("T1", 2, input_tokens=50, output_tokens=5, cost_usd=0.02, cost_estimated=True),
        row("I1", 3),
    ]
    spend = plan_spend(rows, Budget(max_tokens=500), {"I1": Budget(max_agent_calls=2)})
    assert spend.totals.tokens == 165
    assert spend.totals.cost_usd == pytest.approx(0.03)
    assert spend.totals.cost_estimated
    assert (spend.totals.unknown_tokens, spend.totals.unknown_cost) == (1, 1)
    assert spend.phases["I1"].calls == 1
    assert spend.phases["T1"].wall_seconds == 2.0
    assert spend.phase_budgets["I1"].max_agent_calls == 2


def test_an_answer_raises_only_what_ran_out_above_the_spend_and_only_on_option_a() -> None:
    """Option A of a budget escalation needs the limit that ran out, above what was spent;
    --budget on option B, or on another kind of escalation, is refused; B alone is fine."""
    plan = parse_plan(minimal_plan(budget={"max_tokens": 1000}), source="plan.yaml")
    breach = BudgetBreach(
        scope=BudgetScope.PLAN,
        limit="max_tokens",
        limit_value=1000,
        spent=1500,
        moment=BreachMoment.DURING_CALL,
    )
    esc = build_budget(
        plan=plan,
        run_id=PLAN_RUN,
        gate="test",
        breach=breach,
        phases=["T1"],
        evidence_refs=[],
        now=NOW,
    )
    assert [o.effect.value for o in esc.options] == ["raise_budget", "block"]
    check_raise(esc, "A", Budget(max_tokens=2000))
    check_raise(esc, "B", None)
    for option, budget, words in [
        ("A", None, "give --budget max_tokens=NEW"),
        ("A", Budget(max_cost_usd=5), "give --budget max_tokens=NEW"),
        ("A", Budget(max_tokens=1500), "is not above the 1500 already spent"),
        ("B", Budget(max_tokens=5000), "only answers option A of a budget escalation"),
    ]:
        with pytest.raises(RunwrightValidationError, match="budget") as err:
            check_raise(esc, option, budget)
        assert words in err.value.message
    other = esc.model_copy(update={"budget": None})
    with pytest.raises(RunwrightValidationError, match="only answers option A"):
        check_raise(other, "A", Budget(max_tokens=5000))

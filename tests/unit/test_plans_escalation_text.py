"""Escalation payloads say how many correction rounds were really delegated — 0, 1 or 2 —
and never claim a retry that did not happen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from plans_support import example_plan

from runwright.domain.plan_records import BlockerClass, Defect
from runwright.domain.plans import PlanSpec
from runwright.plans.escalation import build, rounds_text

NOW = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.fixture
def plan() -> PlanSpec:
    """The example greet plan (retry_budget 2)."""
    spec = PlanSpec.model_validate(example_plan("greet"))
    assert spec.retry_budget == 2
    return spec


def defect(cls: BlockerClass) -> Defect:
    return Defect(
        gate="implementation",
        code="phase_failed",
        message="phase I1 did not commit: tests fail",
        required_correction="make greet pass",
        blocker_class=cls,
        phase_id="I1",
    )


def texts(plan: PlanSpec, cls: BlockerClass, corrections: int) -> tuple[str, str, str, int]:
    esc = build(
        plan=plan,
        run_id="01JDZZZZZZZZZZZZZZZZZZZZZZ",
        gate="implementation",
        cls=cls,
        defects=[defect(cls)],
        corrections=corrections,
        evidence_refs=[],
        now=NOW,
    )
    option_b = next(o.summary for o in esc.options if o.id == "B")
    return esc.summary, option_b, esc.schedule_impact, esc.round


def test_rounds_are_named_in_words() -> None:
    """0, 1 and 2 correction rounds read as a person would say them."""
    assert [rounds_text(n) for n in (0, 1, 2)] == [
        "no correction round",
        "1 correction round",
        "2 correction rounds",
    ]


@pytest.mark.parametrize(
    ("corrections", "said"),
    [
        (2, "the implementation gate still failed after 2 correction rounds"),
        (1, "the implementation gate still failed after 1 correction round"),
        (0, "the implementation gate failed and no correction round was allowed"),
    ],
)
def test_an_implementation_defect_states_the_rounds_done_not_the_budget(
    plan: PlanSpec, corrections: int, said: str
) -> None:
    """With a budget of two, an escalation after 1 (or 0) rounds says 1 (or none): the
    summary and option B say the number done, and nothing speaks of retries."""
    summary, option_b, impact, round_ = texts(plan, BlockerClass.IMPLEMENTATION_DEFECT, corrections)
    assert summary.startswith(said + ": phase I1 did not commit")
    assert said in option_b
    assert round_ == corrections
    assert "retries" not in summary + option_b + impact
    assert ("after" in impact) is (corrections > 0)


def test_an_immediate_class_says_no_correction_can_fix_it(plan: PlanSpec) -> None:
    """A package defect escalates without a correction round and says why."""
    summary, _, impact, round_ = texts(plan, BlockerClass.PACKAGE_DEFECT, 0)
    assert summary.startswith(
        "the implementation gate failed on a package-defect, which no correction round can fix"
    )
    assert round_ == 0
    assert "correction round" not in impact

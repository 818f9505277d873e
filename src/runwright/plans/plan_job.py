"""The durable plan-run job (registered with the engine under ``runwright.plans.plan``)."""

from __future__ import annotations

from typing import Any

from runwright.domain.runs import RunKind
from runwright.engine.context import JobContext
from runwright.engine.registry import job
from runwright.plans import phase_job, validation  # noqa: F401 - registers the child jobs
from runwright.plans.flow import PlanFlow
from runwright.plans.spec import PLAN_JOB, PlanRunSpec


@job(name=PLAN_JOB, kind=RunKind.PLAN)
def plan_run(ctx: JobContext, spec_data: dict[str, Any]) -> dict[str, Any]:
    """Execute a plan test-first through its gates to a completion contract."""
    return PlanFlow(ctx, PlanRunSpec.model_validate(spec_data)).run()

"""The arguments of plan runs and plan-phase runs (JSON, stored with the run)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain import job_names
from runwright.domain.plans import Handoff, PlanSpec
from runwright.plans.delegation import Delegation

PLAN_JOB = job_names.PLAN
PHASE_JOB = job_names.PLAN_PHASE
VALIDATE_JOB = job_names.PLAN_VALIDATE


class Project(BaseModel):
    """Where a plan runs: the project, its root (a git work tree) and runwright's home."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str
    project_root: str
    home: str


class PlanRunSpec(BaseModel):
    """Everything a plan run needs; the plan is read again only for a re-check."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: Project
    plan: PlanSpec
    plan_path: str
    plan_sha256: str
    handoff: Handoff
    acknowledged: list[str] = Field(
        default_factory=list, description="test_not_applicable phases acknowledged at run time."
    )
    requested_by: str = "unknown"


class PhaseRunSpec(BaseModel):
    """One delegation of one phase (and its tasks)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: Project
    plan: PlanSpec
    delegation: Delegation


class ValidateRunSpec(BaseModel):
    """The validation stage's run: trace requirements, run the tests, report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: Project
    plan: PlanSpec
    plan_run_id: str
    round: int = Field(ge=0)
    acknowledged: list[str] = Field(default_factory=list)

"""UET WorkstreamSpec: a DAG of tasks inside a phase, with its concurrency and error handling.

Plans (``runwright.domain.plans``) are how runwright executes workstreams: a plan's phases are
the tasks, its ``max_parallel`` the concurrency and its ``error_handling`` the strategy. This
model is the UET artifact itself, validated the same way (unique task ids, known dependencies,
no cycles, a scope inside the phase's, constraints that only tighten), for files exchanged
with UET tooling (`runwright schema validate workstream_spec FILE`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runwright.domain.plans import ErrorHandling, find_cycle
from runwright.domain.policy import PatchConstraints
from runwright.domain.router_specs import Acceptance, ResourceScope, TaskSpec


class Concurrency(BaseModel):
    """How many tasks of the workstream may run at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_parallel: int = Field(default=1, ge=1)


class WorkstreamErrorHandling(BaseModel):
    """What a task that exhausts its attempts does to the rest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: ErrorHandling = ErrorHandling.FAIL_FAST


class WorkstreamSpec(BaseModel):
    """A workstream: an objective met by a DAG of tasks within one phase."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workstream_id: str = Field(min_length=1)
    project_id: str = Field(min_length=1)
    phase_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    objective: str = Field(min_length=1)
    tasks: list[TaskSpec] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    resource_scope: ResourceScope | None = Field(
        default=None, description="Narrows the phase's scope (phase ∩ workstream ∩ task)."
    )
    constraints: PatchConstraints | None = Field(
        default=None, description="Tightens the phase's constraints; tasks tighten further."
    )
    concurrency: Concurrency = Field(default_factory=Concurrency)
    error_handling: WorkstreamErrorHandling = Field(default_factory=WorkstreamErrorHandling)
    acceptance: Acceptance = Field(default_factory=Acceptance)

    @model_validator(mode="after")
    def _dag(self) -> WorkstreamSpec:
        ids = [t.task_id for t in self.tasks]
        problems = [
            f"tasks: task_id {dup!r} appears more than once"
            for dup in sorted({i for i in ids if ids.count(i) > 1})
        ]
        known = set(ids)
        for i, task in enumerate(self.tasks):
            problems += [
                f"tasks[{i}] ({task.task_id}).depends_on: no task {dep!r}"
                for dep in task.depends_on
                if dep not in known
            ]
        cycle = find_cycle({t.task_id: list(t.depends_on) for t in self.tasks})
        if cycle:
            problems.append(f"tasks.depends_on: dependency cycle {' -> '.join(cycle)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

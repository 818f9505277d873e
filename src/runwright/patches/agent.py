"""What an agent-tool run needs, decided before it starts: the request, the route, the prompt,
the apps it may use (their commands resolved) and the patch context its patch is judged by.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain import job_names
from runwright.domain.budgets import BudgetBreach, BudgetGuard
from runwright.domain.patches_context import PatchContext, PatchRecord
from runwright.domain.patches_prompts import PromptInstance
from runwright.domain.policy import PatchConstraints, tighten
from runwright.domain.router import RouterApp, RouterConfig
from runwright.domain.router_decision import RouteDecision
from runwright.domain.router_specs import ExecutionRequest, PhaseSpec, TaskSpec
from runwright.domain.runs import Run
from runwright.errors import NonRetryableError

AGENT_JOB = job_names.AGENT_TOOL


class BudgetExceeded(NonRetryableError):
    """An agent call was refused or stopped: its budget ran out (the run fails with this)."""

    code = "budget_exceeded"

    def __init__(self, breach: BudgetBreach):
        super().__init__(
            breach.describe(),
            hint="raise the budget or stop: the plan escalates it",
            limit=breach.limit,
            scope=breach.scope.value,
            budget_phase=breach.phase_id,
        )
        self.breach = breach


class AgentRunSpec(BaseModel):
    """The argument of an agent-tool run (JSON; everything it needs, nothing secret)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request: ExecutionRequest
    decision: RouteDecision
    prompt: PromptInstance
    apps: dict[str, RouterApp]
    context: PatchContext
    project_root: str
    home: str
    base_commit: str
    auto_commit: bool = False
    approved_by: list[str] = Field(default_factory=list)
    verify: bool = Field(
        default=True,
        description="Verify in the run; false leaves an applied patch for the caller to verify.",
    )
    context_files: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Files the tool may read (worktree-relative path → text), written into its worktree"
            " before it runs and taken out again before its edits are captured."
        ),
    )
    budget: BudgetGuard | None = Field(
        default=None,
        description="The budgets each tool call is held to (a plan delegation's), if any.",
    )

    def attempts(self) -> list[tuple[str, int]]:
        """(tool, attempt) in order: the selected tool, then each fallback, max_attempts each."""
        tools = [t for t in [self.decision.selected, *self.decision.fallbacks] if t]
        return [(t, n) for t in tools for n in range(1, self.decision.max_attempts + 1)]


class AgentToolResult(BaseModel):
    """How an agent-tool run went: the run, the route, the prompt and the patch it produced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: Run
    decision: RouteDecision
    prompt: PromptInstance
    patch: PatchRecord | None = None


def request_constraints(request: ExecutionRequest) -> PatchConstraints | None:
    """The request's own constraints as patch constraints (None when it sets none)."""
    rc = request.constraints
    if rc.max_lines_changed is None and not rc.tests_must_pass and rc.patch_only is None:
        return None
    return PatchConstraints(
        max_lines_changed=rc.max_lines_changed,
        tests_must_pass=rc.tests_must_pass or None,
        patch_required=rc.patch_only,
    )


def phase_context(phase: PhaseSpec) -> PatchContext:
    """The patch context a phase alone implies: its constraints, scope and test command."""
    tests = phase.constraints.tests
    return PatchContext(
        phase_id=phase.phase_id,
        phase_constraints=phase.patch_constraints(),
        scopes=[phase.resource_scope]
        if phase.resource_scope.model_dump(exclude_defaults=True)
        else [],
        test_commands=[list(tests.test_command)] if tests.test_command else [],
        tests_required=bool(tests.tests_must_pass or tests.tests_must_run),
    )


def build_context(
    request: ExecutionRequest,
    *,
    phase: PhaseSpec | None,
    task: TaskSpec | None,
    decision: RouteDecision,
    config: RouterConfig,
) -> PatchContext:
    """The patch context of an agent run: phase and task levels, scopes, verification."""
    task_level = tighten(
        PatchConstraints(), task.constraints_delta if task else None, request_constraints(request)
    )
    commands: list[list[str]] = []
    if phase is not None and phase.constraints.tests.test_command:
        commands.append(list(phase.constraints.tests.test_command))
    for name in decision.validate_with:
        command = config.apps[name].command
        if command:
            commands.append(list(command))
    tests = phase.constraints.tests if phase else None
    return PatchContext(
        phase_id=request.phase_id,
        task_id=request.task_id or (task.task_id if task else None),
        phase_constraints=phase.patch_constraints() if phase else None,
        task_constraints=task_level if task_level.model_dump(exclude_none=True) else None,
        scopes=[
            s
            for s in (
                phase.resource_scope if phase else None,
                task.resource_scope_delta if task else None,
                request.resource_scope,
            )
            if s is not None and s.model_dump(exclude_defaults=True)
        ],
        test_commands=commands,
        tests_required=bool(
            decision.validation_required
            or (tests and (tests.tests_must_pass or tests.tests_must_run))
        ),
    )

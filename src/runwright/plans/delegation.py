"""Preparing one delegation of a plan phase: the execution request, its route to the owner
role's tool, the prompt and the patch context — everything an agent-tool run needs.

Scopes and constraints narrow plan ∩ phase ∩ task; implementation work may not touch test
files (they are forbidden in its scope, so such a patch is quarantined before anything is
applied). The tool gets the plan's test spec twice: its text in the prompt (a "Test spec"
section, cut to a sane size with a note) and the whole file in its worktree at the spec's
project-relative path (a context file, taken out again before its edits are captured).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.budgets import BudgetGuard
from runwright.domain.ids import new_id
from runwright.domain.patches_context import PatchContext
from runwright.domain.patches_prompts import PromptKind
from runwright.domain.plan_records import CorrectionRequest
from runwright.domain.plans import PhaseType, PlanPhase, PlanSpec, PlanTask
from runwright.domain.policy import PatchConstraints, tighten
from runwright.domain.router_decision import RouteDecision
from runwright.domain.router_specs import (
    Classification,
    ExecutionRequest,
    PhaseSpec,
    ResourceScope,
    RoutingSpec,
)
from runwright.engine.clock import Clock
from runwright.patches.agent import AgentRunSpec
from runwright.patches.env import PatchEnv
from runwright.patches.git import resolve_commit
from runwright.patches.ledger import PatchLedger
from runwright.patches.prompts import build_sections, render
from runwright.patches.routing import Router
from runwright.plans.commands import verify_argv
from runwright.plans.spec_context import PlanTestSpec, read_test_spec
from runwright.store.database import Database


class Delegation(BaseModel):
    """What one delegation is about (the argument of a plan-phase run, per task)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_run_id: str
    phase_id: str
    task_id: str | None = None
    round: int = Field(ge=0)
    correction: CorrectionRequest | None = None
    test_files: list[str] = Field(
        default_factory=list, description="Tests proving this phase's requirements."
    )
    base_commit: str | None = Field(
        default=None,
        description="The commit the phase's (first) worktree starts from: the plan's commit "
        "when the phase's batch started. None: HEAD when the delegation is prepared.",
    )
    commit_after: list[str] = Field(
        default_factory=list,
        description="Runs of the phases before this one in its batch: its commits land after "
        "theirs (the plan's phase order).",
    )
    budget: BudgetGuard | None = Field(
        default=None, description="The plan's and the phase's budgets its agent calls are held to."
    )
    carried: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Tasks this delegation committed before a budget stop interrupted it "
        "(their records; they are not delegated again).",
    )


def task_units(phase: PlanPhase) -> list[PlanTask | None]:
    """The delegations a phase makes: one per task, or one for the whole phase."""
    return list(phase.tasks) if phase.tasks else [None]


def phase_scopes(plan: PlanSpec, phase: PlanPhase, task: PlanTask | None) -> list[ResourceScope]:
    """The scopes intersected for a delegation (plan, phase, task, and the test-file ban)."""
    scopes = [s for s in (plan.scope, phase.scope, task.scope if task else None) if s]
    if phase.phase_type is not PhaseType.TEST:
        scopes.append(ResourceScope(forbidden=list(plan.test_paths)))
    return scopes


def phase_constraints(plan: PlanSpec, phase: PlanPhase) -> PatchConstraints | None:
    """The plan's constraints tightened by the phase's (the phase level of the patch policy)."""
    if plan.constraints is None and phase.constraints is None:
        return None
    return tighten(plan.constraints or PatchConstraints(), phase.constraints)


def phase_spec(plan: PlanSpec, phase: PlanPhase) -> PhaseSpec:
    """The phase as the router sees it: the owner role's tools are the only ones allowed."""
    return PhaseSpec(
        phase_id=f"{plan.plan_id}.{phase.phase_id}",
        name=phase.name,
        category=phase.phase_type.value,
        allowed_tools=list(plan.roles[phase.owner_role].tools),
    )


def request_context(
    plan: PlanSpec, phase: PlanPhase, d: Delegation, spec: PlanTestSpec | None = None
) -> str:
    """Background for the tool: the plan, the requirements it serves, a correction if any,
    and the test spec."""
    lines = [
        f"Plan {plan.plan_id}: {plan.title} (test spec: {spec.path if spec else plan.test_spec})."
    ]
    wanted = set(phase.requirements)
    for req in plan.requirements:
        if req.id in wanted:
            lines.append(f"Requirement {req.id}{' (critical)' if req.critical else ''}: {req.text}")
    if phase.phase_type is PhaseType.TEST:
        lines.append("Write tests only; the implementation comes later and must make them pass.")
    else:
        lines.append(
            "Do not create, edit or delete test files "
            f"({', '.join(plan.test_paths)}): test rewrites are rejected."
        )
        if d.test_files:
            lines.append("Tests that must pass: " + ", ".join(d.test_files))
    if phase.proof_artifact:
        lines.append(f"Leave {phase.proof_artifact} in the repository as proof.")
    if d.correction is not None:
        lines.append(d.correction.as_text())
    if spec is not None:
        lines += ["", spec.section()]
    return "\n".join(lines)


def base_commit(env: PatchEnv, phase: PlanPhase, d: Delegation) -> str:
    """Where the delegation's worktree starts: the batch's base commit for the phase's first
    (or only) task; HEAD — with the phase's earlier tasks committed — for a later task."""
    first = task_units(phase)[0]
    if d.base_commit and (first is None or first.task_id == d.task_id):
        return d.base_commit
    return resolve_commit(env.repo, "HEAD")


def prepare(
    db: Database, env: PatchEnv, plan: PlanSpec, d: Delegation
) -> tuple[AgentRunSpec | None, RouteDecision]:
    """The agent-tool run for one delegation, or None with the router's refusal."""
    phase = plan.phase(d.phase_id)
    task = next((t for t in phase.tasks if t.task_id == d.task_id), None)
    role = plan.roles[phase.owner_role]
    test_spec = read_test_spec(plan, env.project_root)
    objective = phase.objective + (f"\n\nTask {task.task_id}: {task.objective}" if task else "")
    request = ExecutionRequest(
        request_id=new_id(),
        project_id=env.project_id,
        phase_id=f"{plan.plan_id}.{phase.phase_id}",
        task_kind=role.task_kind,
        classification=Classification(),
        routing=RoutingSpec(
            allowed_tools=list(role.tools),
            max_attempts=phase.max_attempts,
            timeout_seconds=phase.timeout_seconds,
        ),
        objective=objective,
        context=request_context(plan, phase, d, test_spec),
        files=list(dict.fromkeys([*phase.files, *(task.files if task else [])])),
        workstream_id=plan.plan_id,
        task_id=task.task_id if task else phase.phase_id,
    )
    spec = phase_spec(plan, phase)
    router = Router(db, env)
    config = router.config()
    decision = router.route(request, phase=spec, config=config)
    if not decision.accepted or decision.selected is None:
        return None, decision
    context = PatchContext(
        phase_id=spec.phase_id,
        task_id=request.task_id,
        phase_constraints=phase_constraints(plan, phase),
        task_constraints=task.constraints if task else None,
        scopes=phase_scopes(plan, phase, task),
        test_timeout_seconds=phase.timeout_seconds,
    )
    ledger = PatchLedger(db, env)
    app = config.apps.get(decision.selected)
    sections = build_sections(
        request,
        kind=PromptKind.CODE_EDIT,
        policy=ledger.policy(context),
        scopes=context.scopes,
        phase=spec,
        test_commands=[]
        if phase.phase_type is PhaseType.TEST
        else [verify_argv(plan, phase, d.test_files)],
    )
    prompt = render(
        sections,
        template_id=(app.prompt_template if app else None) or "default",
        target_tool=decision.selected,
        kind=PromptKind.CODE_EDIT,
        home=env.home,
        request=request,
    )
    names = {decision.selected, *decision.fallbacks, *decision.validate_with}
    return (
        AgentRunSpec(
            request=request,
            decision=decision,
            prompt=prompt,
            apps={n: config.apps[n] for n in sorted(names)},
            context=context,
            project_root=str(env.project_root),
            home=str(env.home),
            base_commit=base_commit(env, phase, d),
            auto_commit=False,
            verify=False,
            context_files=test_spec.files(),
            budget=d.budget.model_copy(update={"task_id": d.task_id}) if d.budget else None,
        ),
        decision,
    )


def project_env(project_id: str, project_root: str, home: str, clock: Clock) -> PatchEnv:
    """The patch environment of a plan run's project."""
    return PatchEnv(
        project_id=project_id, project_root=Path(project_root), home=Path(home), clock=clock
    )

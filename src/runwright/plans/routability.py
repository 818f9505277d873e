"""Can every role a plan's phases use be routed for its task kind? A dry run of the router's
pure decision (no counter advanced, nothing recorded), with the request each phase's
delegation would send: the role's tools as the only ones allowed, its task kind.

The preflight gate fails on each role found here; ``runwright plan validate`` warns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runwright.domain.ids import new_id
from runwright.domain.plans import PlanPhase, PlanSpec
from runwright.domain.router import RouterConfig
from runwright.domain.router_decision import RejectionCode, decide
from runwright.domain.router_specs import ExecutionRequest, RoutingSpec
from runwright.errors import RunwrightError
from runwright.patches.router_files import load_router
from runwright.plans.delegation import phase_spec

ROUTER_FILE = ".runwright/router.yaml"
AGENT_CLIS = "claude, codex or aider"

#: The router's rejection codes in words.
REASONS: dict[RejectionCode, str] = {
    RejectionCode.NO_ROUTABLE_TOOL_FOR_PHASE: "none of its tools takes that task kind",
    RejectionCode.TOOL_NOT_PERMITTED_FOR_PHASE: "its tools are not permitted in the phase",
    RejectionCode.FILES_SCOPE_VIOLATION: "the request's files leave the phase's scope",
    RejectionCode.CONSTRAINT_WEAKENED: "the request would weaken the phase's constraints",
    RejectionCode.PHASE_NOT_FOUND: "the phase is not declared",
    RejectionCode.PHASE_SPEC_INVALID: "the phase spec is invalid",
    RejectionCode.PROMPT_SPEC_INVALID: "the prompt spec is invalid",
    RejectionCode.REQUEST_INVALID_SCHEMA: "the request is invalid",
}


@dataclass(frozen=True)
class UnroutableRole:
    """A role the router refuses for its task kind, with the phases that use it."""

    role: str
    tools: list[str]
    task_kind: str
    phases: list[str]
    code: str
    takes: dict[str, list[str]]  # each configured tool → the task kinds it takes

    @property
    def message(self) -> str:
        """One line: the role, its phases, its tools, why the router refuses."""
        code = RejectionCode(self.code)
        takes = [
            f"{tool} takes {', '.join(kinds) if kinds else 'no task kind'}"
            for tool, kinds in self.takes.items()
        ]
        return (
            f"role {self.role} ({'phases' if len(self.phases) > 1 else 'phase'} "
            f"{', '.join(self.phases)}) cannot be routed for task kind "
            f"{self.task_kind}: its tools {self.tools} — {REASONS[code]} "
            f"({'; '.join([*takes, f'router: {self.code}'])})"
        )

    @property
    def correction(self) -> str:
        """What to do about it."""
        return (
            f"install {AGENT_CLIS} and rerun `runwright init`, or add an app for task kind "
            f"{self.task_kind} to {ROUTER_FILE} and list it under roles.{self.role}.tools"
        )


def dry_request(plan: PlanSpec, phase: PlanPhase) -> ExecutionRequest:
    """The request a delegation of ``phase`` sends (as ``delegation.prepare`` builds it), as
    far as routing looks at it."""
    role = plan.roles[phase.owner_role]
    return ExecutionRequest(
        request_id=new_id(),
        project_id="preflight",
        phase_id=f"{plan.plan_id}.{phase.phase_id}",
        task_kind=role.task_kind,
        routing=RoutingSpec(
            allowed_tools=list(role.tools),
            max_attempts=phase.max_attempts,
            timeout_seconds=phase.timeout_seconds,
        ),
        objective=phase.objective,
        workstream_id=plan.plan_id,
        task_id=phase.phase_id,
    )


def unroutable_roles(
    plan: PlanSpec, config: RouterConfig, *, skip: set[str] | None = None
) -> list[UnroutableRole]:
    """Every role used by a phase that the router refuses (roles in ``skip`` left out)."""
    users: dict[str, list[PlanPhase]] = {}
    for phase in plan.phases:
        if phase.owner_role in plan.roles and phase.owner_role not in (skip or set()):
            users.setdefault(phase.owner_role, []).append(phase)
    out = []
    for name, phases in users.items():
        role = plan.roles[name]
        refused = None
        for phase in phases:
            decision = decide(config, dry_request(plan, phase), phase=phase_spec(plan, phase))
            if not decision.accepted:
                refused = decision
                break
        if refused is None:
            continue
        out.append(
            UnroutableRole(
                role=name,
                tools=list(role.tools),
                task_kind=role.task_kind,
                phases=[p.phase_id for p in phases],
                code=str(refused.rejection_code),
                takes={
                    t: list(config.apps[t].capabilities.task_kinds)
                    for t in role.tools
                    if t in config.apps
                },
            )
        )
    return out


def route_warnings(plan: PlanSpec, home: Path) -> list[str]:
    """What ``runwright plan validate`` warns about routing (the plan's structure aside): each
    role the project's router refuses, or why the router could not be read."""
    try:
        config = load_router(home)
    except RunwrightError as exc:
        return [f"roles not checked against the router: {exc.message}"]
    missing = {
        name for name, role in plan.roles.items() if any(t not in config.apps for t in role.tools)
    }
    warnings = [
        f"role {name} names router apps "
        f"{', '.join(t for t in plan.roles[name].tools if t not in config.apps)} that "
        f"{ROUTER_FILE} does not define"
        for name in sorted(missing)
    ]
    for role in unroutable_roles(plan, config, skip=missing):
        warnings.append(f"{role.message}; fix: {role.correction}")
    return warnings

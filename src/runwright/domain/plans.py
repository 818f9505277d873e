"""The plan contract (SPEC §5): a test-first DAG of phases owned by roles, with gates between
stages, a retry budget per gate and narrowing scopes and constraints (plan ∩ phase ∩ task).

Pure types and load-time rules; running a plan lives in ``runwright.plans``.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runwright.domain.budgets import Budget
from runwright.domain.execmodel.probes import CheckSpec
from runwright.domain.limits import Many, WholeSeconds
from runwright.domain.policy import PatchConstraints, weakened_fields
from runwright.domain.policy_globs import all_within
from runwright.domain.router_specs import ResourceScope

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=100)]
PhaseId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
RequirementId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=64)]
RoleName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]

MAX_CORRECTION_RETRIES = 2
DEFAULT_TEST_PATHS = ["tests/**", "test/**", "**/test_*.py", "**/*_test.py"]


class PhaseType(StrEnum):
    """What a phase produces."""

    TEST = "test"
    IMPLEMENTATION = "implementation"
    VALIDATION_SUPPORT = "validation-support"


class Role(StrEnum):
    """The standard roles (execution-lead doctrine); plans may add custom ones."""

    TEST_IMPLEMENTER = "test-implementer"
    IMPLEMENT_PLAN = "implement-plan"
    VALIDATE_PLAN = "validate-plan"
    EXECUTION_LEAD = "execution-lead"


class ErrorHandling(StrEnum):
    """What happens to the rest of a stage when a phase exhausts its attempts."""

    FAIL_FAST = "fail_fast"
    CONTINUE = "continue"
    ESCALATE = "escalate"


class Gate(StrEnum):
    """The gates between stages, in order."""

    PREFLIGHT = "preflight"
    TEST = "test"
    IMPLEMENTATION = "implementation"
    VALIDATION = "validation"


class Stage(StrEnum):
    """The stages of a plan run, in order."""

    INTAKE = "intake"
    PREFLIGHT = "preflight"
    TESTS = "tests"
    IMPLEMENTATION = "implementation"
    VALIDATION = "validation"
    COMPLETION = "completion"


#: The stage a phase of each type runs in, the gate that must pass before it may start, and
#: the gate that judges its stage.
STAGE_OF: dict[PhaseType, Stage] = {
    PhaseType.TEST: Stage.TESTS,
    PhaseType.IMPLEMENTATION: Stage.IMPLEMENTATION,
    PhaseType.VALIDATION_SUPPORT: Stage.VALIDATION,
}
GATE_BEFORE: dict[Stage, Gate] = {
    Stage.TESTS: Gate.PREFLIGHT,
    Stage.IMPLEMENTATION: Gate.TEST,
    Stage.VALIDATION: Gate.IMPLEMENTATION,
}
GATE_AFTER: dict[Stage, Gate] = {
    Stage.TESTS: Gate.TEST,
    Stage.IMPLEMENTATION: Gate.IMPLEMENTATION,
    Stage.VALIDATION: Gate.VALIDATION,
}
GATE_ORDER = list(Gate)
#: Who normally owns each phase type (the preflight gate checks the split).
OWNER_OF: dict[PhaseType, Role] = {
    PhaseType.TEST: Role.TEST_IMPLEMENTER,
    PhaseType.IMPLEMENTATION: Role.IMPLEMENT_PLAN,
}


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Requirement(_Spec):
    """A source requirement the plan must satisfy and trace to tests and code."""

    id: RequirementId
    text: str = Field(min_length=1)
    critical: bool = Field(default=False, description="Untraced, it is a critical failure.")


class DecisionStatus(StrEnum):
    """Where an upstream decision stands; execution needs closed or accepted."""

    OPEN = "open"
    CLOSED = "closed"
    ACCEPTED = "accepted"


class PlanDecision(_Spec):
    """A design or scope decision the plan depends on."""

    id: RequirementId
    question: str = Field(min_length=1)
    status: DecisionStatus
    answer: str | None = None


class RoleSpec(_Spec):
    """Which router apps a role may delegate to, and the task kind its requests carry."""

    tools: list[str] = Field(min_length=1, description="Router app ids, in preference order.")
    task_kind: str = Field(default="code_edit", min_length=1)
    description: str = ""


class Handoff(_Spec):
    """The intake package: who hands the plan over and where execution happens.

    Every path must be given; a missing one blocks the plan at intake with nothing delegated.
    """

    issuer: str = Field(default="tech-lead", min_length=1)
    decision_owner_override: bool = Field(
        default=False, description="A decision owner lets an issuer other than tech-lead hand off."
    )
    item_workspace_path: str | None = None
    package_directory_path: str | None = None
    execution_worktree_path: str | None = None


class PlanTask(_Spec):
    """One delegation inside a phase, narrowing the phase's scope and constraints further."""

    task_id: PhaseId
    objective: str = Field(min_length=1)
    files: list[str] = Field(default_factory=list)
    scope: ResourceScope | None = None
    constraints: PatchConstraints | None = None


class PlanPhase(_Spec):
    """One phase of the plan: a delegation to its owner role, committed on its own."""

    phase_id: PhaseId
    name: str = Field(min_length=1)
    phase_type: PhaseType
    owner_role: RoleName
    objective: str = Field(min_length=1, description="What the delegate must achieve.")
    depends_on: list[PhaseId] = Field(default_factory=list)
    parallel_safe: bool = False
    blocking_gate: Gate | None = Field(
        default=None, description="The gate that must pass first (default: by phase_type)."
    )
    commit_intent: str = Field(min_length=1, max_length=200, description="Commit message seed.")
    proof_artifact: str | None = Field(
        default=None, description="A file the phase must leave in the repository."
    )
    files: list[str] = Field(default_factory=list, description="Files to focus on.")
    scope: ResourceScope | None = None
    constraints: PatchConstraints | None = None
    requirements: list[RequirementId] = Field(default_factory=list)
    acceptance_checks: list[CheckSpec] = Field(default_factory=list)
    max_attempts: int = Field(default=1, ge=1, le=10, description="Tool attempts per delegation.")
    timeout_seconds: WholeSeconds = 900
    verify_command: list[str] | None = Field(
        default=None, description="argv verifying this phase's patch (may use {tests})."
    )
    test_not_applicable: bool = False
    test_not_applicable_reason: str | None = None
    tasks: list[PlanTask] = Field(default_factory=list)
    budget: Budget | None = Field(
        default=None, description="Limits on this phase's agent work (every round and attempt)."
    )

    @field_validator("verify_command", mode="before")
    @classmethod
    def _argv(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("verify_command must be an argv list such as ['pytest', '-q']")
        return value

    @model_validator(mode="after")
    def _exception_has_reason(self) -> PlanPhase:
        if self.test_not_applicable and not (self.test_not_applicable_reason or "").strip():
            raise ValueError(
                "test_not_applicable needs test_not_applicable_reason (why no test can prove it)"
            )
        if self.test_not_applicable and self.phase_type is PhaseType.TEST:
            raise ValueError("a test phase cannot be test_not_applicable")
        return self

    @property
    def stage(self) -> Stage:
        """The stage this phase runs in."""
        return STAGE_OF[self.phase_type]

    @property
    def gate_before(self) -> Gate:
        """The gate that must pass before this phase starts."""
        return self.blocking_gate or GATE_BEFORE[self.stage]

    def file_scope(self) -> list[str]:
        """The paths this phase may change: its write and create globs and its files."""
        scope = self.scope
        globs = [*(scope.write or []), *(scope.create or [])] if scope else []
        globs += self.files + [f for t in self.tasks for f in t.files]
        for task in self.tasks:
            if task.scope:
                globs += [*(task.scope.write or []), *(task.scope.create or [])]
        return list(dict.fromkeys(globs))


class PlanSpec(_Spec):
    """A plan contract (YAML): requirements, decisions, roles, and the phases that meet them."""

    plan_id: Slug
    title: str = Field(min_length=1)
    version: Many = 1
    description: str = ""
    test_spec: str = Field(min_length=1, description="Repository-relative path of the test spec.")
    test_command: list[str] = Field(
        min_length=1, description="argv running the tests; {tests} expands to test files."
    )
    parse_command: list[str] | None = Field(
        default=None, description="argv checking tests parse (default: compile Python tests)."
    )
    test_paths: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TEST_PATHS),
        description="Globs of test files (implementation phases may not touch them).",
    )
    requirements: list[Requirement] = Field(min_length=1)
    decisions: list[PlanDecision] = Field(default_factory=list)
    roles: dict[RoleName, RoleSpec] = Field(min_length=1)
    handoff: Handoff | None = None
    exceptions_acknowledged: list[PhaseId] = Field(
        default_factory=list, description="test_not_applicable phases acknowledged at preflight."
    )
    max_parallel: int = Field(default=2, ge=1, le=64)
    error_handling: ErrorHandling = ErrorHandling.FAIL_FAST
    retry_budget: int = Field(
        default=MAX_CORRECTION_RETRIES,
        ge=0,
        le=MAX_CORRECTION_RETRIES,
        description="Correction retries per failed gate (at most 2; the next failure escalates).",
    )
    scope: ResourceScope | None = None
    constraints: PatchConstraints | None = None
    budget: Budget | None = Field(
        default=None, description="Limits on the agent work of the whole plan."
    )
    phases: list[PlanPhase] = Field(min_length=1)

    @field_validator("test_command", "parse_command", mode="before")
    @classmethod
    def _argv(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("commands are argv lists such as ['python', '-m', 'pytest', '-q']")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PlanSpec:
        problems = plan_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def phase(self, phase_id: str) -> PlanPhase:
        """The phase with ``phase_id`` (KeyError if there is none)."""
        for p in self.phases:
            if p.phase_id == phase_id:
                return p
        raise KeyError(phase_id)

    def phases_of(self, stage: Stage) -> list[PlanPhase]:
        """The phases that run in ``stage``, in plan order."""
        return [p for p in self.phases if p.stage is stage]

    def covering(self, requirement_id: str, phase_type: PhaseType) -> list[PlanPhase]:
        """The phases of ``phase_type`` that name ``requirement_id``, in plan order."""
        return [
            p
            for p in self.phases
            if p.phase_type is phase_type and requirement_id in p.requirements
        ]

    def requirement_ids(self) -> list[str]:
        """Every requirement id, in plan order."""
        return [r.id for r in self.requirements]


def plan_problems(plan: PlanSpec) -> list[str]:
    """Everything wrong with a plan's structure, one message per problem (field first)."""
    ids = [p.phase_id for p in plan.phases]
    req_ids = [r.id for r in plan.requirements]
    problems = _duplicates("phases", "phase_id", ids) + _duplicates("requirements", "id", req_ids)
    problems += _duplicates("decisions", "id", [d.id for d in plan.decisions])
    known = set(ids)
    for i, phase in enumerate(plan.phases):
        where = f"phases[{i}] ({phase.phase_id})"
        if phase.owner_role not in plan.roles:
            problems.append(
                f"{where}.owner_role: unknown role {phase.owner_role!r}; declare it under roles "
                f"(known: {', '.join(sorted(plan.roles))})"
            )
        for dep in phase.depends_on:
            if dep not in known:
                problems.append(f"{where}.depends_on: no phase {dep!r}")
            elif dep == phase.phase_id:
                problems.append(f"{where}.depends_on: a phase cannot depend on itself")
        for req in phase.requirements:
            if req not in req_ids:
                problems.append(f"{where}.requirements: no requirement {req!r}")
        problems += _narrowing_problems(plan, phase, where)
        problems += _duplicates(f"{where}.tasks", "task_id", [t.task_id for t in phase.tasks])
    for i, phase_id in enumerate(plan.exceptions_acknowledged):
        if phase_id not in known:
            problems.append(f"exceptions_acknowledged[{i}]: no phase {phase_id!r}")
    cycle = find_cycle({p.phase_id: list(p.depends_on) for p in plan.phases})
    if cycle:
        problems.append(f"phases.depends_on: dependency cycle {' -> '.join(cycle)}")
    problems += _stage_order_problems(plan)
    return problems


def _duplicates(where: str, field: str, values: list[str]) -> list[str]:
    counts = Counter(values)
    return [
        f"{where}: {field} {dup!r} appears more than once"
        for dup in sorted(v for v, n in counts.items() if n > 1)
    ]


def _narrowing_problems(plan: PlanSpec, phase: PlanPhase, where: str) -> list[str]:
    """Scopes and constraints may only narrow: plan ⊇ phase ⊇ task."""
    problems = []
    levels: list[tuple[str, ResourceScope | None, PatchConstraints | None]] = [
        ("plan", plan.scope, plan.constraints),
        (where, phase.scope, phase.constraints),
    ]
    levels += [(f"{where}.tasks[{j}]", t.scope, t.constraints) for j, t in enumerate(phase.tasks)]
    # plan → phase; plan and phase → each task
    pairs = [(levels[0], levels[1])] + [(up, lv) for lv in levels[2:] for up in levels[:2]]
    for (upper_name, upper_scope, upper_c), (lower_name, lower_scope, lower_c) in pairs:
        if upper_c is not None and lower_c is not None:
            for name in weakened_fields(upper_c, lower_c):
                problems.append(
                    f"{lower_name}.constraints.{name}: constraint_weakened — a lower level may "
                    f"only tighten {upper_name}'s value"
                )
        if upper_scope is not None and lower_scope is not None:
            for op in ("read", "write", "create"):
                outer, inner = getattr(upper_scope, op), getattr(lower_scope, op)
                if outer is not None and inner is not None:
                    outside = all_within(inner, outer)
                    if outside:
                        problems.append(
                            f"{lower_name}.scope.{op}: {outside} not inside {upper_name}'s "
                            f"{op} scope {outer} (scopes only narrow)"
                        )
            dropped = all_within(upper_scope.forbidden, lower_scope.forbidden)
            if lower_scope.forbidden and dropped:
                problems.append(
                    f"{lower_name}.scope.forbidden: drops {dropped}, which {upper_name} forbids"
                )
    return problems


def _stage_order_problems(plan: PlanSpec) -> list[str]:
    """A phase may not depend on a phase of a later stage (that would invert test-first)."""
    order = list(Stage)
    problems = []
    for phase in plan.phases:
        for dep in phase.depends_on:
            try:
                other = plan.phase(dep)
            except KeyError:
                continue
            if order.index(other.stage) > order.index(phase.stage):
                problems.append(
                    f"phases ({phase.phase_id}).depends_on: {dep} is a {other.phase_type} phase, "
                    f"which runs after this {phase.phase_type} phase"
                )
        if GATE_ORDER.index(phase.gate_before) > GATE_ORDER.index(GATE_BEFORE[phase.stage]):
            problems.append(
                f"phases ({phase.phase_id}).blocking_gate: {phase.gate_before} is judged after "
                f"the {phase.stage} stage; use {GATE_BEFORE[phase.stage]} or an earlier gate"
            )
    return problems


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle in ``node → depends_on`` edges, as a closed path, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, []):
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None

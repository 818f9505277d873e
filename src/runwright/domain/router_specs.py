"""Execution requests, phase and task specs (UET), and how scopes narrow between them.

Effective scope = phase ∩ workstream ∩ task: a path is readable, writable or creatable only if
every level that declares that list allows it, and forbidden if any level forbids it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runwright.domain.ids import Ulid
from runwright.domain.limits import Few, Many, WholeSeconds
from runwright.domain.policy import PatchConstraints, tighten
from runwright.domain.policy_globs import any_match


class Complexity(StrEnum):
    """How hard a task is."""

    TRIVIAL = "trivial"
    SIMPLE = "simple"
    MODERATE = "moderate"
    COMPLEX = "complex"
    EXPERT = "expert"


class Priority(StrEnum):
    """How urgent a task is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class Strategy(StrEnum):
    """How a router picks among a rule's candidate tools."""

    FIXED = "fixed"
    ROUND_ROBIN = "round_robin"
    AUTO = "auto"


class Classification(BaseModel):
    """What kind of work a request is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    complexity: Complexity = Complexity.MODERATE
    risk_tier: str = Field(default="medium", min_length=1)
    domain: str | None = None
    priority: Priority = Priority.NORMAL


class ResourceScope(BaseModel):
    """Path globs a piece of work may read, write, create, and must never touch."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str | None = Field(
        default=None, description="Resource type (UET phase scope), e.g. files."
    )
    read: list[str] | None = None
    write: list[str] | None = None
    create: list[str] | None = None
    forbidden: list[str] = Field(default_factory=list)


class RequestConstraints(BaseModel):
    """Constraints a request asks for; they may only tighten the phase's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patch_only: bool | None = None
    tests_must_pass: bool | None = None
    max_lines_changed: Many | None = None


class RoutingSpec(BaseModel):
    """How a request wants to be routed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: Strategy | None = Field(
        default=None, description="Used when the matching rule names none (then the defaults)."
    )
    allowed_tools: list[str] = Field(default_factory=list)
    max_attempts: Few | None = None
    timeout_seconds: WholeSeconds | None = None


class Telemetry(BaseModel):
    """Correlation for tracing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_id: str | None = None
    trace_flags: list[str] = Field(default_factory=list)


class ExecutionRequest(BaseModel):
    """One unit of work to route to a tool."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: Ulid
    project_id: str = Field(min_length=1)
    phase_id: str = Field(min_length=1)
    task_kind: str = Field(min_length=1)
    classification: Classification = Field(default_factory=Classification)
    resource_scope: ResourceScope = Field(default_factory=ResourceScope)
    constraints: RequestConstraints = Field(default_factory=RequestConstraints)
    prompt_spec: Ulid | None = Field(default=None, description="A stored prompt instance.")
    routing: RoutingSpec = Field(default_factory=RoutingSpec)
    telemetry: Telemetry = Field(default_factory=Telemetry)
    # runwright fields
    objective: str | None = Field(default=None, description="What the tool should achieve.")
    context: str | None = Field(default=None, description="Background the tool should know.")
    files: list[str] = Field(default_factory=list, description="Files to focus on.")
    workstream_id: str | None = None
    task_id: str | None = None


class PatchPhaseConstraints(BaseModel):
    """A phase's patch constraints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patch_required: bool | None = None
    max_lines_changed: Many | None = None
    max_files_changed: Many | None = None


class PhaseTestConstraints(BaseModel):
    """A phase's test constraints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tests_must_run: bool | None = None
    tests_must_pass: bool | None = None
    test_command: list[str] | None = Field(default=None, description="argv, never a shell line.")

    @field_validator("test_command", mode="before")
    @classmethod
    def _argv(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("test_command must be an argv list such as ['pytest', '-q']")
        return value


class BehaviorConstraints(BaseModel):
    """A phase's behaviour constraints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ascii_only: bool | None = None
    require_doc_update: bool | None = None


class PhaseConstraints(BaseModel):
    """Everything a phase constrains."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patch: PatchPhaseConstraints = Field(default_factory=PatchPhaseConstraints)
    tests: PhaseTestConstraints = Field(default_factory=PhaseTestConstraints)
    behavior: BehaviorConstraints = Field(default_factory=BehaviorConstraints)


class AcceptanceCheck(BaseModel):
    """One acceptance check of a phase or task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    description: str | None = None
    command: list[str] | None = None
    required: bool = True
    severity: str | None = None


class Acceptance(BaseModel):
    """How a phase is judged done."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["all", "any", "custom"] = "all"
    checks: list[AcceptanceCheck] = Field(default_factory=list)
    post_actions: list[str] = Field(default_factory=list)


class PhaseSpec(BaseModel):
    """A phase: its file scope, constraints and acceptance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    resource_scope: ResourceScope = Field(default_factory=ResourceScope)
    constraints: PhaseConstraints = Field(default_factory=PhaseConstraints)
    acceptance: Acceptance = Field(default_factory=Acceptance)
    # runwright fields
    allowed_tools: list[str] | None = Field(
        default=None, description="Router apps this phase may use (None: any)."
    )

    def patch_constraints(self) -> PatchConstraints:
        """The phase's constraints as a patch policy level."""
        c = self.constraints
        return PatchConstraints(
            patch_required=c.patch.patch_required,
            max_lines_changed=c.patch.max_lines_changed,
            max_files_changed=c.patch.max_files_changed,
            tests_must_pass=c.tests.tests_must_pass or c.tests.tests_must_run or None,
            ascii_only=c.behavior.ascii_only,
        )


class TaskExecution(BaseModel):
    """How a task runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: Few = 1
    timeout_seconds: WholeSeconds | None = None
    retry_strategy: str | None = None
    background: bool = False


class TaskErrorHandling(BaseModel):
    """What to do when a task fails."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    on_failure: str | None = None


class TaskAcceptance(BaseModel):
    """A task's own checks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checks: list[AcceptanceCheck] = Field(default_factory=list)


class TaskSpec(BaseModel):
    """A task inside a workstream; its scope and constraints only narrow the phase's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    depends_on: list[str] = Field(default_factory=list)
    allow_parallel: bool = False
    classification: Classification | None = None
    resource_scope_delta: ResourceScope | None = None
    constraints_delta: PatchConstraints | None = None
    execution: TaskExecution = Field(default_factory=TaskExecution)
    prompt_template_ref: str | None = None
    prompt_overrides: dict[str, str] = Field(default_factory=dict)
    execution_request_template: dict[str, object] | None = None
    error_handling: TaskErrorHandling = Field(default_factory=TaskErrorHandling)
    acceptance: TaskAcceptance = Field(default_factory=TaskAcceptance)


class EffectiveScope(BaseModel):
    """Scopes of several levels, judged together (phase ∩ workstream ∩ task)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    levels: list[ResourceScope] = Field(default_factory=list)

    def forbidden_by(self, path: str) -> str | None:
        """The glob that forbids ``path`` at any level, or None."""
        for scope in self.levels:
            hit = any_match(scope.forbidden, path)
            if hit:
                return hit
        return None

    def allows(self, path: str, operation: Literal["read", "write", "create"]) -> bool:
        """True when every level declaring a list for ``operation`` lets ``path`` through.

        Creating a file is allowed by a level's ``create`` list or, if it has none, its
        ``write`` list.
        """
        if self.forbidden_by(path):
            return False
        for scope in self.levels:
            globs = getattr(scope, operation)
            if operation == "create" and globs is None:
                globs = scope.write
            if globs is not None and not any_match(globs, path):
                return False
        return True


def narrow(*scopes: ResourceScope | None) -> EffectiveScope:
    """The scope every one of ``scopes`` allows (None levels are skipped)."""
    return EffectiveScope(levels=[s for s in scopes if s is not None])


def task_constraints(phase: PhaseSpec | None, task: TaskSpec | None) -> PatchConstraints:
    """The phase's patch constraints tightened by the task's delta."""
    base = phase.patch_constraints() if phase else PatchConstraints()
    return tighten(base, task.constraints_delta if task else None)

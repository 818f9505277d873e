"""Profiles (UET ProjectProfile and ProfileExtension) and path-based profile composition.

A *profile extension* is a shipped bundle (resource types, change types, task kinds,
constraints, validation tools, phase templates, operators and a plan template) for one kind
of project. A *project profile* is what ``runwright init`` writes for one repository: the
chosen profile, its constraints, the tools found and where runwright keeps its files.
Pure types and rules; loading the shipped bundles lives in ``runwright.bootstrap``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runwright.domain.limits import Few, Many
from runwright.domain.policy import PatchConstraints
from runwright.domain.router_specs import ResourceScope

ProfileId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
SEMVER = r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$"


class Domain(StrEnum):
    """What a project is mostly about (UET ProjectProfile.domain)."""

    SOFTWARE_DEV = "software-dev"
    DATA_PIPELINE = "data-pipeline"
    OPERATIONS = "operations"
    DOCUMENTATION = "documentation"
    MIXED = "mixed"


class CoreSpec(StrEnum):
    """The core specifications a profile may extend."""

    COOPERATION_SPEC = "COOPERATION_SPEC"
    PHASE_SPEC_MASTER = "PHASE_SPEC_MASTER"
    WORKSTREAM_SPEC = "WORKSTREAM_SPEC"
    TASK_ROUTING_SPEC = "TASK_ROUTING_SPEC"
    PROMPT_RENDERING_SPEC = "PROMPT_RENDERING_SPEC"
    PATCH_MANAGEMENT_SPEC = "PATCH_MANAGEMENT_SPEC"


class ResourceOperation(StrEnum):
    """What may be done to a resource type."""

    READ = "read"
    WRITE = "write"
    CREATE = "create"
    DELETE = "delete"
    EXECUTE = "execute"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProfileConstraints(_Model):
    """Constraints a profile sets (UET adds_constraints / ProjectProfile.constraints).

    Unset fields say nothing. ``backwards_compatible`` and ``require_approval`` come from the
    profile table of the UET report; approval maps to ``min_reviewers: 1`` in the patch policy.
    """

    patch_only: bool | None = None
    max_lines_changed: Many | None = None
    max_files_changed: Many | None = None
    tests_must_pass: bool | None = None
    ascii_only: bool | None = None
    require_issue_ref: bool | None = None
    backwards_compatible: bool | None = None
    require_approval: bool | None = None

    def as_patch_constraints(self) -> PatchConstraints:
        """The patch-policy fields these constraints imply (patch_only=false says nothing:
        every change runwright makes is a patch)."""
        return PatchConstraints(
            patch_required=True if self.patch_only else None,
            max_lines_changed=self.max_lines_changed,
            max_files_changed=self.max_files_changed,
            tests_must_pass=self.tests_must_pass,
            ascii_only=self.ascii_only,
            require_issue_ref=self.require_issue_ref,
            min_reviewers=1 if self.require_approval else None,
        )


#: How "stricter" reads for each profile constraint (see runwright.domain.policy.STRICTNESS).
PROFILE_STRICTNESS: dict[str, Literal["min", "true"]] = {
    "patch_only": "true",
    "max_lines_changed": "min",
    "max_files_changed": "min",
    "tests_must_pass": "true",
    "ascii_only": "true",
    "require_issue_ref": "true",
    "backwards_compatible": "true",
    "require_approval": "true",
}


def strictest(a: ProfileConstraints, b: ProfileConstraints) -> tuple[ProfileConstraints, list[str]]:
    """The strictest value of each field of ``a`` and ``b``, and the fields where they
    disagreed (a boolean set true by one and false by the other, or two different limits)."""
    left, right = a.model_dump(exclude_none=True), b.model_dump(exclude_none=True)
    merged: dict[str, object] = {**left, **right}
    disagreements = []
    for name in left.keys() & right.keys():
        x, y = left[name], right[name]
        if x == y:
            continue
        disagreements.append(name)
        merged[name] = min(x, y) if PROFILE_STRICTNESS[name] == "min" else bool(x or y)
    return ProfileConstraints.model_validate(merged), sorted(disagreements)


def relaxed_fields(reference: ProfileConstraints, actual: ProfileConstraints) -> list[str]:
    """The fields ``actual`` leaves looser than ``reference`` (unset counts as looser)."""
    ref, got = reference.model_dump(exclude_none=True), actual.model_dump()
    out = []
    for name, value in ref.items():
        mine = got.get(name)
        if PROFILE_STRICTNESS[name] == "min":
            if mine is None or mine > value:
                out.append(name)
        elif value and not mine:
            out.append(name)
    return out


class ResourceTypeDecl(_Model):
    """A resource type a profile adds (UET adds_resource_types)."""

    type: str = Field(min_length=1)
    scope_format: str = Field(min_length=1, description="How a scope of it is written: glob…")
    operations: list[ResourceOperation] = Field(min_length=1)
    # runwright fields
    root: str = Field(default=".", description="Where it lives; may be a {role} token.")
    tracked_by: str = Field(default="git", description="What tracks its changes.")


class ChangeType(_Model):
    """A kind of change a profile knows (UET adds_change_types)."""

    kind: str = Field(min_length=1)
    format: str = Field(min_length=1)
    validation: list[str] = Field(default_factory=list, description="Validation types to run.")


class ValidationType(_Model):
    """A validation a profile adds (UET adds_validation_types): an argv, never a shell line."""

    type: str = Field(min_length=1)
    command: list[str] = Field(min_length=1)
    # runwright fields
    tool: str | None = Field(default=None, description="The tool it needs (dropped if missing).")
    kind: Literal["test", "lint", "content"] = "content"


class PhaseTemplateRef(_Model):
    """A phase template shipped with a profile (a phase spec file)."""

    phase_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    template_path: str = Field(min_length=1, description="Relative to the profile folder.")


class OperatorTemplate(_Model):
    """An operator file shipped with a profile, and the tools it needs."""

    file: str = Field(min_length=1, description="Relative to the profile folder.")
    requires_tools: list[str] = Field(
        default_factory=list, description="Without any of these the operator is left out."
    )
    optional_tools: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Tool → ids of the steps and checks left out when it is missing.",
    )
    inputs_from_discovery: dict[str, str] = Field(
        default_factory=dict,
        description="Input name → discovered value (interpreter, src, tests, docs…) as default.",
    )


class ProfileExtension(_Model):
    """A profile: what it adds to the core specifications for one kind of project."""

    profile_id: ProfileId
    profile_version: str = Field(pattern=SEMVER)
    extends_core: list[CoreSpec] = Field(min_length=1)
    adds_resource_types: list[ResourceTypeDecl] = Field(min_length=1)
    adds_change_types: list[ChangeType] = Field(default_factory=list)
    adds_task_kinds: list[str] = Field(default_factory=list)
    adds_constraints: ProfileConstraints = Field(default_factory=ProfileConstraints)
    adds_validation_types: list[ValidationType] = Field(default_factory=list)
    phase_templates: list[PhaseTemplateRef] = Field(default_factory=list)
    # runwright fields
    title: str = Field(min_length=1)
    description: str = ""
    domain: Domain
    forbidden_paths: list[str] = Field(
        default_factory=list, description="Globs no change may touch (added to the baseline)."
    )
    tools: list[str] = Field(default_factory=list, description="Tools discovery looks for.")
    operators: list[OperatorTemplate] = Field(default_factory=list)
    plan_template: str | None = Field(default=None, description="Relative to the folder.")
    test_spec_template: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> ProfileExtension:
        for field, values in (
            ("adds_resource_types", [r.type for r in self.adds_resource_types]),
            ("adds_change_types", [c.kind for c in self.adds_change_types]),
            ("adds_validation_types", [v.type for v in self.adds_validation_types]),
            ("phase_templates", [p.phase_id for p in self.phase_templates]),
        ):
            dup = sorted({v for v in values if values.count(v) > 1})
            if dup:
                raise ValueError(f"{field}: {dup[0]!r} appears more than once")
        known = {v.type for v in self.adds_validation_types}
        for i, change in enumerate(self.adds_change_types):
            for name in change.validation:
                if name not in known:
                    raise ValueError(
                        f"adds_change_types[{i}].validation: {name!r} is not one of "
                        f"adds_validation_types ({', '.join(sorted(known)) or 'none'})"
                    )
        return self


class ResourceLocation(_Model):
    """Where a resource type lives in the project (UET resource_types entry)."""

    root: str
    tracked_by: str
    exclusions: list[str] = Field(default_factory=list)


class AvailableTool(_Model):
    """A tool the project can use (UET available_tools entry)."""

    tool_id: str = Field(min_length=1)
    command: list[str] = Field(min_length=1, description="argv prefix that runs it.")
    capabilities: list[str] = Field(default_factory=list)
    max_parallel: Few | None = None
    # runwright fields
    version: str | None = None


class FrameworkPaths(_Model):
    """Where runwright keeps its files (UET framework_paths), relative to the project."""

    tasks_dir: str = ".runwright/plans"
    ledger_dir: str = ".runwright/evidence"
    worktrees_dir: str = ".runwright/worktrees"
    quarantine_dir: str = ".runwright/quarantine"
    registry_file: str = ".runwright/profile.json"
    # runwright fields
    operators_dir: str = ".runwright/operators"
    phases_dir: str = ".runwright/phases"
    router_file: str = ".runwright/router.yaml"
    policy_file: str = ".runwright/policy.yaml"


class ProjectConstraints(_Model):
    """The project's constraints (UET ProjectProfile.constraints, defaults as there)."""

    patch_only: bool = True
    tests_must_pass: bool = True
    ascii_only: bool = True
    max_lines_changed: Many | None = None
    max_files_changed: Many | None = None
    require_issue_ref: bool = False
    # runwright fields
    backwards_compatible: bool | None = None
    require_approval: bool | None = None

    @classmethod
    def from_profile(cls, c: ProfileConstraints) -> ProjectConstraints:
        """A profile's constraints with the UET defaults filling the unset booleans."""
        return cls.model_validate(c.model_dump(exclude_none=True))

    def as_profile(self) -> ProfileConstraints:
        """The same values as a ProfileConstraints."""
        return ProfileConstraints.model_validate(self.model_dump())


class MappingSource(StrEnum):
    """Where a path → profile mapping came from."""

    SELECTED = "selected"  # the project's own profile, at the root
    DETECTED = "detected"  # discovery found a sub-tree of another kind
    CONFIG = "config"  # [bootstrap.paths] in config.toml


class PathProfile(_Model):
    """One path prefix and the profile that governs it."""

    path: str = Field(description="Repository-relative directory; '' is the whole project.")
    profile_id: ProfileId
    source: MappingSource
    constraints: ProjectConstraints = Field(
        description="Effective: the strictest of every mapping that covers the path."
    )
    reason: str = ""


class ConflictKind(StrEnum):
    """What two mappings disagree about."""

    PATH_CLAIMED_TWICE = "path_claimed_twice"
    CONTRADICTORY_CONSTRAINT = "contradictory_constraint"


class CompositionConflict(_Model):
    """A disagreement between mappings, and how it was settled."""

    kind: ConflictKind
    path: str
    profiles: list[str]
    field: str | None = None
    message: str
    resolution: str


class ProfileMapping(_Model):
    """Path-based composition: the longest matching prefix picks the profile."""

    mappings: list[PathProfile] = Field(min_length=1)
    conflicts: list[CompositionConflict] = Field(default_factory=list)

    @model_validator(mode="after")
    def _root_first(self) -> ProfileMapping:
        if self.mappings[0].path != "":
            raise ValueError("mappings[0] must be the project root (path '')")
        paths = [m.path for m in self.mappings]
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            raise ValueError(f"mappings: path {dup[0]!r} is mapped more than once")
        return self

    def profile_for(self, path: str) -> PathProfile:
        """The mapping of the longest prefix that contains ``path`` (the root if none)."""
        target = normalize_path(path)
        best = self.mappings[0]
        for m in self.mappings[1:]:
            if (target == m.path or target.startswith(m.path + "/")) and len(m.path) > len(
                best.path
            ):
                best = m
        return best


def normalize_path(path: str) -> str:
    """A mapping path in one spelling: POSIX, no leading ``./`` or slashes; '' for the root."""
    p = path.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    p = p.strip("/")
    return "" if p in {"", "."} else p


class ProjectProfile(_Model):
    """What `runwright init` wrote for this project (``.runwright/profile.json``)."""

    project_id: str = Field(min_length=1)
    project_name: str = Field(min_length=1)
    project_root: str = Field(min_length=1)
    domain: Domain
    profile_id: ProfileId
    resource_types: dict[str, ResourceLocation] = Field(min_length=1)
    available_tools: list[AvailableTool]
    framework_paths: FrameworkPaths = Field(default_factory=FrameworkPaths)
    constraints: ProjectConstraints
    profile_version: str | None = Field(default=None, pattern=SEMVER)
    framework_version: str | None = None
    # runwright fields
    domain_confidence: float | None = Field(default=None, ge=0, le=1)
    resource_scope: ResourceScope = Field(
        default_factory=ResourceScope, description="The project scope every phase nests in."
    )
    test_command: list[str] | None = None
    path_profiles: ProfileMapping | None = None


__all__ = [
    "PROFILE_STRICTNESS",
    "AvailableTool",
    "ChangeType",
    "CompositionConflict",
    "ConflictKind",
    "CoreSpec",
    "Domain",
    "FrameworkPaths",
    "MappingSource",
    "OperatorTemplate",
    "PathProfile",
    "PhaseTemplateRef",
    "ProfileConstraints",
    "ProfileExtension",
    "ProfileMapping",
    "ProjectConstraints",
    "ProjectProfile",
    "ResourceLocation",
    "ResourceOperation",
    "ResourceTypeDecl",
    "ValidationType",
    "normalize_path",
    "relaxed_fields",
    "strictest",
]

"""Patch policy (UET patch_policy): constraints at levels global → project → phase → task.

A more specific level may only **tighten** what the levels above it set; a looser value is
refused with ``constraint_weakened`` naming the field. The effective value of each field is the
strictest one set at any level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.ids import Ulid
from runwright.domain.limits import Few, FewOrZero, Many, SizeBytes
from runwright.domain.patches import UNIFIED_DIFF
from runwright.domain.patches_ledger import DEFAULT_MAX_APPLY_ATTEMPTS
from runwright.domain.patches_oscillation import (
    DEFAULT_OSCILLATION_THRESHOLD,
    DEFAULT_OSCILLATION_WINDOW,
)
from runwright.errors import ValidationError

DEFAULT_MAX_DIFF_BYTES = 5 * 1024 * 1024


class ConstraintWeakened(ValidationError):
    """A more specific policy level tried to loosen a constraint set above it."""

    code = "constraint_weakened"


class PolicyLevel(StrEnum):
    """Where a policy applies, from the broadest to the most specific."""

    GLOBAL = "global"
    PROJECT = "project"
    PHASE = "phase"
    TASK = "task"
    DOC = "doc"


LEVEL_RANK = {level: rank for rank, level in enumerate(PolicyLevel)}


class PolicyScope(BaseModel):
    """The level a policy applies at, and what it names there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: PolicyLevel
    project_id: str | None = None
    phase_id: str | None = None
    doc_ulid: Ulid | None = None
    task_id: str | None = None


class PatchConstraints(BaseModel):
    """Constraints on patches; a field left unset inherits the levels above."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed_formats: list[str] | None = None
    patch_required: bool | None = None
    max_lines_changed: Many | None = None
    max_files_changed: Many | None = None
    forbid_binary_patches: bool | None = None
    forbid_touching_paths: list[str] | None = Field(default=None, description="Path globs.")
    require_tests_for_paths: list[str] | None = Field(
        default=None, description="Globs: touching these requires a passing test run to verify."
    )
    require_issue_ref: bool | None = Field(
        default=None, description="The summary must name an issue (#123 or ABC-123)."
    )
    min_reviewers: FewOrZero | None = Field(default=None, description="Approvals to commit.")
    oscillation_window: Few | None = None
    oscillation_threshold: Few | None = None
    # runwright fields
    ascii_only: bool | None = Field(default=None, description="Added lines must be ASCII.")
    tests_must_pass: bool | None = Field(
        default=None, description="Every patch must pass a test run to be verified."
    )
    max_apply_attempts: Few | None = None
    max_diff_bytes: SizeBytes | None = Field(
        default=None, description="Larger diffs are refused at submission."
    )


Direction = Literal["min", "max", "true", "union", "subset"]

#: How "stricter" reads for each field.
STRICTNESS: dict[str, Direction] = {
    "allowed_formats": "subset",
    "patch_required": "true",
    "max_lines_changed": "min",
    "max_files_changed": "min",
    "forbid_binary_patches": "true",
    "forbid_touching_paths": "union",
    "require_tests_for_paths": "union",
    "require_issue_ref": "true",
    "min_reviewers": "max",
    "oscillation_window": "max",
    "oscillation_threshold": "min",
    "ascii_only": "true",
    "tests_must_pass": "true",
    "max_apply_attempts": "min",
    "max_diff_bytes": "min",
}

#: What applies where no level says anything.
BUILTIN_DEFAULTS = PatchConstraints(
    allowed_formats=[UNIFIED_DIFF],
    patch_required=True,
    forbid_binary_patches=True,
    forbid_touching_paths=[],
    require_tests_for_paths=[],
    require_issue_ref=False,
    min_reviewers=0,
    oscillation_window=DEFAULT_OSCILLATION_WINDOW,
    oscillation_threshold=DEFAULT_OSCILLATION_THRESHOLD,
    ascii_only=False,
    tests_must_pass=False,
    max_apply_attempts=DEFAULT_MAX_APPLY_ATTEMPTS,
    max_diff_bytes=DEFAULT_MAX_DIFF_BYTES,
)


class PatchPolicy(BaseModel):
    """Constraints at one level."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patch_policy_id: str = Field(min_length=1)
    scope: PolicyScope
    constraints: PatchConstraints = Field(default_factory=PatchConstraints)


class EffectivePolicy(BaseModel):
    """The strictest value of every constraint, and the level each came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    constraints: PatchConstraints
    sources: dict[str, str] = Field(default_factory=dict)
    levels: list[str] = Field(default_factory=list)

    def limit(self, name: str) -> Any:
        """One effective constraint value."""
        return getattr(self.constraints, name)


def _looser(direction: Direction, upper: Any, lower: Any) -> bool:
    """True when ``lower`` is less strict than ``upper``."""
    if direction == "min":
        return bool(lower > upper)
    if direction == "max":
        return bool(lower < upper)
    if direction == "true":
        return bool(upper) and not lower
    if direction == "subset":
        return bool(set(lower) - set(upper))
    return False  # unions can only add


def _stricter(direction: Direction, a: Any, b: Any) -> Any:
    if direction == "min":
        return min(a, b)
    if direction == "max":
        return max(a, b)
    if direction == "true":
        return bool(a or b)
    if direction == "union":
        return list(dict.fromkeys([*a, *b]))
    return [x for x in a if x in set(b)]


def _describe(level: str, policy_id: str) -> str:
    return f"{level} policy {policy_id!r}"


def effective_policy(
    policies: Iterable[PatchPolicy], *, defaults: PatchConstraints = BUILTIN_DEFAULTS
) -> EffectivePolicy:
    """Merge ``policies`` from broad to specific; refuse any level that loosens a constraint.

    The global level may replace the built-in defaults; every level below may only tighten.
    Raises ConstraintWeakened naming the field, the level and the stricter value above it.
    """
    ordered = sorted(policies, key=lambda p: LEVEL_RANK[p.scope.level])
    values: dict[str, Any] = defaults.model_dump()
    sources: dict[str, str] = dict.fromkeys(values, "builtin")
    set_by_levels: set[str] = set()
    for policy in ordered:
        level = policy.scope.level.value
        given = policy.constraints.model_dump(exclude_none=True)
        for name, value in given.items():
            direction = STRICTNESS[name]
            current = values.get(name)
            replaces_default = (
                policy.scope.level is PolicyLevel.GLOBAL and name not in set_by_levels
            )
            if replaces_default or current is None:
                values[name] = value
            elif _looser(direction, current, value):
                raise ConstraintWeakened(
                    f"{_describe(level, policy.patch_policy_id)} weakens {name}: "
                    f"{value!r} is looser than {current!r} set by {sources[name]}",
                    hint=f"a {level} policy may only tighten {name}; remove it or make it "
                    f"at least as strict as {current!r}",
                    field=name,
                    level=level,
                )
            else:
                values[name] = _stricter(direction, current, value)
            sources[name] = f"{level}:{policy.patch_policy_id}"
            set_by_levels.add(name)
    return EffectivePolicy(
        constraints=PatchConstraints.model_validate(values),
        sources=sources,
        levels=[p.scope.level.value for p in ordered],
    )


def tighten(base: PatchConstraints, *more: PatchConstraints | None) -> PatchConstraints:
    """``base`` tightened by each of ``more`` (unset fields inherit); never loosened."""
    values = base.model_dump()
    for extra in more:
        if extra is None:
            continue
        for name, value in extra.model_dump(exclude_none=True).items():
            current = values.get(name)
            values[name] = value if current is None else _stricter(STRICTNESS[name], current, value)
    return PatchConstraints.model_validate(values)


def policy_at(
    level: PolicyLevel, constraints: PatchConstraints | None, *, name: str, **scope: Any
) -> list[PatchPolicy]:
    """A one-element list with a policy at ``level``, or [] when ``constraints`` is None."""
    if constraints is None:
        return []
    return [
        PatchPolicy(
            patch_policy_id=name, scope=PolicyScope(level=level, **scope), constraints=constraints
        )
    ]


def weakened_fields(upper: PatchConstraints, lower: PatchConstraints) -> list[str]:
    """The fields ``lower`` sets looser than ``upper`` (both as given, unset ignored)."""
    up = upper.model_dump(exclude_none=True)
    return [
        name
        for name, value in lower.model_dump(exclude_none=True).items()
        if name in up and _looser(STRICTNESS[name], up[name], value)
    ]


__all__: Sequence[str] = [
    "BUILTIN_DEFAULTS",
    "ConstraintWeakened",
    "EffectivePolicy",
    "PatchConstraints",
    "PatchPolicy",
    "PolicyLevel",
    "PolicyScope",
    "effective_policy",
    "policy_at",
    "tighten",
    "weakened_fields",
]

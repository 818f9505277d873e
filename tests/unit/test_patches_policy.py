"""Patch policy levels: a lower level only tightens; the effective value is the strictest
(UET §5 behaviour 35)."""

from __future__ import annotations

import pytest

from runwright.domain.policy import (
    BUILTIN_DEFAULTS,
    ConstraintWeakened,
    PatchConstraints,
    PatchPolicy,
    PolicyLevel,
    PolicyScope,
    effective_policy,
    weakened_fields,
)


def level(lvl: str, **constraints: object) -> PatchPolicy:
    """A policy at ``lvl``."""
    return PatchPolicy(
        patch_policy_id=f"{lvl}-policy",
        scope=PolicyScope(level=PolicyLevel(lvl)),
        constraints=PatchConstraints.model_validate(constraints),
    )


def test_a_phase_may_tighten_the_global_line_limit() -> None:
    """Behaviour 35: global max_lines 300, phase 100 → accepted, effective 100."""
    eff = effective_policy(
        [level("global", max_lines_changed=300), level("phase", max_lines_changed=100)]
    )
    assert eff.constraints.max_lines_changed == 100
    assert eff.sources["max_lines_changed"] == "phase:phase-policy"


def test_a_phase_may_not_weaken_the_global_line_limit() -> None:
    """Behaviour 35: global 300, phase 500 → constraint_weakened naming the field."""
    with pytest.raises(ConstraintWeakened) as err:
        effective_policy(
            [level("global", max_lines_changed=300), level("phase", max_lines_changed=500)]
        )
    assert err.value.code == "constraint_weakened"
    assert err.value.fields["field"] == "max_lines_changed"
    assert "500" in err.value.message
    assert "300" in err.value.message


def test_levels_are_ordered_by_specificity_not_by_argument_order() -> None:
    """A task level given before the project level is still checked against it."""
    with pytest.raises(ConstraintWeakened):
        effective_policy(
            [level("task", max_files_changed=9), level("project", max_files_changed=3)]
        )


@pytest.mark.parametrize(
    ("field", "upper", "lower"),
    [
        ("forbid_binary_patches", True, False),
        ("require_issue_ref", True, False),
        ("oscillation_threshold", 2, 4),
        ("oscillation_window", 8, 5),
        ("min_reviewers", 2, 1),
        ("allowed_formats", ["unified_diff"], ["unified_diff", "git_binary"]),
        ("max_apply_attempts", 2, 5),
    ],
)
def test_each_kind_of_constraint_refuses_loosening(
    field: str, upper: object, lower: object
) -> None:
    """Booleans may not turn off, limits may not grow, windows may not shrink, formats may
    not be added below."""
    with pytest.raises(ConstraintWeakened) as err:
        effective_policy([level("project", **{field: upper}), level("phase", **{field: lower})])
    assert err.value.fields["field"] == field


def test_path_lists_accumulate_across_levels() -> None:
    """Forbidden paths and test-required paths are the union of every level."""
    eff = effective_policy(
        [
            level("global", forbid_touching_paths=["secrets/**"]),
            level("phase", forbid_touching_paths=[".env"], require_tests_for_paths=["src/**"]),
        ]
    )
    assert eff.constraints.forbid_touching_paths == ["secrets/**", ".env"]
    assert eff.constraints.require_tests_for_paths == ["src/**"]


def test_the_global_level_replaces_built_in_defaults() -> None:
    """Built-ins are defaults for the global level, which may set them either way."""
    assert BUILTIN_DEFAULTS.forbid_binary_patches is True
    eff = effective_policy([level("global", forbid_binary_patches=False)])
    assert eff.constraints.forbid_binary_patches is False
    with pytest.raises(ConstraintWeakened):
        effective_policy(
            [
                level("global", forbid_binary_patches=True),
                level("project", forbid_binary_patches=False),
            ]
        )


def test_nothing_configured_gives_the_built_in_policy() -> None:
    """With no level, the built-in defaults apply (oscillation window 5, threshold 3)."""
    eff = effective_policy([])
    assert eff.constraints == BUILTIN_DEFAULTS
    assert (eff.constraints.oscillation_window, eff.constraints.oscillation_threshold) == (5, 3)


def test_weakened_fields_names_every_loosened_field() -> None:
    """The pure helper lists every field a lower set loosens."""
    upper = PatchConstraints(max_lines_changed=100, forbid_binary_patches=True)
    lower = PatchConstraints(max_lines_changed=50, forbid_binary_patches=False, max_files_changed=3)
    assert weakened_fields(upper, lower) == ["forbid_binary_patches"]

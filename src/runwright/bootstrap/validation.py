"""Validation with auto-fixes (bootstrap step 4).

Before anything is written, generated phases are narrowed into the project scope and
tightened to the project's constraints (each fix recorded). Then every artifact, as it will
be on disk (files the user edited and init keeps included), is loaded with runwright's own
loaders in a staging copy, and checked: no constraint relaxed below the profile's, phase
scopes nested in the project scope, tools present, no dependency cycle in a plan.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError as PydanticValidationError

from runwright import specfiles
from runwright.bootstrap.artifacts import HOME, Notes
from runwright.config import Settings, load_settings
from runwright.domain.bootstrap import MISSING_PATH, ValidationResults, ValidationStatus
from runwright.domain.execmodel.operators import Operator
from runwright.domain.execmodel.registry import ModeRegistry
from runwright.domain.plans import PlanSpec, find_cycle
from runwright.domain.policy import PatchConstraints, effective_policy, weakened_fields
from runwright.domain.policy_globs import _static_prefix, all_within, glob_within
from runwright.domain.profiles import ProjectProfile, relaxed_fields
from runwright.domain.router import RouterConfig
from runwright.domain.router_specs import PhaseSpec, ResourceScope
from runwright.errors import ConfigError, RunwrightError
from runwright.execmodel.config import load_registry
from runwright.execmodel.loader import load_operator_file
from runwright.patches.config_files import PolicyFile, load_policy_file, validate_data
from runwright.patches.router_files import load_phase_file, load_router
from runwright.plans.contract import load_plan

# --- auto-fixes on generated phases -----------------------------------------------------------


def _tightened(phase: PhaseSpec, project: PatchConstraints) -> tuple[PhaseSpec, list[str]]:
    weak = weakened_fields(project, phase.patch_constraints())
    if not weak:
        return phase, []
    data = phase.model_dump(mode="json")
    c = data["constraints"]
    fixes = []
    for name in weak:
        value = getattr(project, name)
        if name in {"max_lines_changed", "max_files_changed", "patch_required"}:
            old = c["patch"].get(name)
            c["patch"][name] = value
        elif name == "ascii_only":
            old = c["behavior"].get(name)
            c["behavior"][name] = value
        else:  # tests_must_pass
            old = c["tests"].get("tests_must_pass")
            c["tests"]["tests_must_pass"] = value
        fixes.append(f"tightened phase {phase.phase_id} {name}: {old} → {value} (the project's)")
    return PhaseSpec.model_validate(data), fixes


def fix_phase(
    phase: PhaseSpec, project: ResourceScope, constraints: PatchConstraints
) -> tuple[PhaseSpec, list[str]]:
    """``phase`` narrowed into ``project`` and tightened to ``constraints``, with the fixes."""
    fixes: list[str] = []
    scope = phase.resource_scope
    updates: dict[str, object] = {}
    for op in ("write", "create"):
        globs = getattr(scope, op)
        if globs is None:
            continue
        outer = getattr(project, op) or project.write or []
        kept = [
            g
            for g in globs
            if not all_within([g], outer) and not any(glob_within(g, f) for f in project.forbidden)
        ]
        if len(kept) != len(globs):
            dropped = [g for g in globs if g not in kept]
            fixes.append(
                f"narrowed phase {phase.phase_id} {op}: dropped {dropped} "
                "(outside the project scope)"
            )
            updates[op] = kept
    missing = [f for f in project.forbidden if f not in scope.forbidden]
    if missing:
        updates["forbidden"] = [*scope.forbidden, *missing]
        fixes.append(f"narrowed phase {phase.phase_id}: now forbids {missing} as the project does")
    if updates:
        phase = phase.model_copy(update={"resource_scope": scope.model_copy(update=updates)})
    phase, tightened = _tightened(phase, constraints)
    return phase, fixes + tightened


def missing_paths(phase: PhaseSpec, files: Iterable[str]) -> list[str]:
    """The write/create globs of ``phase`` whose literal folder holds no file of the project."""
    listed = list(files)
    out = []
    for g in [*(phase.resource_scope.write or []), *(phase.resource_scope.create or [])]:
        prefix = _static_prefix(g)
        if not prefix or ("/" not in g.strip("/") and not g.endswith("/**")):
            continue
        if not any(f == prefix or f.startswith(prefix + "/") for f in listed):
            out.append(g)
    return list(dict.fromkeys(out))


# --- loading the staged artifacts -------------------------------------------------------------

_STAGE_PREFIX = re.compile(r"\S*runwright-init-[^/\s]+/")


def stage(root: Path, effective: Mapping[str, str], stage_root: Path) -> Path:
    """Write the files as they will be on disk into ``stage_root``; the staged home."""
    for rel, text in effective.items():
        target = stage_root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    modes = root / HOME / "modes.yaml"
    if modes.is_file() and not modes.is_symlink():
        shutil.copyfile(modes, stage_root / HOME / "modes.yaml")
    return stage_root / HOME


T = TypeVar("T")


def _load(path_of: str, kept: bool, notes: Notes, what: str, fn: Callable[[], T]) -> T | None:
    """``fn()``, or None with an error finding naming ``path_of`` (a human decision when the
    file is the user's)."""
    try:
        return fn()
    except (RunwrightError, PydanticValidationError, ValueError, OSError) as exc:
        message = _STAGE_PREFIX.sub("", str(exc).splitlines()[0])
        if "cycle" in message:
            code = "dependency_cycle"
        else:
            code = "kept_file_invalid" if kept else "invalid_artifact"
        human = None
        if kept:
            human = f"fix {path_of} ({what} does not load: {message}) or rerun with --force"
        notes.error(code, f"{what} does not load: {message}", path_of, human)
        return None


@dataclass
class Loaded:
    """The staged artifacts as runwright's loaders read them (None where one failed)."""

    settings: Settings | None = None
    policy: PolicyFile | None = None
    router: RouterConfig | None = None
    profile: ProjectProfile | None = None
    phases: dict[str, PhaseSpec] = field(default_factory=dict)
    plans: dict[str, PlanSpec] = field(default_factory=dict)
    operators: dict[str, Operator] = field(default_factory=dict)


def _phase(path: Path) -> PhaseSpec:
    lookup = load_phase_file(path)
    if lookup.phase is None:
        raise ConfigError(lookup.problem or f"{path}: not a phase spec")
    return lookup.phase


def _profile(path: Path) -> ProjectProfile:
    return validate_data(
        specfiles.load_json(path),
        ProjectProfile,
        source=str(path),
        hint="see schemas/project_profile.schema.json",
    )


def load_staged(home: Path, kinds: Mapping[str, str], kept: set[str], notes: Notes) -> Loaded:
    """Load every staged artifact with runwright's own loaders; problems become findings."""
    stage_root = home.parent
    out = Loaded()

    def rel_kept(rel: str) -> bool:
        return rel in kept

    config = f"{HOME}/config.toml"
    out.settings = _load(
        config,
        rel_kept(config),
        notes,
        "config.toml",
        lambda: load_settings(overrides={"home": home}, env={}),
    )
    registry: ModeRegistry | None = None
    if out.settings is not None:
        settings = out.settings
        registry = _load(config, False, notes, "the mode registry", lambda: load_registry(settings))
    project_id = out.settings.project_id if out.settings else "project"
    policy_rel, router_rel, profile_rel = (
        f"{HOME}/{n}" for n in ("policy.yaml", "router.yaml", "profile.json")
    )
    out.policy = _load(
        policy_rel,
        rel_kept(policy_rel),
        notes,
        "policy.yaml",
        lambda: load_policy_file(home, project_id),
    )
    out.router = _load(
        router_rel, rel_kept(router_rel), notes, "router.yaml", lambda: load_router(home)
    )
    out.profile = _load(
        profile_rel,
        rel_kept(profile_rel),
        notes,
        "profile.json",
        lambda: _profile(home / "profile.json"),
    )
    seen: dict[str, str] = {}
    for rel, kind in sorted(kinds.items()):
        path = stage_root / rel
        name = Path(rel).name
        if kind == "operator" and registry is not None:
            reg = registry
            op = _load(
                rel,
                rel_kept(rel),
                notes,
                f"operator {name}",
                partial(load_operator_file, path, reg),
            )
            if op is not None and op.op_id in seen:
                notes.error(
                    "duplicate_operator", f"op_id {op.op_id} is in {seen[op.op_id]} and {rel}", rel
                )
            elif op is not None:
                seen[op.op_id] = rel
                out.operators[rel] = op
        elif kind == "phase":
            phase = _load(rel, rel_kept(rel), notes, "phase spec", partial(_phase, path))
            if phase is not None:
                out.phases[rel] = phase
        elif kind == "plan":
            plan = _load(rel, rel_kept(rel), notes, f"plan {name}", partial(load_plan, path))
            if plan is None:
                continue
            out.plans[rel] = plan
            cycle = find_cycle({ph.phase_id: list(ph.depends_on) for ph in plan.phases})
            if cycle:
                notes.error("dependency_cycle", f"{rel}: {' -> '.join(cycle)}", rel)
            if not (stage_root / plan.test_spec).is_file():
                notes.warn(
                    MISSING_PATH, f"{rel}: test_spec {plan.test_spec} does not exist yet", rel
                )
    return out


# --- semantic checks --------------------------------------------------------------------------


def check_relaxed(
    policy: PolicyFile | None,
    profile: ProjectProfile,
    expected: ProjectProfile,
    project_id: str,
    notes: Notes,
) -> None:
    """No constraint may be looser than the profile's (policy.yaml and profile.json)."""
    reference = expected.constraints.as_profile().as_patch_constraints()
    if policy is not None:
        effective: PatchConstraints | None
        try:
            effective = effective_policy(policy.policies(project_id)).constraints
        except RunwrightError:
            effective = None
        if effective is not None:
            given = reference.model_dump(exclude_none=True)
            weak = weakened_fields(reference, effective)
            weak += [n for n in given if getattr(effective, n) is None and n not in weak]
            for name in weak:
                notes.error(
                    "constraint_relaxed",
                    f"policy.yaml relaxes {name} to {getattr(effective, name)!r}; profile "
                    f"{expected.profile_id} requires {given[name]!r}",
                    f"{HOME}/policy.yaml",
                    f"restore {name}: {given[name]!r} in .runwright/policy.yaml, or choose a "
                    "profile "
                    f"that allows it (runwright init --profile P --force)",
                )
    for name in relaxed_fields(expected.constraints.as_profile(), profile.constraints.as_profile()):
        notes.error(
            "constraint_relaxed",
            f"profile.json relaxes {name} below profile {expected.profile_id}",
            f"{HOME}/profile.json",
            f"restore constraints.{name} in .runwright/profile.json or rerun init with --force",
        )


def check_phases(
    phases: Mapping[str, PhaseSpec],
    project: ProjectProfile,
    kept: set[str],
    files: list[str],
    notes: Notes,
) -> None:
    """Kept phases must nest in the project scope and not loosen its constraints; every
    phase's folders should exist (``missing_path`` warnings otherwise)."""
    reference = project.constraints.as_profile().as_patch_constraints()
    for rel, phase in phases.items():
        if rel in kept:
            _, fixes = fix_phase(phase, project.resource_scope, reference)
            for fix in fixes:
                notes.error(
                    "scope_not_nested" if "narrowed" in fix else "constraint_relaxed",
                    f"{rel}: would need: {fix}",
                    rel,
                    f"edit {rel}: {fix.split(':', 1)[0]} (or rerun with --force)",
                )
        for glob in missing_paths(phase, files):
            notes.warn(MISSING_PATH, f"phase {phase.phase_id}: nothing exists at {glob} yet", rel)


def results(notes: Notes) -> ValidationResults:
    """The validator's verdict from the collected notes."""
    if not notes.errors:
        status = ValidationStatus.PASSED
    elif notes.human:
        status = ValidationStatus.NEEDS_HUMAN
    else:
        status = ValidationStatus.FAILED
    return ValidationResults(
        validation_status=status,
        errors=list(notes.errors),
        warnings=sorted(notes.warnings, key=lambda f: (f.code, f.message)),
        auto_fixes_applied=list(dict.fromkeys(notes.auto_fixes)),
        human_decisions_needed=list(notes.human),
    )


__all__ = [
    "Loaded",
    "check_phases",
    "check_relaxed",
    "fix_phase",
    "load_staged",
    "missing_paths",
    "results",
    "stage",
]

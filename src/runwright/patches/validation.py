"""Judging a patch: format, scope and constraints, in that order, without touching the disk.

- format: ``unified_diff``, not empty, parses → else the patch is **dropped**;
- scope: the declared scope matches the diff, every path is safe, inside the resource scope and
  not forbidden → else **quarantined**;
- constraints: lines, files, binary, allowed formats, issue reference, ASCII, oscillation →
  else **quarantined** (oscillation also triggers the error pipeline).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from runwright.domain.patches import UNIFIED_DIFF, PatchArtifact
from runwright.domain.patches_ledger import PatchState, PatchValidation
from runwright.domain.patches_oscillation import OscillationVerdict, detect_oscillation
from runwright.domain.policy import EffectivePolicy
from runwright.domain.policy_globs import any_match
from runwright.domain.router_specs import EffectiveScope
from runwright.patches.diffs import DiffError, ParsedDiff, parse_diff, scope_mismatch
from runwright.patches.paths import change_problems, parent_dirs

ISSUE_REF = re.compile(r"(?:#\d+\b|\b[A-Z][A-Z0-9]+-\d+\b)")


@dataclass
class Judgement:
    """What validation decided and why."""

    validation: PatchValidation
    target: PatchState
    reason: str
    parsed: ParsedDiff | None = None
    oscillation: OscillationVerdict | None = None
    problems: list[str] = field(default_factory=list)


def check_format(artifact: PatchArtifact) -> tuple[ParsedDiff | None, list[str]]:
    """The parsed diff, or the format problems."""
    if artifact.format != UNIFIED_DIFF:
        return None, [f"format {artifact.format!r} is not supported (only {UNIFIED_DIFF})"]
    try:
        return parse_diff(artifact.diff_text), []
    except DiffError as exc:
        return None, [str(exc)]


def check_scope(
    artifact: PatchArtifact,
    parsed: ParsedDiff,
    *,
    policy: EffectivePolicy,
    scope: EffectiveScope,
    symlinked_dirs: Callable[[list[str]], list[str]] | None = None,
) -> list[str]:
    """Scope problems: declared vs. computed, unsafe paths, forbidden or out-of-scope paths."""
    problems: list[str] = []
    if artifact.scope is not None:
        problems += scope_mismatch(artifact.scope, parsed.scope)
    forbidden = policy.constraints.forbid_touching_paths or []
    for change in parsed.files:
        unsafe = change_problems(change)
        problems += unsafe
        if unsafe:
            continue
        for path in change.all_paths:
            hit = any_match(forbidden, path) or scope.forbidden_by(path)
            if hit:
                problems.append(f"{path!r} is forbidden (matches {hit!r})")
                continue
            operation: Literal["create", "write"] = (
                "create" if change.is_new and path == change.new_path else "write"
            )
            if not scope.allows(path, operation):
                problems.append(f"{path!r} is outside the {operation} scope")
    if symlinked_dirs is not None and not problems:
        problems += base_symlink_problems(parsed, symlinked_dirs)
    return problems


def base_symlink_problems(
    parsed: ParsedDiff, symlinked_dirs: Callable[[list[str]], list[str]]
) -> list[str]:
    """One problem per directory the diff's paths go through that is a symlink in the base
    commit (``symlinked_dirs`` answers which of the directories it is given are)."""
    paths = [p for f in parsed.files for p in f.all_paths]
    return [
        f"{link!r} is a symlink in the base commit; patches may not write through it"
        for link in symlinked_dirs(parent_dirs(paths))
    ]


def check_constraints(
    artifact: PatchArtifact, parsed: ParsedDiff, policy: EffectivePolicy
) -> list[str]:
    """Constraint problems: size, files, binary, formats, issue reference, ASCII."""
    c = policy.constraints
    scope = parsed.scope
    problems = []
    if c.allowed_formats is not None and artifact.format not in c.allowed_formats:
        problems.append(f"format {artifact.format!r} is not in allowed_formats {c.allowed_formats}")
    if c.max_lines_changed is not None and scope.lines_changed > c.max_lines_changed:
        problems.append(
            f"{scope.lines_changed} lines changed ({scope.line_insertions} insertions + "
            f"{scope.line_deletions} deletions) exceed max_lines_changed {c.max_lines_changed}"
        )
    if c.max_files_changed is not None and len(scope.files_touched) > c.max_files_changed:
        problems.append(
            f"{len(scope.files_touched)} files touched exceed max_files_changed "
            f"{c.max_files_changed}"
        )
    if c.forbid_binary_patches and parsed.has_binary:
        binaries = [f.path for f in parsed.files if f.binary]
        problems.append(f"binary changes are forbidden (forbid_binary_patches): {binaries}")
    if c.require_issue_ref and not ISSUE_REF.search(artifact.summary or ""):
        problems.append("the summary names no issue (#123 or ABC-123) but require_issue_ref is set")
    if c.ascii_only:
        for change in parsed.files:
            if any(not line.isascii() for line in change.added_lines):
                problems.append(f"{change.path!r} adds non-ASCII text but ascii_only is set")
    return problems


def need_tests(parsed: ParsedDiff, policy: EffectivePolicy, *, also: bool) -> bool:
    """True when verification must run tests that pass."""
    globs = policy.constraints.require_tests_for_paths or []
    touched = [p for f in parsed.files for p in f.all_paths]
    return bool(
        also or policy.constraints.tests_must_pass or any(any_match(globs, p) for p in touched)
    )


def judge(
    artifact: PatchArtifact,
    *,
    policy: EffectivePolicy,
    scope: EffectiveScope,
    recent_signatures: Sequence[str | None],
    signature: str | None,
    symlinked_dirs: Callable[[list[str]], list[str]] | None = None,
    tests_required_by_context: bool = False,
) -> Judgement:
    """Validate ``artifact``; ``recent_signatures`` are the project's patches before it."""
    parsed, problems = check_format(artifact)
    if parsed is None:
        flags = PatchValidation(validation_errors=[f"format: {p}" for p in problems])
        return Judgement(
            flags, PatchState.DROPPED, "format: " + "; ".join(problems), None, None, problems
        )
    scope_problems = check_scope(
        artifact, parsed, policy=policy, scope=scope, symlinked_dirs=symlinked_dirs
    )
    constraint_problems = check_constraints(artifact, parsed, policy)
    verdict = None
    if signature is not None:
        window = policy.constraints.oscillation_window or 1
        known = [s for s in recent_signatures if s is not None]
        history = known[-(window - 1) :] if window > 1 else []
        verdict = detect_oscillation(
            [*history, signature],
            window=window,
            threshold=policy.constraints.oscillation_threshold or 1,
        )
        if verdict.oscillating:
            constraint_problems.append(verdict.describe())
    flags = PatchValidation(
        format_ok=True,
        scope_ok=not scope_problems,
        constraints_ok=not constraint_problems,
        validation_errors=[f"scope: {p}" for p in scope_problems]
        + [f"constraints: {p}" for p in constraint_problems],
        tests_required=need_tests(parsed, policy, also=tests_required_by_context),
    )
    if scope_problems or constraint_problems:
        reason = "; ".join(flags.validation_errors)
        return Judgement(
            flags,
            PatchState.QUARANTINED,
            reason,
            parsed,
            verdict,
            scope_problems + constraint_problems,
        )
    return Judgement(
        flags, PatchState.VALIDATED, "format, scope and constraints ok", parsed, verdict
    )

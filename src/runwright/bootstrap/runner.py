"""`runwright init`: preflight → discovery → selection → composition → generation →
validation with auto-fixes → report (UET bootstrap steps 0-5). Needs no database."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runwright import specfiles
from runwright.bootstrap.artifacts import (
    HOME,
    Context,
    Notes,
    PlannedFile,
    project_scope,
)
from runwright.bootstrap.catalog import profile as get_profile
from runwright.bootstrap.composition import compose, configured_paths, detect_subtrees
from runwright.bootstrap.discovery import DiscoveryResult, discover
from runwright.bootstrap.report import build_report
from runwright.bootstrap.templates import phase_specs, render_all
from runwright.bootstrap.validation import (
    Loaded,
    check_phases,
    check_relaxed,
    fix_phase,
    load_staged,
    results,
    stage,
)
from runwright.bootstrap.writer import (
    REPORT,
    Decision,
    apply,
    atomic_write,
    check_home,
    current_text,
    decide,
    load_manifest,
    log,
    sha256,
)
from runwright.domain.bootstrap import ArtifactAction, BootstrapReport, Selection, select_profile
from runwright.domain.profiles import ConflictKind, ProfileMapping, ProjectProfile
from runwright.domain.router import RouterConfig
from runwright.errors import ConfigError

CONFIG = f"{HOME}/config.toml"


@dataclass(frozen=True)
class InitResult:
    """What init found, decided and wrote."""

    report: BootstrapReport
    discovery: DiscoveryResult
    decisions: list[Decision]


def user_bootstrap(root: Path, manifest: Mapping[str, str]) -> dict[str, Any]:
    """``[bootstrap]`` of config.toml when the user wrote or edited it ({} when it is ours
    and unchanged: then discovery decides again)."""
    exists, text = current_text(root, CONFIG)
    if not exists or text is None or manifest.get(CONFIG) == sha256(text):
        return {}
    try:
        data = specfiles.parse_toml(text, str(root / CONFIG))
    except specfiles.SpecFileError as exc:
        raise ConfigError(
            exc.message,
            hint="fix it, or rerun with --force to regenerate it",
            path=str(root / CONFIG),
        ) from None
    section = data.get("bootstrap", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{root / CONFIG}: [bootstrap] must be a table", path=str(root / CONFIG))
    return section


def choose(
    discovery_result: DiscoveryResult, flag: str | None, config: Mapping[str, Any]
) -> Selection:
    """The flag's profile, else the one pinned in config.toml, else the selector's pick."""
    d = discovery_result.discovery
    if flag:
        get_profile(flag)
        return Selection(flag, f"chosen with --profile {flag}", needs_review=False, explicit=True)
    pinned = config.get("profile")
    if isinstance(pinned, str) and pinned:
        get_profile(pinned)
        return Selection(pinned, f"pinned in {CONFIG}", needs_review=False, explicit=True)
    return select_profile(d.domain, d.domain_confidence or 0.0)


def _note_selection(notes: Notes, selection: Selection, mapping: ProfileMapping) -> None:
    if selection.needs_review:
        notes.warn("low_confidence", selection.reason)
        notes.human.append(
            f"confirm profile {selection.profile_id} ({selection.reason}); pick another with "
            "`runwright init --profile P`"
        )
    for conflict in mapping.conflicts:
        if conflict.kind is ConflictKind.PATH_CLAIMED_TWICE:
            notes.warn("composition_conflict", conflict.message, CONFIG)
            notes.human.append(f"{conflict.message}: {conflict.resolution}")
        else:
            notes.auto_fixes.append(f"{conflict.message}: {conflict.resolution}")


def _generate(ctx: Context) -> list[PlannedFile]:
    """Every planned file, generated phases narrowed and tightened first (auto-fixes)."""
    reference = ctx.mapping.mappings[0].constraints.as_profile().as_patch_constraints()
    scope = project_scope(ctx.mapping)
    phases = []
    for pid, phase in phase_specs(ctx):
        fixed, fixes = fix_phase(phase, scope, reference)
        ctx.notes.auto_fixes.extend(fixes)
        phases.append((pid, fixed))
    return render_all(ctx, phases)


def _validate(
    ctx: Context, planned: list[PlannedFile], decisions: list[Decision], env: Mapping[str, str]
) -> tuple[ProjectProfile, Loaded]:
    """Stage the files as they will be, load them with runwright's loaders, check them."""
    notes = ctx.notes
    for d in decisions:
        if d.regenerated:
            notes.auto_fixes.append(f"regenerated {d.rel} (it had been deleted)")
        if d.planned is not None and d.effective is None:
            notes.error(
                "not_a_file",
                f"{d.rel} exists but is not a regular file (a symlink or a folder)",
                d.rel,
                f"remove {d.rel} and rerun init",
            )
    expected = ProjectProfile.model_validate_json(
        next(pf.content for pf in planned if pf.type == "profile")
    )
    kept = {d.rel for d in decisions if d.action is ArtifactAction.KEPT}
    effective = {
        d.rel: d.effective for d in decisions if d.planned is not None and d.effective is not None
    }
    kinds = {d.rel: d.type for d in decisions if d.rel in effective}
    staging = Path(tempfile.mkdtemp(prefix="runwright-init-"))
    try:
        loaded = load_staged(stage(ctx.root, effective, staging), kinds, kept, notes)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    on_disk = loaded.profile or expected
    check_relaxed(loaded.policy, on_disk, expected, ctx.root.name or "project", notes)
    check_phases(loaded.phases, expected, kept, ctx.files, notes)
    check_router_tools(loaded.router, env, notes)
    return on_disk, loaded


def init_project(
    root: Path,
    *,
    profile: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> InitResult:
    """Bootstrap the project at ``root``; write ``.runwright/`` unless ``dry_run``."""
    root = root.resolve()
    if not root.is_dir():
        raise ConfigError(
            f"{root} is not a folder", hint="give the project's folder", path=str(root)
        )
    check_home(root)
    environ = dict(os.environ if env is None else env)
    now = now or datetime.now(UTC)
    found = discover(root, env=environ, now=now)
    manifest = load_manifest(root)
    config = user_bootstrap(root, manifest)
    selection = choose(found, profile, config)
    mapping = compose(
        selection.profile_id,
        detected=detect_subtrees(root, found.listing, selection.profile_id),
        configured=configured_paths(config, str(root / CONFIG)),
    )
    ctx = Context(root, found.discovery, mapping, found.listing.files)
    _note_selection(ctx.notes, selection, mapping)
    planned = _generate(ctx)
    decisions = decide(root, planned, manifest, force=force)
    on_disk, loaded = _validate(ctx, planned, decisions, environ)
    report = build_report(
        ctx=ctx,
        profile=on_disk,
        selection=selection,
        decisions=decisions,
        validation=results(ctx.notes),
        operators=sorted(op.op_id for op in loaded.operators.values()),
        dry_run=dry_run,
        now=now,
    )
    if not dry_run:
        apply(root, decisions, manifest)
        atomic_write(root, REPORT, report.model_dump_json(indent=2) + "\n")
        log(root, _log_entries(found, selection, report, decisions))
    return InitResult(report, found, decisions)


def check_router_tools(router: RouterConfig | None, env: Mapping[str, str], notes: Notes) -> None:
    """Every router app's program must exist (a missing one is a ``missing_tool`` warning)."""
    apps = router.apps if router is not None else {}
    for name, app in apps.items():
        command = app.command or []
        if not command or "{" in command[0]:
            continue
        program = command[0]
        found = (
            Path(program).is_file() and os.access(program, os.X_OK)
            if os.sep in program
            else shutil.which(program, path=env.get("PATH", "")) is not None
        )
        if not found:
            notes.warn(
                "missing_tool",
                f"router app {name}: {program} not found (install it or remove the app)",
                f"{HOME}/router.yaml",
            )


def _log_entries(
    found: DiscoveryResult, selection: Selection, report: BootstrapReport, decisions: list[Decision]
) -> list[dict[str, Any]]:
    d = found.discovery
    entries: list[dict[str, Any]] = [
        {
            "event": "discovery",
            "domain": d.domain.value,
            "confidence": d.domain_confidence,
            "rule": d.domain_rule,
            "files": d.file_count,
            "languages": {lang.language: lang.percentage for lang in d.languages[:8]},
            "skipped": len(d.skipped),
        },
        {"event": "selection", "profile_id": selection.profile_id, "reason": selection.reason},
        {
            "event": "composition",
            "mappings": {m.path or ".": m.profile_id for m in report.profile_mapping.mappings}
            if report.profile_mapping
            else {},
        },
    ]
    entries += [{"event": "artifact", "path": x.rel, "action": x.action.value} for x in decisions]
    v = report.validation_results
    entries.append(
        {
            "event": "validation",
            "status": v.validation_status.value if v else None,
            "errors": len(v.errors) if v else 0,
            "warnings": len(v.warnings) if v else 0,
            "auto_fixes": len(v.auto_fixes_applied) if v else 0,
        }
    )
    entries.append({"event": "report", "status": report.status.value})
    return entries

"""Path-based profile composition: sub-trees of another kind get their own profile.

The longest matching path prefix picks the profile; the constraints at a path are the
strictest of every mapping that covers it (the root's included), so a sub-tree can never
loosen what the project requires. Mappings come from discovery (a ``docs/`` folder of
Markdown in a Python repository, a Terraform folder, a dbt project) and from
``[bootstrap.paths]`` in config.toml, which wins on the same path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from runwright.bootstrap.catalog import profile as get_profile
from runwright.bootstrap.detect import under
from runwright.bootstrap.discovery import domain_of
from runwright.bootstrap.files import FileListing
from runwright.domain.bootstrap import GENERIC_PROFILE, REVIEW_THRESHOLD, select_profile
from runwright.domain.profiles import (
    PROFILE_STRICTNESS,
    CompositionConflict,
    ConflictKind,
    MappingSource,
    PathProfile,
    ProfileConstraints,
    ProfileMapping,
    ProjectConstraints,
    normalize_path,
    strictest,
)
from runwright.errors import ConfigError

MARKERS = frozenset(
    {
        "dbt_project.yml",
        "mkdocs.yml",
        "Chart.yaml",
        "kustomization.yaml",
        "kustomization.yml",
        "docusaurus.config.js",
        "docusaurus.config.ts",
    }
)
MAX_MARKER_DEPTH = 3


def candidate_dirs(files: list[str]) -> list[str]:
    """Top-level folders, and folders holding a project marker (dbt_project.yml, mkdocs.yml,
    Chart.yaml…) up to three levels down; shallowest first."""
    found = {f.split("/", 1)[0] for f in files if "/" in f and not f.startswith(".")}
    for f in files:
        p = PurePosixPath(f)
        if p.name in MARKERS and 1 <= len(p.parts) - 1 <= MAX_MARKER_DEPTH:
            found.add(str(p.parent))
    return sorted(found, key=lambda d: (d.count("/"), d))


def detect_subtrees(
    root: Path, listing: FileListing, root_profile: str
) -> list[tuple[str, str, str]]:
    """(path, profile, reason) for each sub-tree confidently of another kind than the root."""
    chosen: list[tuple[str, str, str]] = []
    for d in candidate_dirs(listing.files):
        files = under(listing.files, d)
        if not files or d.split("/", 1)[0].startswith("."):
            continue
        verdict = domain_of(root, files, listing)
        pick = select_profile(verdict.domain, verdict.confidence)
        if pick.profile_id in {GENERIC_PROFILE, root_profile}:
            continue
        if verdict.confidence < REVIEW_THRESHOLD:
            continue
        covering = [c for c in chosen if d.startswith(c[0] + "/")]
        if covering and covering[-1][1] == pick.profile_id:
            continue
        reason = (
            f"{verdict.reason} ({verdict.domain.value} {verdict.confidence:.2f}, "
            f"rule {verdict.rule})"
        )
        chosen.append((d, pick.profile_id, reason))
    return chosen


def configured_paths(bootstrap: Mapping[str, object], source: str) -> list[tuple[str, str]]:
    """The (path, profile) pairs of ``[bootstrap.paths]`` in the given order; errors name the
    file and the key."""
    raw = bootstrap.get("paths") or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{source}: [bootstrap.paths] must be a table of path = profile",
            hint='e.g. [bootstrap.paths]\\n"docs" = "documentation"',
            path=source,
            field="bootstrap.paths",
        )
    out = []
    for key, value in raw.items():
        if not isinstance(value, str):
            raise ConfigError(
                f"{source}: [bootstrap.paths] {key!r} must name a profile (a string)",
                path=source,
                field=f"bootstrap.paths.{key}",
            )
        path = normalize_path(str(key))
        if (
            path.startswith("/")
            or ".." in PurePosixPath(path).parts
            or Path(str(key)).is_absolute()
        ):
            raise ConfigError(
                f"{source}: [bootstrap.paths] {key!r} must be a folder inside the project",
                hint="use a repository-relative path such as docs or infra/k8s",
                path=source,
                field=f"bootstrap.paths.{key}",
            )
        get_profile(value)  # NotFound lists the profiles
        out.append((path, value))
    return out


def _booleans(fields: list[str]) -> list[str]:
    return [f for f in fields if PROFILE_STRICTNESS[f] == "true"]


def compose(
    root_profile: str,
    *,
    detected: list[tuple[str, str, str]],
    configured: list[tuple[str, str]],
) -> ProfileMapping:
    """The mapping: the root profile at '', then each sub-tree, with effective constraints."""
    conflicts: list[CompositionConflict] = []
    claims: dict[str, tuple[str, MappingSource, str]] = {}
    for path, profile_id, reason in detected:
        claims[path] = (profile_id, MappingSource.DETECTED, reason)
    seen_config: dict[str, str] = {}
    for path, profile_id in configured:
        if path in seen_config and seen_config[path] != profile_id:
            conflicts.append(
                CompositionConflict(
                    kind=ConflictKind.PATH_CLAIMED_TWICE,
                    path=path or ".",
                    profiles=[seen_config[path], profile_id],
                    message=f"[bootstrap.paths] maps {path or '.'} to both "
                    f"{seen_config[path]} and {profile_id}",
                    resolution=f"kept {seen_config[path]} (the first); choose one",
                )
            )
            continue
        seen_config[path] = profile_id
        claims[path] = (profile_id, MappingSource.CONFIG, "configured in [bootstrap.paths]")
    root_claim = claims.pop("", None)
    root_id = root_claim[0] if root_claim else root_profile
    root_constraints = get_profile(root_id).extension.adds_constraints
    mappings = [
        PathProfile(
            path="",
            profile_id=root_id,
            source=root_claim[1] if root_claim else MappingSource.SELECTED,
            constraints=ProjectConstraints.from_profile(root_constraints),
            reason="the project's profile",
        )
    ]
    own: dict[str, ProfileConstraints] = {"": root_constraints}
    for path in sorted(claims, key=lambda p: (p.count("/"), p)):
        profile_id, source, reason = claims[path]
        mine = get_profile(profile_id).extension.adds_constraints
        effective = mine
        for above in sorted(own, key=len):
            if above == "" or path.startswith(above + "/"):
                upper = own[above]
                effective, disagree = strictest(upper, effective)
                for name in _booleans(disagree):
                    conflicts.append(
                        CompositionConflict(
                            kind=ConflictKind.CONTRADICTORY_CONSTRAINT,
                            path=path,
                            profiles=[_owner(mappings, above), profile_id],
                            field=name,
                            message=f"{profile_id} at {path} sets {name}={getattr(mine, name)} "
                            f"but {_owner(mappings, above)} covering it sets "
                            f"{getattr(upper, name)}",
                            resolution=f"the stricter {name}=true applies at {path}",
                        )
                    )
        own[path] = mine
        mappings.append(
            PathProfile(
                path=path,
                profile_id=profile_id,
                source=source,
                constraints=ProjectConstraints.from_profile(effective),
                reason=reason,
            )
        )
    return ProfileMapping(mappings=mappings, conflicts=conflicts)


def _owner(mappings: list[PathProfile], path: str) -> str:
    for m in mappings:
        if m.path == path:
            return m.profile_id
    return "?"

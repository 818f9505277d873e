"""Discovery (bootstrap step 1): what a folder holds, as a UET ``Discovery``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runwright.bootstrap.detect import (
    ci_configs,
    directory_roles,
    frameworks_of,
    is_test_file,
    languages_of,
    lint_configs,
    project_name,
)
from runwright.bootstrap.files import FileListing, list_files
from runwright.bootstrap.tools import detect_tools
from runwright.domain.bootstrap import (
    Discovery,
    DomainVerdict,
    FrameworkHit,
    InferredConstraints,
    infer_domain,
)
from runwright.domain.profiles import Domain

RESOURCE_TYPES: dict[Domain, list[str]] = {
    Domain.SOFTWARE_DEV: ["files"],
    Domain.DATA_PIPELINE: ["tables", "schemas", "queries"],
    Domain.OPERATIONS: ["services", "deployments", "configs"],
    Domain.DOCUMENTATION: ["documents", "assets"],
    Domain.MIXED: ["resources"],
}


@dataclass(frozen=True)
class DiscoveryResult:
    """The discovery and the file listing it was made from (composition reuses it)."""

    discovery: Discovery
    listing: FileListing


def domain_of(root: Path, files: Sequence[str], listing: FileListing) -> DomainVerdict:
    """The domain of a set of files (the whole project, or one sub-tree)."""
    frameworks = frameworks_of(root, files, listing)
    return infer_domain(languages_of(files), [h.framework for h in frameworks])


def infer_constraints(
    files: Sequence[str], ci: Sequence[str], lint: Sequence[str], is_git: bool
) -> InferredConstraints:
    """Tests must pass when the project has tests or CI; lint is required when it has a lint
    configuration; changes travel as patches when it is a git work tree."""
    has_tests = any(is_test_file(f) for f in files)
    return InferredConstraints(
        tests_must_pass=has_tests or bool(ci),
        lint_required=bool(lint),
        patch_only=is_git,
    )


def discover(
    root: Path,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    probe_tools: bool = True,
) -> DiscoveryResult:
    """Discover the project at ``root``: files, languages, frameworks, tools, roles, domain."""
    root = root.resolve()
    environ = dict(os.environ if env is None else env)
    listing = list_files(root, env=environ)
    files = listing.files
    frameworks: list[FrameworkHit] = frameworks_of(root, files, listing)
    languages = languages_of(files)
    verdict = infer_domain(languages, [h.framework for h in frameworks])
    ci = ci_configs(files)
    lint = lint_configs(root, files, listing)
    tools = detect_tools(root, environ) if probe_tools else []
    discovery = Discovery(
        project_root=str(root),
        project_name=project_name(root, files, listing),
        domain=verdict.domain,
        languages=languages,
        resource_types=RESOURCE_TYPES[verdict.domain],
        available_tools=tools,
        domain_confidence=verdict.confidence,
        frameworks=frameworks,
        existing_ci=ci,
        vcs="git" if listing.is_git else None,
        inferred_constraints=infer_constraints(files, ci, lint, listing.is_git),
        directory_structure=directory_roles(files, frameworks),
        discovery_timestamp=now or datetime.now(UTC),
        domain_rule=verdict.rule,
        domain_reason=verdict.reason,
        lint_configs=lint,
        file_count=len(files),
        listed_via=listing.via,
        skipped=listing.skipped,
    )
    return DiscoveryResult(discovery, listing)

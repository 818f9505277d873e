"""Bootstrap (UET): what discovery found, the domain and selector rules, and the report with
its status rules. Pure types and rules; the file walk and the writing live in
``runwright.bootstrap``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runwright.domain.profiles import Domain, ProfileMapping


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LanguageShare(_Model):
    """A language found by file extension."""

    language: str = Field(min_length=1)
    percentage: float = Field(ge=0, le=100)
    file_count: int = Field(default=0, ge=0)


class DetectedTool(_Model):
    """A tool found on this machine (or in the project's virtualenv)."""

    tool_id: str = Field(min_length=1)
    detected_via: str = Field(min_length=1, description="path | venv | interpreter | config")
    version: str | None = None
    # runwright fields
    command: list[str] = Field(default_factory=list, description="argv prefix that runs it.")


class FrameworkHit(_Model):
    """A framework or tool configuration found, and the file that shows it."""

    framework: str = Field(min_length=1)
    indicator: str = Field(min_length=1)


class InferredConstraints(_Model):
    """What the repository suggests about how changes must be made."""

    tests_must_pass: bool = False
    lint_required: bool = False
    patch_only: bool = True


class DirectoryStructure(_Model):
    """Directories by role (repository-relative)."""

    src_dirs: list[str] = Field(default_factory=list)
    test_dirs: list[str] = Field(default_factory=list)
    doc_dirs: list[str] = Field(default_factory=list)
    config_dirs: list[str] = Field(default_factory=list)
    script_dirs: list[str] = Field(default_factory=list)
    # runwright fields
    data_dirs: list[str] = Field(default_factory=list, description="Where SQL/dbt models live.")
    infra_dirs: list[str] = Field(default_factory=list, description="Terraform/Kubernetes.")


class SkippedPath(_Model):
    """A path discovery did not read, and why (symlink out of the tree, unreadable, huge…)."""

    path: str
    reason: str


class Discovery(_Model):
    """What `runwright init` found in a folder (UET Discovery)."""

    project_root: str = Field(min_length=1)
    project_name: str = Field(min_length=1)
    domain: Domain
    languages: list[LanguageShare]
    resource_types: list[str]
    available_tools: list[DetectedTool]
    domain_confidence: float | None = Field(default=None, ge=0, le=1)
    frameworks: list[FrameworkHit] = Field(default_factory=list)
    existing_ci: list[str] = Field(default_factory=list, description="CI configuration files.")
    vcs: str | None = Field(default=None, description="git, or None.")
    inferred_constraints: InferredConstraints = Field(default_factory=InferredConstraints)
    directory_structure: DirectoryStructure = Field(default_factory=DirectoryStructure)
    discovery_timestamp: datetime | None = None
    # runwright fields
    domain_rule: str | None = Field(default=None, description="The domain rule that matched.")
    domain_reason: str | None = None
    lint_configs: list[str] = Field(default_factory=list)
    file_count: int = Field(default=0, ge=0, description="Files listed (ignored ones excluded).")
    listed_via: str | None = Field(default=None, description="git ls-files | walk")
    skipped: list[SkippedPath] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sorted(self) -> Discovery:
        shares = [lang.percentage for lang in self.languages]
        if shares != sorted(shares, reverse=True):
            raise ValueError("languages must be sorted by percentage, descending")
        return self

    def share(self, *languages: str) -> float:
        """The summed percentage of ``languages``."""
        wanted = set(languages)
        return sum(lang.percentage for lang in self.languages if lang.language in wanted)


# --- the domain rules -----------------------------------------------------------------------

DOC_LANGUAGES = ("markdown", "restructuredtext", "asciidoc")
OPS_LANGUAGES = ("hcl", "yaml", "dockerfile", "shell", "json", "jinja")
PROGRAMMING_LANGUAGES = (
    "python",
    "javascript",
    "typescript",
    "go",
    "rust",
    "java",
    "kotlin",
    "ruby",
    "php",
    "c",
    "c++",
    "c#",
    "swift",
    "scala",
    "r",
)
OPS_FRAMEWORKS = frozenset(
    {"terraform", "kubernetes", "helm", "kustomize", "ansible", "docker-compose"}
)
DOC_FRAMEWORKS = frozenset({"mkdocs", "sphinx", "docusaurus"})
PIPELINE_FRAMEWORKS = frozenset({"dbt"})


@dataclass(frozen=True, slots=True)
class DomainVerdict:
    """The domain, its confidence, and the rule that decided."""

    domain: Domain
    confidence: float
    rule: str
    reason: str


def _pct(languages: Sequence[LanguageShare], names: Iterable[str]) -> float:
    wanted = set(names)
    return sum(lang.percentage for lang in languages if lang.language in wanted)


def infer_domain(
    languages: Sequence[LanguageShare], frameworks: Iterable[str] = ()
) -> DomainVerdict:
    """The domain of a project from its language shares and detected frameworks.

    Rules, first match wins (D0, D2, D3 and D9 are the UET code's rules):

    - D0 no files → mixed 0.5
    - D1 a dbt project → data-pipeline 0.9 (0.8 when SQL is under 30%)
    - D2 python > 50% → software-dev 0.8
    - D3 markdown (+ reStructuredText, AsciiDoc) > 70% → documentation 0.9
    - D4 Terraform/Kubernetes/Helm/Kustomize/Ansible and infrastructure files > 50%
      → operations 0.8
    - D5 a docs-site generator and documentation > 40% → documentation 0.75
    - D6 sql > 50% → data-pipeline 0.7
    - D7 an infrastructure tool and infrastructure files > 30% → operations 0.65
    - D8 another programming language > 50% → software-dev 0.6
    - D9 otherwise → mixed 0.6
    """
    found = set(frameworks)
    if not languages or sum(lang.file_count for lang in languages) == 0:
        return DomainVerdict(Domain.MIXED, 0.5, "D0", "no source files")
    python = _pct(languages, ["python"])
    docs = _pct(languages, DOC_LANGUAGES)
    ops = _pct(languages, OPS_LANGUAGES)
    sql = _pct(languages, ["sql"])
    if found & PIPELINE_FRAMEWORKS:
        confidence = 0.9 if sql >= 30 else 0.8
        return DomainVerdict(Domain.DATA_PIPELINE, confidence, "D1", f"dbt project, sql {sql:.0f}%")
    if python > 50:
        return DomainVerdict(Domain.SOFTWARE_DEV, 0.8, "D2", f"python {python:.0f}% > 50%")
    if docs > 70:
        return DomainVerdict(Domain.DOCUMENTATION, 0.9, "D3", f"documentation {docs:.0f}% > 70%")
    ops_tools = sorted(found & OPS_FRAMEWORKS)
    if ops_tools and ops > 50:
        return DomainVerdict(
            Domain.OPERATIONS,
            0.8,
            "D4",
            f"{', '.join(ops_tools)} with infrastructure files {ops:.0f}% > 50%",
        )
    doc_tools = sorted(found & DOC_FRAMEWORKS)
    if doc_tools and docs > 40:
        return DomainVerdict(
            Domain.DOCUMENTATION, 0.75, "D5", f"{', '.join(doc_tools)} with docs {docs:.0f}%"
        )
    if sql > 50:
        return DomainVerdict(Domain.DATA_PIPELINE, 0.7, "D6", f"sql {sql:.0f}% > 50%")
    if ops_tools and ops > 30:
        return DomainVerdict(
            Domain.OPERATIONS, 0.65, "D7", f"{', '.join(ops_tools)} with infrastructure {ops:.0f}%"
        )
    for lang in languages:
        if lang.language in PROGRAMMING_LANGUAGES and lang.percentage > 50:
            return DomainVerdict(
                Domain.SOFTWARE_DEV, 0.6, "D8", f"{lang.language} {lang.percentage:.0f}% > 50%"
            )
    return DomainVerdict(Domain.MIXED, 0.6, "D9", "no language or framework dominates")


# --- the selector ---------------------------------------------------------------------------

REVIEW_THRESHOLD = 0.8
GENERIC_PROFILE = "generic"


@dataclass(frozen=True, slots=True)
class Selection:
    """The profile the selector picked, and whether a human should confirm it."""

    profile_id: str
    reason: str
    needs_review: bool
    explicit: bool = False


def select_profile(domain: Domain, confidence: float) -> Selection:
    """The UET selector: software-dev > 0.7 → software-dev-python; data-pipeline or
    operations > 0.6 → the same-named profile; documentation > 0.7 → documentation;
    otherwise generic. Below 0.8 the pick is flagged for a human to confirm."""
    if domain is Domain.SOFTWARE_DEV and confidence > 0.7:
        profile = "software-dev-python"
    elif domain in {Domain.DATA_PIPELINE, Domain.OPERATIONS} and confidence > 0.6:
        profile = domain.value
    elif domain is Domain.DOCUMENTATION and confidence > 0.7:
        profile = "documentation"
    else:
        profile = GENERIC_PROFILE
    review = confidence < REVIEW_THRESHOLD
    reason = f"domain {domain.value} with confidence {confidence:.2f} → {profile}"
    if review:
        reason += f" (below {REVIEW_THRESHOLD}: a human should confirm)"
    return Selection(profile, reason, review)


# --- the report -----------------------------------------------------------------------------


class BootstrapStatus(StrEnum):
    """How the bootstrap ended."""

    READY = "ready"
    PARTIAL = "partial"
    FAILED = "failed"
    NEEDS_HUMAN = "needs_human"


class ArtifactStatus(StrEnum):
    """Where a generated artifact stands."""

    CREATED = "created"
    VALIDATED = "validated"
    FAILED = "failed"


class ArtifactAction(StrEnum):
    """What init did with the file this run."""

    CREATED = "created"  # did not exist
    UPDATED = "updated"  # ours and unchanged by the user, regenerated with new content
    UNCHANGED = "unchanged"  # ours, already as it would be written
    KEPT = "kept"  # edited by the user (or not ours): left alone
    REPLACED = "replaced"  # edited by the user, overwritten because of --force
    REMOVED = "removed"  # ours and unchanged, but no longer generated (e.g. another profile)


class GeneratedArtifact(_Model):
    """One file init is responsible for."""

    path: str = Field(min_length=1, description="Relative to the project root.")
    type: str | None = None
    status: ArtifactStatus
    # runwright fields
    action: ArtifactAction
    sha256: str | None = None


class ReportConfiguration(_Model):
    """The configuration the project ends up with."""

    patch_only_mode: bool
    test_requirement: bool
    max_lines_per_patch: int | None = None
    available_tools: list[str] = Field(default_factory=list)


class ValidationStatus(StrEnum):
    """The validator's verdict."""

    PASSED = "passed"
    FAILED = "failed"
    NEEDS_HUMAN = "needs_human"


MISSING_PATH = "missing_path"


class Finding(_Model):
    """An error or a warning of the validator."""

    code: str = Field(min_length=1, description="missing_path, missing_tool, constraint_relaxed…")
    message: str = Field(min_length=1)
    path: str | None = None


class ValidationResults(_Model):
    """What the validator found and fixed."""

    validation_status: ValidationStatus
    errors: list[Finding] = Field(default_factory=list)
    warnings: list[Finding] = Field(default_factory=list)
    auto_fixes_applied: list[str] = Field(default_factory=list)
    human_decisions_needed: list[str] = Field(default_factory=list)


class NextSteps(_Model):
    """What to do next."""

    for_human: list[str] = Field(default_factory=list)
    for_ai_agent: list[str] = Field(default_factory=list)


def report_status(validation: ValidationResults | None) -> BootstrapStatus:
    """The UET status rules, first match wins: no validation → failed; invalid with human
    items → needs_human; invalid otherwise → failed; a warning other than ``missing_path`` →
    partial; otherwise ready."""
    if validation is None:
        return BootstrapStatus.FAILED
    invalid = validation.validation_status is not ValidationStatus.PASSED
    if invalid and validation.human_decisions_needed:
        return BootstrapStatus.NEEDS_HUMAN
    if invalid:
        return BootstrapStatus.FAILED
    if any(w.code != MISSING_PATH for w in validation.warnings):
        return BootstrapStatus.PARTIAL
    return BootstrapStatus.READY


class BootstrapReport(_Model):
    """The outcome of `runwright init` (``.runwright/bootstrap_report.json``)."""

    project_name: str = Field(min_length=1)
    domain: Domain
    profile_id: str = Field(min_length=1)
    status: BootstrapStatus
    generated_artifacts: list[GeneratedArtifact]
    configuration: ReportConfiguration
    validation_results: ValidationResults | None = None
    next_steps: NextSteps = Field(default_factory=NextSteps)
    ready_for_workstreams: bool
    # runwright fields
    project_root: str | None = None
    domain_confidence: float | None = Field(default=None, ge=0, le=1)
    selection_reason: str | None = None
    profile_mapping: ProfileMapping | None = None
    dry_run: bool = False
    generated_at: datetime | None = None

    @model_validator(mode="after")
    def _status_rules(self) -> BootstrapReport:
        expected = report_status(self.validation_results)
        if self.status is not expected:
            raise ValueError(
                f"status: {self.status.value!r} does not follow from the validation results "
                f"(the status rules give {expected.value!r})"
            )
        if self.ready_for_workstreams != (self.status is BootstrapStatus.READY):
            raise ValueError("ready_for_workstreams: true exactly when status is ready")
        return self


__all__ = [
    "DOC_LANGUAGES",
    "GENERIC_PROFILE",
    "MISSING_PATH",
    "OPS_LANGUAGES",
    "REVIEW_THRESHOLD",
    "ArtifactAction",
    "ArtifactStatus",
    "BootstrapReport",
    "BootstrapStatus",
    "DetectedTool",
    "DirectoryStructure",
    "Discovery",
    "DomainVerdict",
    "Finding",
    "FrameworkHit",
    "GeneratedArtifact",
    "InferredConstraints",
    "LanguageShare",
    "NextSteps",
    "ReportConfiguration",
    "Selection",
    "SkippedPath",
    "ValidationResults",
    "ValidationStatus",
    "infer_domain",
    "report_status",
    "select_profile",
]

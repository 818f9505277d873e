"""Bootstrap rules without a repository: domain rules, the selector, the status rules,
composition, and the shipped profiles loading with runwright's own loaders."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runwright.bootstrap.catalog import BUILTIN_PROFILES, profile, profiles
from runwright.bootstrap.composition import compose
from runwright.bootstrap.validation import fix_phase, missing_paths
from runwright.domain.bootstrap import (
    BootstrapReport,
    BootstrapStatus,
    Finding,
    LanguageShare,
    ReportConfiguration,
    ValidationResults,
    ValidationStatus,
    infer_domain,
    report_status,
    select_profile,
)
from runwright.domain.execmodel.registry import DEFAULT_REGISTRY
from runwright.domain.policy import PatchConstraints
from runwright.domain.profiles import (
    ConflictKind,
    Domain,
    ProfileConstraints,
    relaxed_fields,
    strictest,
)
from runwright.domain.router_specs import PhaseSpec, ResourceScope
from runwright.errors import NotFound
from runwright.execmodel.loader import load_operator_file
from runwright.plans.contract import load_plan


def shares(**pct: float) -> list[LanguageShare]:
    """Language shares from percentages (file counts proportional)."""
    return sorted(
        (LanguageShare(language=k, percentage=v, file_count=int(v)) for k, v in pct.items()),
        key=lambda s: -s.percentage,
    )


def test_empty_project_is_mixed_at_half_confidence_and_gets_generic() -> None:
    """Behaviour 40: no files → mixed/0.5 → generic, flagged for a human."""
    verdict = infer_domain([])
    assert (verdict.domain, verdict.confidence, verdict.rule) == (Domain.MIXED, 0.5, "D0")
    pick = select_profile(verdict.domain, verdict.confidence)
    assert pick.profile_id == "generic"
    assert pick.needs_review


def test_eighty_percent_python_is_software_dev_and_gets_the_python_profile() -> None:
    """Behaviour 40: 80% .py → software-dev/0.8 → software-dev-python, no review needed."""
    verdict = infer_domain(shares(python=80, markdown=20))
    assert (verdict.domain, verdict.confidence) == (Domain.SOFTWARE_DEV, 0.8)
    pick = select_profile(verdict.domain, verdict.confidence)
    assert pick.profile_id == "software-dev-python"
    assert not pick.needs_review


@pytest.mark.parametrize(
    ("languages", "frameworks", "domain", "confidence", "rule"),
    [
        ({"markdown": 75, "yaml": 25}, [], Domain.DOCUMENTATION, 0.9, "D3"),
        ({"sql": 60, "yaml": 40}, ["dbt"], Domain.DATA_PIPELINE, 0.9, "D1"),
        ({"sql": 20, "python": 80}, ["dbt"], Domain.DATA_PIPELINE, 0.8, "D1"),
        ({"hcl": 50, "yaml": 40, "markdown": 10}, ["terraform"], Domain.OPERATIONS, 0.8, "D4"),
        ({"markdown": 50, "python": 30, "yaml": 20}, ["mkdocs"], Domain.DOCUMENTATION, 0.75, "D5"),
        ({"sql": 70, "markdown": 30}, [], Domain.DATA_PIPELINE, 0.7, "D6"),
        ({"yaml": 40, "python": 35, "markdown": 25}, ["kubernetes"], Domain.OPERATIONS, 0.65, "D7"),
        ({"go": 70, "markdown": 30}, [], Domain.SOFTWARE_DEV, 0.6, "D8"),
        ({"python": 40, "markdown": 30, "json": 30}, [], Domain.MIXED, 0.6, "D9"),
    ],
)
def test_domain_rules_first_match_wins(
    languages: dict[str, float], frameworks: list[str], domain: Domain, confidence: float, rule: str
) -> None:
    """Each documented domain rule fires with its documented confidence."""
    verdict = infer_domain(shares(**languages), frameworks)
    assert (verdict.domain, verdict.confidence, verdict.rule) == (domain, confidence, rule)


@pytest.mark.parametrize(
    ("domain", "confidence", "profile_id", "review"),
    [
        (Domain.SOFTWARE_DEV, 0.71, "software-dev-python", True),
        (Domain.SOFTWARE_DEV, 0.7, "generic", True),
        (Domain.DATA_PIPELINE, 0.61, "data-pipeline", True),
        (Domain.OPERATIONS, 0.6, "generic", True),
        (Domain.DOCUMENTATION, 0.9, "documentation", False),
        (Domain.MIXED, 0.99, "generic", False),
    ],
)
def test_selector_thresholds_and_review_flag(
    domain: Domain, confidence: float, profile_id: str, review: bool
) -> None:
    """The selector's thresholds are strict (>) and anything below 0.8 asks for review."""
    pick = select_profile(domain, confidence)
    assert (pick.profile_id, pick.needs_review) == (profile_id, review)


def _validation(
    status: ValidationStatus, *, warnings: list[str] = (), human: list[str] = ()
) -> ValidationResults:  # type: ignore[assignment]
    return ValidationResults(
        validation_status=status,
        errors=[] if status is ValidationStatus.PASSED else [Finding(code="x", message="bad")],
        warnings=[Finding(code=w, message=w) for w in warnings],
        human_decisions_needed=list(human),
    )


def test_status_rules_first_match_wins() -> None:
    """No validation → failed; invalid with human items → needs_human (a relaxed constraint);
    invalid otherwise → failed; a warning other than missing_path → partial; only
    missing_path warnings → ready."""
    assert report_status(None) is BootstrapStatus.FAILED
    relaxed = _validation(ValidationStatus.NEEDS_HUMAN, human=["restore max_lines_changed"])
    assert report_status(relaxed) is BootstrapStatus.NEEDS_HUMAN
    assert report_status(_validation(ValidationStatus.FAILED)) is BootstrapStatus.FAILED
    assert report_status(_validation(ValidationStatus.PASSED, warnings=["missing_tool"])) is (
        BootstrapStatus.PARTIAL
    )
    only_paths = _validation(ValidationStatus.PASSED, warnings=["missing_path", "missing_path"])
    assert report_status(only_paths) is BootstrapStatus.READY


def test_report_refuses_a_status_the_rules_do_not_give() -> None:
    """A report claiming ready with a failing validation, or ready_for_workstreams without
    ready, does not validate."""
    base = {
        "project_name": "p",
        "domain": "mixed",
        "profile_id": "generic",
        "generated_artifacts": [],
        "configuration": ReportConfiguration(patch_only_mode=True, test_requirement=False),
    }
    only_paths = _validation(ValidationStatus.PASSED, warnings=["missing_path"])
    ok = BootstrapReport(
        **base, status="ready", validation_results=only_paths, ready_for_workstreams=True
    )
    assert ok.ready_for_workstreams
    with pytest.raises(ValueError, match="status"):
        BootstrapReport(
            **base,
            status="ready",
            validation_results=_validation(ValidationStatus.FAILED),
            ready_for_workstreams=True,
        )
    with pytest.raises(ValueError, match="ready_for_workstreams"):
        BootstrapReport(
            **base, status="ready", validation_results=only_paths, ready_for_workstreams=False
        )


def test_strictest_and_relaxed_fields() -> None:
    """Overlapping constraints take the strictest value; a looser or missing value is relaxed."""
    a = ProfileConstraints(max_lines_changed=300, tests_must_pass=True, ascii_only=True)
    b = ProfileConstraints(max_lines_changed=1000, tests_must_pass=False, max_files_changed=5)
    merged, disagree = strictest(a, b)
    assert merged.max_lines_changed == 300
    assert merged.tests_must_pass is True
    assert merged.max_files_changed == 5
    assert merged.ascii_only is True
    assert disagree == ["max_lines_changed", "tests_must_pass"]
    assert relaxed_fields(a, b) == ["max_lines_changed", "tests_must_pass", "ascii_only"]
    assert relaxed_fields(a, a) == []


def test_composition_longest_prefix_and_strictest_constraints() -> None:
    """docs → documentation inside a Python repo: the longest prefix picks the profile, the
    root's stricter booleans win and the contradiction is reported."""
    mapping = compose(
        "software-dev-python",
        detected=[("docs", "documentation", "markdown 100%"), ("docs/api", "generic", "x")],
        configured=[],
    )
    assert mapping.profile_for("docs/guide/intro.md").profile_id == "documentation"
    assert mapping.profile_for("docs/api/x.md").profile_id == "generic"
    assert mapping.profile_for("src/app.py").profile_id == "software-dev-python"
    assert mapping.profile_for("docsite/x.md").profile_id == "software-dev-python"
    docs = mapping.profile_for("docs")
    assert docs.constraints.max_lines_changed == 300
    assert docs.constraints.tests_must_pass is True
    assert docs.constraints.ascii_only is True
    contradictions = {
        (c.path, c.field)
        for c in mapping.conflicts
        if c.kind is ConflictKind.CONTRADICTORY_CONSTRAINT
    }
    assert ("docs", "tests_must_pass") in contradictions
    assert ("docs", "ascii_only") in contradictions


def test_composition_reports_a_path_claimed_twice() -> None:
    """Two configured mappings of the same folder (spelled differently) conflict; the first
    is kept and the conflict says so."""
    mapping = compose(
        "generic",
        detected=[],
        configured=[("docs", "documentation"), ("docs", "operations")],
    )
    [conflict] = [c for c in mapping.conflicts if c.kind is ConflictKind.PATH_CLAIMED_TWICE]
    assert conflict.profiles == ["documentation", "operations"]
    assert mapping.profile_for("docs/a.md").profile_id == "documentation"


def test_every_shipped_profile_is_complete_and_loads() -> None:
    """Each of the five profiles is a valid ProfileExtension with the report's constraints,
    operators that the operator loader accepts, phase templates that are phase specs and a
    plan template that load_plan accepts."""
    assert tuple(profiles()) == BUILTIN_PROFILES
    table = {
        "software-dev-python": (True, 300),
        "data-pipeline": (False, 500),
        "operations": (False, 200),
        "documentation": (True, 1000),
        "generic": (True, 500),
    }
    for profile_id, (patch_only, max_lines) in table.items():
        p = profile(profile_id)
        ext = p.extension
        assert (ext.adds_constraints.patch_only, ext.adds_constraints.max_lines_changed) == (
            patch_only,
            max_lines,
        )
        assert ext.adds_resource_types
        assert ext.adds_change_types
        assert ext.adds_validation_types
        assert ext.operators, profile_id
        for tpl in ext.operators:
            op = load_operator_file(p.file(tpl.file), DEFAULT_REGISTRY)
            assert op.acceptance_checks
        for ref in ext.phase_templates:
            phase = PhaseSpec.model_validate(yaml.safe_load(p.read(ref.template_path)))
            assert phase.phase_id == ref.phase_id
        assert ext.plan_template is not None
        plan = load_plan(p.file(ext.plan_template))
        assert plan.phases
        assert plan.requirements


def test_profile_table_extras() -> None:
    """The report's extra constraints: software-dev-python 10 files, tests and ASCII;
    data-pipeline backwards compatible; operations needs approval; documentation and
    generic do not require tests."""
    c = {pid: profile(pid).extension.adds_constraints for pid in BUILTIN_PROFILES}
    assert c["software-dev-python"].max_files_changed == 10
    assert c["software-dev-python"].tests_must_pass
    assert c["software-dev-python"].ascii_only
    assert c["data-pipeline"].backwards_compatible is True
    assert c["operations"].require_approval is True
    assert c["operations"].as_patch_constraints().min_reviewers == 1
    assert c["documentation"].tests_must_pass is False
    assert c["documentation"].ascii_only is False
    assert c["generic"].tests_must_pass is False


def test_unknown_profile_lists_the_known_ones() -> None:
    """Asking for a profile that does not exist names the five."""
    with pytest.raises(NotFound) as err:
        profile("rust")
    assert "software-dev-python" in (err.value.hint or "")


def test_profile_files_cannot_leave_their_folder(tmp_path: Path) -> None:
    """A profile file path with .. is refused."""
    with pytest.raises(Exception, match="leaves the profile folder"):
        profile("generic").file("../../errors.py")


def test_validation_narrows_and_tightens_a_generated_phase() -> None:
    """Auto-fixes: a write glob outside the project scope or inside a forbidden path is
    dropped, the project's forbidden paths are added, a looser limit is tightened; a folder
    that does not exist is a missing path."""
    phase = PhaseSpec.model_validate(
        {
            "phase_id": "P",
            "name": "p",
            "category": "implementation",
            "resource_scope": {"write": ["src/**", "vendor/**", "secrets/keys/**"]},
            "constraints": {"patch": {"max_lines_changed": 900}},
        }
    )
    project = ResourceScope(write=["src/**", "secrets/**"], forbidden=["secrets/**"])
    fixed, fixes = fix_phase(phase, project, PatchConstraints(max_lines_changed=300))
    assert fixed.resource_scope.write == ["src/**"]
    assert fixed.resource_scope.forbidden == ["secrets/**"]
    assert fixed.constraints.patch.max_lines_changed == 300
    assert len(fixes) == 3
    assert fix_phase(fixed, project, PatchConstraints(max_lines_changed=300))[1] == []
    assert missing_paths(fixed, ["src/a.py"]) == []
    assert missing_paths(fixed, ["lib/a.py"]) == ["src/**"]

"""The four gates of a plan run. Each looks at the repository and the phases' outcomes and
returns a GateResult: pass, or the defects that fail it, each with its blocker class and the
correction it requires. Gates run inside a step of the plan run (their logs become evidence).

- **preflight**: ownership split, roles routable (their apps defined, and a dry route of
  each phase owner's task kind accepted), test spec readable, decisions closed or
  accepted, requirements covered by test and implementation phases, exceptions
  acknowledged, worktree usable.
- **test**: every test phase committed; its tests exist and parse; proof artifacts present.
- **implementation**: every implementation phase committed; none touched a test file; the
  whole test suite passes at HEAD.
- **validation**: the validation report has no critical failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from runwright.domain.plan_completion import ValidationReport
from runwright.domain.plan_records import BlockerClass, Defect, GateResult, Severity
from runwright.domain.plans import DecisionStatus, Gate, PhaseType, PlanPhase, PlanSpec, Role
from runwright.domain.router import RouterConfig
from runwright.errors import RunwrightError
from runwright.execmodel.paths import confine
from runwright.patches.git import git
from runwright.plans.commands import is_test_file, parse_argv, suite_argv, verify_argv
from runwright.plans.routability import unroutable_roles
from runwright.plans.workspace import Ran, Workspace

GATE_TIMEOUT = 1800.0


@dataclass
class Outcomes:
    """What the phases did: the latest outcome of each, and every commit of every round."""

    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    commits: dict[str, list[str]] = field(default_factory=dict)
    runs: dict[str, list[str]] = field(default_factory=dict)

    def add(self, phase_id: str, outcome: Mapping[str, Any], run_id: str | None) -> None:
        """Record one delegation's outcome (later rounds replace the latest)."""
        self.latest[phase_id] = dict(outcome)
        self.commits.setdefault(phase_id, []).extend(outcome.get("commits", []))
        if run_id:
            self.runs.setdefault(phase_id, []).append(run_id)

    def committed(self, phase_id: str) -> bool:
        """True when the phase's latest delegation committed."""
        return self.latest.get(phase_id, {}).get("status") == "committed"

    def test_files(self, phase_id: str) -> list[str]:
        """Test files a test phase wrote, over every round."""
        out = self.latest.get(phase_id, {}).get("test_files", [])
        return list(out)


def tests_for(plan: PlanSpec, outcomes: Outcomes, phase: PlanPhase) -> list[str]:
    """The test files proving ``phase``'s requirements (all test files if it names none)."""
    wanted = set(phase.requirements)
    files: list[str] = []
    for p in plan.phases:
        if p.phase_type is PhaseType.TEST and (not wanted or wanted & set(p.requirements)):
            files += outcomes.test_files(p.phase_id)
    return sorted(set(files))


def acknowledged_exceptions(plan: PlanSpec, extra: set[str]) -> set[str]:
    """test_not_applicable phases whose exception preflight acknowledges."""
    named = set(plan.exceptions_acknowledged) | extra
    return {p.phase_id for p in plan.phases if p.test_not_applicable and p.phase_id in named}


def _result(
    gate: Gate, round_: int, defects: list[Defect], checked: list[str], now: datetime, **kw: Any
) -> GateResult:
    refs = sorted({r for d in defects for r in d.evidence_refs})
    return GateResult(
        gate=gate.value,
        round=round_,
        passed=not defects,
        defects=defects,
        checked=checked,
        evidence_refs=refs,
        evaluated_at=now,
        **kw,
    )


# ---- preflight ---------------------------------------------------------------------------
def preflight(
    plan: PlanSpec,
    *,
    project_root: Path,
    router: RouterConfig | None,
    workspace: Workspace,
    acknowledged: set[str],
    accepted: set[str],
    round_: int,
    now: datetime,
) -> GateResult:
    """Is the plan ready to execute? (nothing is delegated before this passes)"""
    gate = Gate.PREFLIGHT
    defects: list[Defect] = []

    def defect(code: str, message: str, correction: str, cls: BlockerClass, **kw: Any) -> None:
        defects.append(
            Defect(
                gate=gate.value,
                code=code,
                message=message,
                required_correction=correction,
                blocker_class=cls,
                severity=Severity.CRITICAL,
                **kw,
            )
        )

    for p in plan.phases:
        crossed = (p.phase_type is PhaseType.TEST and p.owner_role == Role.IMPLEMENT_PLAN) or (
            p.phase_type is PhaseType.IMPLEMENTATION and p.owner_role == Role.TEST_IMPLEMENTER
        )
        if crossed:
            defect(
                "ownership_split",
                f"{p.phase_type} phase {p.phase_id} is owned by {p.owner_role}",
                "test phases go to test-implementer, implementation phases to implement-plan",
                BlockerClass.PLAN_DEFECT,
                phase_id=p.phase_id,
            )
    defects.extend(_routing_defects(plan, router))
    try:
        spec_file = confine(plan.test_spec, (project_root,), base=project_root, field="test_spec")
        readable = spec_file.is_file() and bool(spec_file.read_text(encoding="utf-8").strip())
    except (RunwrightError, OSError, UnicodeDecodeError):
        readable = False
    if not readable:
        defect(
            "test_spec_unreadable",
            f"test spec {plan.test_spec} is missing, empty or unreadable",
            "add the test spec to the repository (test_spec_source must be readable)",
            BlockerClass.PACKAGE_DEFECT,
            evidence_refs=[f"file:{plan.test_spec}"],
        )
    for d in plan.decisions:
        if d.status is DecisionStatus.OPEN and d.id not in accepted:
            defect(
                "decision_open",
                f"decision {d.id} is open: {d.question}",
                "close it upstream, or accept it for this execution (answer A)",
                BlockerClass.DECISION_NEEDED,
                evidence_refs=[f"decision:{d.id}"],
            )
    # exceptions count as coverage here; whether they are acknowledged is checked below
    defects_cov = _coverage(plan, {p.phase_id for p in plan.phases if p.test_not_applicable})
    for code, message, correction in defects_cov:
        defect(code, message, correction, BlockerClass.PLAN_DEFECT)
    for p in plan.phases:
        if p.test_not_applicable and p.phase_id not in acknowledged | accepted:
            defect(
                "exception_unacknowledged",
                f"phase {p.phase_id} is test_not_applicable ({p.test_not_applicable_reason}) "
                "but the exception was not acknowledged",
                "acknowledge it (exceptions_acknowledged, --acknowledge, or answer A)",
                BlockerClass.DECISION_NEEDED,
                phase_id=p.phase_id,
            )
    problem = _worktree_problem(workspace)
    if problem:
        defect(
            "worktree_unusable",
            problem,
            "make the execution worktree a clean git checkout",
            BlockerClass.PACKAGE_DEFECT,
        )
    checked = ["ownership split", "roles routable", "roles take their task kinds"]
    checked += ["test spec readable", "decisions"]
    checked += ["requirements covered", "exceptions acknowledged", "worktree usable"]
    return _result(gate, round_, defects, checked, now)


def _routing_defects(plan: PlanSpec, router: RouterConfig | None) -> list[Defect]:
    """Roles naming apps router.yaml lacks (package defects), and roles whose task kind the
    router refuses in a dry route (plan defects: the plan maps work to tools that can't take
    it)."""
    gate = Gate.PREFLIGHT.value
    refs = ["file:.runwright/router.yaml"]
    apps = set(router.apps) if router else set()
    found: list[Defect] = []
    undefined: set[str] = set()
    for name, role in sorted(plan.roles.items()):
        missing = [t for t in role.tools if t not in apps]
        if missing:
            undefined.add(name)
            found.append(
                Defect(
                    gate=gate,
                    code="role_not_routable",
                    message=f"role {name} names router apps {', '.join(missing)} that "
                    "router.yaml does not define",
                    required_correction="define them under apps: in .runwright/router.yaml, or "
                    "map the role to known apps",
                    blocker_class=BlockerClass.PACKAGE_DEFECT,
                    severity=Severity.CRITICAL,
                    evidence_refs=refs,
                )
            )
    for refused in unroutable_roles(plan, router, skip=undefined) if router else []:
        found.append(
            Defect(
                gate=gate,
                code="role_task_not_routable",
                message=refused.message,
                required_correction=refused.correction,
                blocker_class=BlockerClass.PLAN_DEFECT,
                severity=Severity.CRITICAL,
                phase_id=refused.phases[0],
                evidence_refs=refs,
            )
        )
    return found


def _coverage(plan: PlanSpec, exceptions: set[str]) -> list[tuple[str, str, str]]:
    found = []
    for req in plan.requirements:
        tests = plan.covering(req.id, PhaseType.TEST)
        code = plan.covering(req.id, PhaseType.IMPLEMENTATION)
        if not code:
            found.append(
                (
                    "requirement_without_code",
                    f"requirement {req.id} is covered by no implementation phase",
                    f"add {req.id} to an implementation phase's requirements",
                )
            )
        if not tests and not (code and all(p.phase_id in exceptions for p in code)):
            found.append(
                (
                    "requirement_without_test",
                    f"requirement {req.id} is covered by no test phase",
                    f"add {req.id} to a test phase, or mark its phases test_not_applicable",
                )
            )
    return found


def _worktree_problem(workspace: Workspace) -> str | None:
    try:
        workspace.head()
        repo = workspace.env.repo
        staged = git(repo, "diff", "--cached", "--quiet", check=False).returncode != 0
        if staged:
            return "the checkout has staged changes; each phase commits on its own"
        with workspace.at_head("preflight") as tree:
            if not tree.is_dir():
                return "a worktree could not be created"
    except (RunwrightError, OSError) as exc:
        return f"the execution worktree is not usable: {exc}"
    return None


# ---- the stage gates -----------------------------------------------------------------------
def _phase_failures(gate: Gate, phases: list[PlanPhase], outcomes: Outcomes) -> list[Defect]:
    out = []
    for p in phases:
        if outcomes.committed(p.phase_id):
            continue
        latest = outcomes.latest.get(p.phase_id, {})
        status = latest.get("status", "not-run")
        error = latest.get("error") or status
        refs = [f"run:{r}" for r in outcomes.runs.get(p.phase_id, [])]
        refs += [f"patch:{i}" for i in latest.get("patch_ids", [])]
        unroutable = str(error).startswith("route rejected")
        out.append(
            Defect(
                gate=gate.value,
                code="phase_failed" if status != "skipped" else "phase_skipped",
                blocker_class=BlockerClass.PACKAGE_DEFECT
                if unroutable
                else BlockerClass.IMPLEMENTATION_DEFECT,
                message=f"phase {p.phase_id} did not commit: {error}",
                required_correction=f"{p.objective.strip().splitlines()[0]} — and fix: {error}",
                phase_id=p.phase_id,
                severity=Severity.CRITICAL,
                evidence_refs=refs,
            )
        )
    return out


def test_gate(
    plan: PlanSpec,
    outcomes: Outcomes,
    workspace: Workspace,
    *,
    exceptions: set[str],
    round_: int,
    now: datetime,
) -> GateResult:
    """Tests exist and parse before any implementation starts."""
    gate = Gate.TEST
    phases = [p for p in plan.phases if p.phase_type is PhaseType.TEST]
    impl = [p for p in plan.phases if p.phase_type is PhaseType.IMPLEMENTATION]
    if not phases:
        if impl and all(p.phase_id in exceptions for p in impl):
            reason = "every implementation phase is an acknowledged test_not_applicable exception"
            return _result(gate, round_, [], [], now, skipped_reason=reason)
        return _result(
            gate,
            round_,
            [
                Defect(
                    gate=gate.value,
                    code="no_tests",
                    message="the plan has no test phase and no acknowledged exception",
                    required_correction="add test phases (test-first)",
                    blocker_class=BlockerClass.PLAN_DEFECT,
                    severity=Severity.CRITICAL,
                )
            ],
            [],
            now,
        )
    defects = _phase_failures(gate, phases, outcomes)
    with workspace.at_head(f"gate-test-{round_}") as tree:
        for p in phases:
            if not outcomes.committed(p.phase_id):
                continue
            tests = outcomes.test_files(p.phase_id)
            missing = [t for t in tests if not (tree / t).is_file()]
            problems = []
            refs = [f"commit:{c}" for c in outcomes.latest[p.phase_id].get("commits", [])]
            if not tests or missing:
                problems.append(
                    f"test files missing at HEAD: {', '.join(missing) or 'none written'}"
                )
            if p.proof_artifact and not (tree / p.proof_artifact).is_file():
                problems.append(f"proof artifact {p.proof_artifact} missing at HEAD")
            argv = parse_argv(plan, tests) if tests and not missing else None
            if argv:
                ran = workspace.run(
                    argv, cwd=tree, name=f"parse-{p.phase_id}-{round_}", timeout=GATE_TIMEOUT
                )
                refs.append(ran.evidence)
                if not ran.ok:
                    problems.append(f"tests do not parse: {ran.describe()}")
            if problems:
                defects.append(
                    Defect(
                        gate=gate.value,
                        code="tests_not_ready",
                        message=f"phase {p.phase_id}: " + "; ".join(problems),
                        required_correction=f"write tests that exist and parse for {p.phase_id}",
                        phase_id=p.phase_id,
                        severity=Severity.CRITICAL,
                        evidence_refs=refs,
                    )
                )
    return _result(
        gate, round_, defects, ["test phases committed", "tests exist", "tests parse"], now
    )


def implementation_gate(
    plan: PlanSpec,
    outcomes: Outcomes,
    workspace: Workspace,
    *,
    round_: int,
    now: datetime,
) -> GateResult:
    """Implementation committed, no test file touched, and the whole suite passes."""
    gate = Gate.IMPLEMENTATION
    phases = [p for p in plan.phases if p.phase_type is PhaseType.IMPLEMENTATION]
    defects = _phase_failures(gate, phases, outcomes)
    for p in phases:
        for commit in outcomes.commits.get(p.phase_id, []):
            touched = [f for f in workspace.changed_files(commit) if is_test_file(plan, f)]
            if touched:
                defects.append(
                    Defect(
                        gate=gate.value,
                        code="unauthorized_test_rewrite",
                        message=f"phase {p.phase_id} commit {commit[:12]} changed test files "
                        f"{', '.join(touched)}",
                        required_correction="change implementation files only; tests are fixed",
                        phase_id=p.phase_id,
                        severity=Severity.CRITICAL,
                        evidence_refs=[f"commit:{commit}"],
                    )
                )
    with workspace.at_head(f"gate-impl-{round_}") as tree:
        suite = workspace.run(
            suite_argv(plan), cwd=tree, name=f"suite-{round_}", timeout=GATE_TIMEOUT
        )
        if not suite.ok:
            failing: list[tuple[PlanPhase | None, Ran]] = []
            for p in phases:
                if p.test_not_applicable:
                    continue
                argv = verify_argv(plan, p, tests_for(plan, outcomes, p))
                ran = workspace.run(
                    argv, cwd=tree, name=f"verify-{p.phase_id}-{round_}", timeout=GATE_TIMEOUT
                )
                if not ran.ok:
                    failing.append((p, ran))
            for q, ran in failing or [(None, suite)]:
                defects.append(
                    Defect(
                        gate=gate.value,
                        code="tests_fail",
                        message=f"tests fail at HEAD: {ran.describe()}",
                        required_correction="make the failing tests pass without changing them",
                        phase_id=q.phase_id if q else None,
                        severity=Severity.CRITICAL,
                        evidence_refs=[suite.evidence, ran.evidence],
                    )
                )
    checked = ["implementation phases committed", "no test rewrites", "test suite passes"]
    return _result(gate, round_, defects, checked, now)


def validation_gate(
    report: ValidationReport, *, round_: int, now: datetime, evidence: str
) -> GateResult:
    """No critical failure in the validation report."""
    critical = [
        d.model_copy(update={"evidence_refs": [*d.evidence_refs, evidence]})
        for d in report.deviations
        if d.severity is Severity.CRITICAL
    ]
    checked = ["every requirement traced requirement → test → code", "no critical failure"]
    return _result(Gate.VALIDATION, round_, critical, checked, now)

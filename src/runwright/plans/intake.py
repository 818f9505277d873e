"""Intake: acknowledge the handoff, or block it before anything is delegated.

The handoff must come from ``tech-lead`` (or another issuer a decision owner let through) and
name the item workspace, the package directory and the execution worktree; the worktree must be
the project's git work tree. Anything missing is a blocking gap with an owner.
"""

from __future__ import annotations

from pathlib import Path

from runwright.domain.plan_records import Acknowledgment, BlockingGap
from runwright.domain.plans import Handoff, PhaseType, PlanSpec
from runwright.errors import RunwrightError
from runwright.patches.git import repo_root

TECH_LEAD = "tech-lead"


def top_of(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, or None."""
    try:
        return repo_root(path) if path.is_dir() else None
    except (RunwrightError, OSError):
        return None


def handoff_gaps(handoff: Handoff, project_root: Path) -> tuple[list[BlockingGap], str | None]:
    """The blocking gaps of a handoff, and who a blocked handoff is routed to."""
    gaps: list[BlockingGap] = []
    routed_to = None
    if handoff.issuer != TECH_LEAD and not handoff.decision_owner_override:
        gaps.append(
            BlockingGap(
                field="handoff.issuer",
                problem=f"handed off by {handoff.issuer!r}; execution takes plans from "
                f"{TECH_LEAD} (or with decision_owner_override: true)",
                owner=TECH_LEAD,
            )
        )
        routed_to = TECH_LEAD
    for name in ("item_workspace_path", "package_directory_path", "execution_worktree_path"):
        if not (getattr(handoff, name) or "").strip():
            gaps.append(
                BlockingGap(
                    field=f"handoff.{name}",
                    problem=f"{name} is missing from the handoff",
                    owner=TECH_LEAD,
                )
            )
    worktree = (handoff.execution_worktree_path or "").strip()
    if worktree:
        path = Path(worktree)
        path = path if path.is_absolute() else project_root / path
        if top_of(path) is None or top_of(path) != top_of(project_root):
            gaps.append(
                BlockingGap(
                    field="handoff.execution_worktree_path",
                    problem=f"{worktree} is not this project's git work tree",
                    owner=TECH_LEAD,
                )
            )
    if gaps and routed_to is None:
        routed_to = TECH_LEAD
    return gaps, routed_to


def first_step(plan: PlanSpec) -> str:
    """What execution does first: the first test phase, unless there is none."""
    tests = [p for p in plan.phases if p.phase_type is PhaseType.TEST]
    if tests:
        p = tests[0]
        return f"delegate {p.phase_id} ({p.name}) to {p.owner_role}: write the tests first"
    p = plan.phases[0]
    return (
        f"delegate {p.phase_id} ({p.name}) to {p.owner_role} under a test_not_applicable "
        "exception, once preflight acknowledges it"
    )


def acknowledge(
    plan: PlanSpec, handoff: Handoff, project_root: Path, plan_sha256: str
) -> Acknowledgment:
    """The intake acknowledgment of a plan run."""
    gaps, routed_to = handoff_gaps(handoff, project_root)
    return Acknowledgment(
        receipt_confirmed=True,
        sufficiency_for_execution=not gaps,
        blocking_gaps=gaps,
        first_execution_step=first_step(plan) if not gaps else "none: the handoff is blocked",
        plan_sha256=plan_sha256,
        issuer=handoff.issuer,
        routed_to=routed_to,
    )

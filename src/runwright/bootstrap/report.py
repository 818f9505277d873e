"""The bootstrap report (step 5): artifacts, configuration, validation, status and next steps
for a human and for an AI agent."""

from __future__ import annotations

import sys
from datetime import datetime

from runwright.bootstrap.artifacts import HOME, Context
from runwright.bootstrap.tokens import command_text
from runwright.bootstrap.tools import foreign_interpreter
from runwright.bootstrap.writer import Decision, sha256
from runwright.domain.bootstrap import (
    MISSING_PATH,
    ArtifactAction,
    ArtifactStatus,
    BootstrapReport,
    BootstrapStatus,
    GeneratedArtifact,
    NextSteps,
    ReportConfiguration,
    Selection,
    ValidationResults,
    report_status,
)
from runwright.domain.profiles import ProjectProfile


def artifacts(decisions: list[Decision], validation: ValidationResults) -> list[GeneratedArtifact]:
    """Each file with its status: failed when a finding names it, validated otherwise (created
    when it is new and nothing was said about it)."""
    failed = {e.path for e in validation.errors if e.path}
    out = []
    for d in decisions:
        if d.action is ArtifactAction.REMOVED:
            status = ArtifactStatus.VALIDATED
        elif d.rel in failed:
            status = ArtifactStatus.FAILED
        elif d.action is ArtifactAction.CREATED:
            status = ArtifactStatus.CREATED
        else:
            status = ArtifactStatus.VALIDATED
        digest = sha256(d.effective) if d.effective is not None else None
        out.append(
            GeneratedArtifact(
                path=d.rel, type=d.type, status=status, action=d.action, sha256=digest
            )
        )
    return out


def next_steps(
    status: BootstrapStatus,
    profile: ProjectProfile,
    ctx: Context,
    validation: ValidationResults,
    decisions: list[Decision],
    operators: list[str],
) -> NextSteps:
    """What a human should do next, and what an AI agent working here must follow."""
    c = profile.constraints
    human: list[str] = list(validation.human_decisions_needed)
    for w in validation.warnings:
        if w.code not in {MISSING_PATH, "low_confidence", "composition_conflict"}:
            human.append(w.message)
    kept = [d.rel for d in decisions if d.action is ArtifactAction.KEPT]
    if kept:
        human.append(
            f"{len(kept)} file(s) you edited were kept ({', '.join(kept[:3])}"
            f"{'…' if len(kept) > 3 else ''}); `runwright init --force` regenerates them"
        )
    if not ctx.agents():
        human.append(
            "install an agent CLI (claude, codex or aider) and rerun `runwright init`: until "
            "then the plan template's roles route to the generic tidy tool, which only formats, "
            "so `runwright plan run` stops at its preflight gate"
        )
    venv = foreign_interpreter(ctx.tools.get("python"), sys.prefix)
    if venv:
        human.append(
            f"commands in {HOME}/ run with {{python}}, the Python running runwright, not the "
            f"project's {venv}: install runwright into that virtualenv and run it from there, "
            "or replace {python} in those files"
        )
    if status is BootstrapStatus.READY or status is BootstrapStatus.PARTIAL:
        human.append(
            f"review {HOME}/policy.yaml (max {c.max_lines_changed or 'unlimited'} lines"
            f"{f', {c.max_files_changed} files' if c.max_files_changed else ''} per patch) and "
            f"{HOME}/router.yaml"
        )
        human.append(
            f"commit {HOME}/ (git add {HOME}): its .gitignore keeps the database, evidence, "
            "worktrees and logs out, so only the configuration is shared"
        )
        human.append(
            f"copy the plan template in {HOME}/plans/, describe your change in it and in "
            f"{HOME}/plans/test-spec.md, then run it test-first"
        )
    agent = [
        f"read {HOME}/profile.json: profile {profile.profile_id} ({profile.domain.value})",
        "make every change as a unified-diff patch inside the phase scopes in "
        f"{HOME}/phases/; never touch {', '.join(profile.resource_scope.forbidden[:6])}",
        f"keep each patch within {c.max_lines_changed or 'any number of'} lines"
        + (f" and {c.max_files_changed} files" if c.max_files_changed else "")
        + ("; added lines must be ASCII" if c.ascii_only else ""),
    ]
    if profile.test_command:
        verb = "must pass" if c.tests_must_pass else "should pass"
        agent.append(f"`{command_text(profile.test_command)}` {verb} before a patch is proposed")
    for op in operators:
        agent.append(f"run `runwright op run {op}` to check the project and leave evidence")
    if status is not BootstrapStatus.READY:
        agent.append(
            f"do not start workstreams: bootstrap status is {status.value}; wait for a human to "
            "resolve the items in bootstrap_report.json"
        )
    return NextSteps(for_human=human, for_ai_agent=agent)


def build_report(
    *,
    ctx: Context,
    profile: ProjectProfile,
    selection: Selection,
    decisions: list[Decision],
    validation: ValidationResults,
    operators: list[str],
    dry_run: bool,
    now: datetime,
) -> BootstrapReport:
    """The report, its status following the UET rules."""
    status = report_status(validation)
    c = profile.constraints
    return BootstrapReport(
        project_name=ctx.discovery.project_name,
        domain=ctx.discovery.domain,
        profile_id=profile.profile_id,
        status=status,
        generated_artifacts=artifacts(decisions, validation),
        configuration=ReportConfiguration(
            patch_only_mode=c.patch_only,
            test_requirement=c.tests_must_pass,
            max_lines_per_patch=c.max_lines_changed,
            available_tools=[t.tool_id for t in profile.available_tools],
        ),
        validation_results=validation,
        next_steps=next_steps(status, profile, ctx, validation, decisions, operators),
        ready_for_workstreams=status is BootstrapStatus.READY,
        project_root=".",
        domain_confidence=ctx.discovery.domain_confidence,
        selection_reason=selection.reason,
        profile_mapping=ctx.mapping,
        dry_run=dry_run,
        generated_at=now,
    )

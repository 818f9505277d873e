"""`runwright patch …`: submit, inspect and move patches through the ledger; run agent tools.

Every command takes --json. Commands that judge a patch (validate, apply, verify, agent) exit 1
when it did not reach the state asked for, after printing it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from runwright.api.patches import PatchesClient
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, one_line, print_json, styled_state
from runwright.domain.patches_context import PatchRecord
from runwright.domain.patches_ledger import PatchState

LEDGER_STYLES = {
    "created": "cyan",
    "validated": "blue",
    "queued": "yellow",
    "applied": "bold blue",
    "apply_failed": "red",
    "verified": "green",
    "committed": "bold green",
    "rolled_back": "dim",
    "quarantined": "magenta",
    "dropped": "dim",
}
NEXT = {
    "created": "runwright patch validate {id}",
    "validated": "runwright patch apply {id}",
    "applied": "runwright patch verify {id}",
    "verified": "runwright patch commit {id}",
    "apply_failed": "runwright patch apply {id}  (or drop it)",
    "quarantined": "runwright patch show {id}  (override: apply --override-quarantine --reason …)",
    "queued": "runwright patch recover  (if the applying process died)",
}
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _patches(app: AppContext) -> PatchesClient:
    return app.client().patches


def _state(state: str) -> Any:
    text = styled_state(state)
    text.stylize(LEDGER_STYLES.get(state, ""))
    return text


def _line(record: PatchRecord) -> str:
    scope = record.artifact.scope
    files = len(scope.files_touched) if scope else 0
    size = f"+{scope.line_insertions} -{scope.line_deletions}" if scope else "unparsed"
    return f"{files} file(s) {size}"


def _print_tail(tail: str | None) -> None:
    if tail is None:
        return
    lines = tail.count("\n") + 1
    console.print(f"  [red]test output (last {lines} lines):[/red]")
    for line in tail.splitlines():
        console.print(f"    {line}", markup=False, highlight=False, soft_wrap=True)


def _show(
    record: PatchRecord, *, expect: Sequence[PatchState] = (), tail: str | None = None
) -> None:
    entry = record.entry
    console.print(
        f"patch [bold]{record.patch_id}[/bold] ",
        _state(entry.state.value),
        f"  {_line(record)}",
        f"  {record.artifact.summary or ''}",
    )
    last = entry.state_history[-1]
    if last.reason:
        console.print(
            f"  [dim]{last.state.value}:[/dim] {last.reason}", markup=True, soft_wrap=True
        )
    _print_tail(tail)
    if entry.quarantine.is_quarantined:
        console.print(f"  [magenta]kept at[/magenta] {entry.quarantine.quarantine_path}")
    if entry.apply.commit_hash:
        console.print(f"  commit {entry.apply.commit_hash}")
    rel = entry.relations
    for label, value in (
        ("replaces", rel.replaces_patch_id),
        ("rollback of", rel.rollback_of_patch_id),
        ("chain", rel.chain_id),
    ):
        if value:
            console.print(f"  {label} {value}")
    hint = NEXT.get(entry.state.value)
    if hint:
        console.print(f"  [dim]next: {hint.format(id=record.patch_id)}[/dim]")
    if expect and entry.state not in expect:
        raise SystemExit(1)


def _emit(
    record: PatchRecord,
    as_json: bool,
    *,
    expect: Sequence[PatchState] = (),
    tail: str | None = None,
) -> None:
    if as_json:
        print_json(_with_tail(record, tail))
        if expect and record.entry.state not in expect:
            raise SystemExit(1)
        return
    _show(record, expect=expect, tail=tail)


def _with_tail(record: PatchRecord, tail: str | None) -> dict[str, Any]:
    """The record as JSON, with the end of its failed verification's output (or null)."""
    return {**record.model_dump(mode="json"), "test_output_tail": tail}


@click.group("patch")
def patch_group() -> None:
    """Patches: submit a diff, validate, apply and verify it in a worktree, commit or roll back."""


@patch_group.command("submit")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--summary", help="One line (≤512 chars); name the issue if policy requires it.")
@click.option("--run", "run_id", help="Record the patch's events in this run's log.")
@click.option("--phase", "phase_id", help="The phase the patch belongs to.")
@click.option("--tool", "tool_id", help="Who produced it (default: manual).")
@click.option("--base", "base_ref", help="The commit/branch the diff was made on (default HEAD).")
@click.option("--replaces", help="The id of a patch this one replaces (joins its chain).")
@click.option("--validate", "then_validate", is_flag=True, help="Validate it right away.")
@JSON
@pass_app
def submit(
    app: AppContext,
    file: Path,
    summary: str | None,
    run_id: str | None,
    phase_id: str | None,
    tool_id: str | None,
    base_ref: str | None,
    replaces: str | None,
    then_validate: bool,
    as_json: bool,
) -> None:
    """Submit FILE: a unified diff (.diff/.patch) or a patch artifact (.json/.yaml)."""
    patches = _patches(app)
    record = patches.submit_file(
        file,
        summary=summary,
        run_id=run_id,
        phase_id=phase_id,
        tool_id=tool_id,
        base_ref=base_ref,
        replaces=replaces,
    )
    expect: tuple[PatchState, ...] = ()
    if then_validate and record.entry.state is PatchState.CREATED:
        record = patches.validate(record.patch_id)
        expect = (PatchState.VALIDATED,)
    _emit(record, as_json, expect=expect)


@patch_group.command("list")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in PatchState]),
    help="Only patches in this state (repeatable).",
)
@click.option("--run", "run_id", help="Only patches of this run.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--before", help="Page: patches older than this patch id.")
@JSON
@pass_app
def list_patches(
    app: AppContext,
    states: tuple[str, ...],
    run_id: str | None,
    limit: int,
    before: str | None,
    as_json: bool,
) -> None:
    """List patches, newest first."""
    records = _patches(app).list(states=states, run_id=run_id, before=before, limit=limit)
    if as_json:
        print_json(records)
        return
    if not records:
        console.print("no patches yet — submit one with `runwright patch submit FILE`")
        return
    table = Table("state", "files", "tool", "summary")
    table.add_column("patch", no_wrap=True, min_width=26)
    for r in records:
        table.add_row(
            _state(r.entry.state.value),
            _line(r),
            r.artifact.origin.tool_id,
            r.artifact.summary or "",
            r.patch_id,
        )
    console.print(table)


@patch_group.command("show")
@click.argument("patch_id")
@click.option("--diff", "with_diff", is_flag=True, help="Print the diff too.")
@JSON
@pass_app
def show(app: AppContext, patch_id: str, with_diff: bool, as_json: bool) -> None:
    """Show a patch: artifact, scope, ledger state, validation and quarantine."""
    patches = _patches(app)
    record = patches.get(patch_id)
    tail = patches.test_output(record)
    if as_json:
        print_json(_with_tail(record, tail))
        return
    _show(record, tail=tail)
    v = record.entry.validation
    flags = ", ".join(
        f"{name}={getattr(v, name)}"
        for name in ("format_ok", "scope_ok", "constraints_ok", "tests_ran", "tests_passed")
    )
    console.print(f"  validation: {flags}", markup=False)
    for problem in v.validation_errors:
        console.print(f"    • {problem}", markup=False, soft_wrap=True)
    if record.artifact.scope:
        files = ", ".join(one_line(f) for f in record.artifact.scope.files_touched)
        console.print(f"  files: {files}", markup=False)
    if with_diff:
        console.print(record.artifact.diff_text, markup=False, highlight=False, soft_wrap=True)


@patch_group.command("ledger")
@click.argument("patch_id", required=False)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@JSON
@pass_app
def ledger(app: AppContext, patch_id: str | None, limit: int, as_json: bool) -> None:
    """The ledger: one patch's state history, or every entry's state and flags."""
    patches = _patches(app)
    if patch_id:
        entry = patches.get(patch_id).entry
        if as_json:
            print_json(entry)
            return
        table = Table("when", "state", "reason")
        for change in entry.state_history:
            table.add_row(
                change.at.isoformat(timespec="seconds"),
                _state(change.state.value),
                change.reason or "",
            )
        console.print(f"patch {patch_id} — apply attempts {entry.apply.attempts}")
        console.print(table)
        return
    entries = [r.entry for r in patches.list(limit=limit)]
    if as_json:
        print_json(entries)
        return
    table = Table("patch", "state", "format", "scope", "constraints", "tests", "attempts")
    for e in entries:
        v = e.validation
        tests = "-" if not v.tests_ran else ("passed" if v.tests_passed else "failed")
        table.add_row(
            e.patch_id,
            _state(e.state.value),
            str(v.format_ok),
            str(v.scope_ok),
            str(v.constraints_ok),
            tests,
            str(e.apply.attempts),
        )
    console.print(table if entries else "the ledger is empty")


@patch_group.command("validate")
@click.argument("patch_id")
@JSON
@pass_app
def validate(app: AppContext, patch_id: str, as_json: bool) -> None:
    """Check format, scope and policy: validated, or quarantined/dropped (exit 1)."""
    _emit(_patches(app).validate(patch_id), as_json, expect=(PatchState.VALIDATED,))


@patch_group.command("apply")
@click.argument("patch_id")
@click.option("--override-quarantine", is_flag=True, help="Re-apply a quarantined patch.")
@click.option("--reason", help="Why (required with --override-quarantine).")
@JSON
@pass_app
def apply(
    app: AppContext, patch_id: str, override_quarantine: bool, reason: str | None, as_json: bool
) -> None:
    """Apply in the patch's own worktree under .runwright/worktrees (your checkout is untouched)."""
    record = _patches(app).apply(patch_id, override=override_quarantine, reason=reason)
    _emit(record, as_json, expect=(PatchState.APPLIED,))


@patch_group.command("verify")
@click.argument("patch_id")
@click.option(
    "--test-command",
    "test_commands",
    multiple=True,
    help="A command to run in the worktree, split into argv like a shell would (never run by "
    "one). Repeatable. Default: the phase's, the router validators' or policy.yaml's.",
)
@click.option("--timeout", type=click.IntRange(min=1), help="Seconds per command.")
@JSON
@pass_app
def verify(
    app: AppContext,
    patch_id: str,
    test_commands: tuple[str, ...],
    timeout: int | None,
    as_json: bool,
) -> None:
    """Run the tests in the worktree: verified, or quarantined (exit 1)."""
    argvs = [shlex.split(c) for c in test_commands] or None
    patches = _patches(app)
    record = patches.verify(patch_id, test_commands=argvs, timeout_seconds=timeout)
    _emit(record, as_json, expect=(PatchState.VERIFIED,), tail=patches.test_output(record))


@patch_group.command("commit")
@click.argument("patch_id")
@click.option("--approved-by", multiple=True, help="A reviewer who approved it (repeatable).")
@click.option("--message", help="Commit message (default: the patch summary).")
@JSON
@pass_app
def commit(
    app: AppContext, patch_id: str, approved_by: tuple[str, ...], message: str | None, as_json: bool
) -> None:
    """Commit a verified patch to your current branch."""
    record = _patches(app).commit(patch_id, approved_by=approved_by, message=message)
    _emit(record, as_json)


@patch_group.command("rollback")
@click.argument("patch_id")
@click.option("--reason", help="Why.")
@click.option("--approved-by", multiple=True, help="Reviewers of the revert (repeatable).")
@JSON
@pass_app
def rollback(
    app: AppContext, patch_id: str, reason: str | None, approved_by: tuple[str, ...], as_json: bool
) -> None:
    """Roll back: discard an applied/verified patch, or revert a committed one with a new patch."""
    record = _patches(app).rollback(patch_id, reason=reason, approved_by=approved_by)
    expect = (PatchState.COMMITTED, PatchState.ROLLED_BACK)
    _emit(record, as_json, expect=expect)


@patch_group.command("drop")
@click.argument("patch_id")
@click.option("--reason", default="dropped by request", show_default=True)
@JSON
@pass_app
def drop(app: AppContext, patch_id: str, reason: str, as_json: bool) -> None:
    """Drop a patch (its worktree is removed)."""
    _emit(_patches(app).drop(patch_id, reason), as_json)


@patch_group.command("quarantine")
@click.argument("patch_id")
@click.option("--reason", required=True, help="Why it must not be applied.")
@JSON
@pass_app
def quarantine(app: AppContext, patch_id: str, reason: str, as_json: bool) -> None:
    """Quarantine a patch: kept with its reason, never re-applied without an override."""
    _emit(_patches(app).quarantine(patch_id, reason), as_json)


@patch_group.command("recover")
@click.option("--force", is_flag=True, help="Also settle applies owned by other hosts.")
@JSON
@pass_app
def recover(app: AppContext, force: bool, as_json: bool) -> None:
    """Settle applies interrupted by a crash; remove stale worktrees."""
    report = _patches(app).recover(force=force)
    if as_json:
        print_json(report.__dict__)
        return
    console.print(
        f"interrupted applies settled: {len(report.interrupted)}; still running: "
        f"{len(report.still_running)}; other hosts: {len(report.unknown_owner)}; worktrees "
        f"removed: {len(report.worktrees_removed)}"
    )


@patch_group.command("policy")
@JSON
@pass_app
def policy(app: AppContext, as_json: bool) -> None:
    """The effective patch policy of this project (built-in < global < project)."""
    effective = _patches(app).policy()
    if as_json:
        print_json(effective)
        return
    table = Table("constraint", "value", "set by")
    for name, value in effective.constraints.model_dump().items():
        table.add_row(name, str(value), effective.sources.get(name, ""))
    console.print(table)


def register(cli: click.Group) -> None:
    """Add the patch commands to the CLI."""
    from runwright.cli.route import agent_command

    patch_group.add_command(agent_command)
    cli.add_command(patch_group)

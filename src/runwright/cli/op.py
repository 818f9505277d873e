"""`runwright op list|show|validate|run|runs|next`: operators and their runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runwright.api.client import Client
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json, styled_state, to_jsonable
from runwright.domain.execmodel.checks import CheckStatus
from runwright.errors import ValidationError

if TYPE_CHECKING:
    from runwright.execmodel.opruns import OpRunView

OPS = click.option(
    "--ops",
    "source",
    type=click.Path(path_type=Path),
    help="An operator file or folder (default: .runwright/operators).",
)
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("op")
def op_group() -> None:
    """Operators: repeatable, timeboxed moves; each run is judged by its checks."""


def parse_inputs(pairs: tuple[str, ...]) -> dict[str, str]:
    """``k=v`` pairs as a dict."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--input")
        found[key.strip()] = value
    return found


def view_json(view: OpRunView) -> dict[str, Any]:
    """An op run as JSON: the record, the seed's OpRun and whether it counts."""
    return {
        "run_id": view.run.run_id,
        "state": view.run.state.value,
        "state_reason": view.run.state_reason,
        "record": to_jsonable(view.record),
        "op_run": to_jsonable(view.op_run),
        "counts": None if view.counting is None else view.counting.counts,
        "why": None if view.counting is None else view.counting.reasons,
        "pattern_gaps": None if view.counting is None else view.counting.pattern_gaps,
    }


def op_run_section(view: OpRunView) -> list[RenderableType]:
    """The op-run part of `run show` and `op run`: result, checks, pattern, counts and why."""
    rec, out = view.record, Text()

    def row(label: str, value: object, style: str = "") -> None:
        out.append(f"{label:<16}", style="bold")
        out.append(f"{value}\n", style=style)

    row("operator", rec.op_id)
    row("mode", f"{rec.mode_id} ({rec.mode_source.value})")
    if rec.block_id:
        row("block", rec.block_id)
    if rec.retry_of:
        row("retry of", rec.retry_of)
    if view.op_run is None:
        row("result", f"— (the run is {view.run.state.value})")
        return [Panel(out, title="op run", expand=False)]
    op_run = view.op_run
    row("result", op_run.result.value, str(styled_state(op_run.result.value).style))
    if op_run.over_timebox:
        row("timebox", "exceeded: stopped — needs a next pointer (reschedule or re-scope)", "red")
    for fired in op_run.stop_rules_fired:
        row("stop rule", f"{fired.rule_id}: {fired.detail} → {fired.then}", "yellow")
    if op_run.failure_path is not None:
        fp = op_run.failure_path
        extra = fp.to_mode or fp.retry_run_id or fp.debug_packet_id or fp.note
        row("failure path", f"{fp.action.value}" + (f" ({extra})" if extra else ""))
    if op_run.evidence_pattern is not None:
        met = [i.id for i in op_run.evidence_pattern.items if i.met]
        row("evidence", f"{op_run.mode_id} pattern: met {', '.join(met) or '—'}")
        if op_run.evidence_pattern.missing:
            row("  missing", ", ".join(op_run.evidence_pattern.missing), "red")
    counting = view.counting
    if counting is not None:
        if counting.counts:
            gaps = counting.pattern_gaps
            row(
                "counts",
                "yes (evidence and a next pointer)"
                + (f"; evidence pattern still missing {', '.join(gaps)}" if gaps else ""),
                "green" if not gaps else "yellow",
            )
        else:
            row("counts", "no: " + "; ".join(counting.reasons), "red")
    row("next pointer", op_run.next_pointer or "—")
    checks = Table("check", "type", "status", "evidence", "detail", title="acceptance results")
    for r in op_run.acceptance_results:
        checks.add_row(
            r.check_id,
            r.check_type.value,
            styled_state(r.status.value),
            str(len(r.evidence_links)),
            r.message[:90],
        )
    return [Panel(out, title=f"op run {rec.run_id}", expand=False), checks]


def _live_table(client: Client, run_id: str, title: str) -> Table:
    table = Table("kind", "id", "state", "result", "detail", title=title)
    for p in client.ops.progress(run_id):
        status = styled_state(p.status) if p.status else Text("")
        table.add_row(p.kind, p.id, styled_state(p.state), status, p.message)
    return table


class _LiveView:
    """The renderable a Live display refreshes from its own thread."""

    def __init__(self, client: Client):
        self.client = client
        self.run_id: str | None = None
        self.title = ""
        self.last: RenderableType = Text("starting…")

    def __call__(self) -> RenderableType:
        if self.run_id is None:
            return self.last
        try:
            self.last = _live_table(self.client, self.run_id, self.title)
        except Exception:  # the display never breaks the run; keep the last frame
            return self.last
        return self.last


@op_group.command("list")
@OPS
@JSON
@pass_app
def list_ops(app: AppContext, source: Path | None, as_json: bool) -> None:
    """The operators of a folder (default .runwright/operators)."""
    found = app.client().ops.operators(source)
    if as_json:
        print_json([{"path": str(lo.path), **lo.operator.model_dump(mode="json")} for lo in found])
        return
    table = Table("op_id", "name", "modes", "timebox", "checks", "file")
    for lo in found:
        op = lo.operator
        table.add_row(
            op.op_id,
            op.name,
            ", ".join(op.mode_ids),
            f"{op.timebox_minutes:g} min",
            str(len(op.acceptance_checks)),
            str(lo.path),
        )
    console.print(table)


@op_group.command("show")
@click.argument("op_id")
@OPS
@JSON
@pass_app
def show(app: AppContext, op_id: str, source: Path | None, as_json: bool) -> None:
    """One operator: its template (purpose … next pointer rule) and its recent runs."""
    ops = app.client().ops
    lo = ops.operator(op_id, source)
    op = lo.operator
    runs = ops.op_runs(op_id=op_id, limit=10)
    if as_json:
        print_json({"path": str(lo.path), "operator": op, "recent_runs": runs})
        return
    text = Text()
    for label, value in (
        ("name", op.name),
        ("purpose", op.purpose or "—"),
        ("modes", ", ".join(op.mode_ids)),
        ("timebox", f"{op.timebox_minutes:g} min"),
        ("preconditions", "; ".join(op.preconditions) or "—"),
        ("inputs", ", ".join(f"{k} ({v.type.value})" for k, v in op.inputs.items()) or "—"),
        ("steps", ", ".join(s.id for s in op.steps) or "—"),
        ("outputs", ", ".join(o.path for o in op.outputs) or "—"),
        ("checks", ", ".join(f"{c.id} ({c.check_type.value})" for c in op.acceptance_checks)),
        ("evidence", ", ".join(op.item_ids()) or "the mode's pattern"),
        (
            "failure paths",
            ", ".join(f"{f.when.value} → {f.action.value}" for f in op.failure_paths) or "—",
        ),
        ("next pointer", op.next_pointer_rule or "— (asked for at the end of a run)"),
        ("file", str(lo.path)),
    ):
        text.append(f"{label:<15}", style="bold")
        text.append(f"{value}\n")
    console.print(Panel(text, title=op.op_id, expand=False))
    if runs:
        table = Table("run", "mode", "result", "started", "timebox", title="recent runs")
        for r in runs:
            result = styled_state(r.result.value) if r.result else Text("running")
            table.add_row(
                r.run_id,
                r.mode_id,
                result,
                r.timestamp_start.isoformat(timespec="seconds"),
                "exceeded" if r.over_timebox else "",
            )
        console.print(table)


@op_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@JSON
@pass_app
def validate(app: AppContext, path: Path | None, as_json: bool) -> None:
    """Check operator files; each problem names the file and the field. Exit 1 if any."""
    results = app.client().ops.validate_operators(path)
    bad = [(p, problem) for p, problem in results if problem]
    if as_json:
        print_json(
            [{"path": str(p), "ok": problem is None, "problem": problem} for p, problem in results]
        )
    else:
        for p, problem in results:
            if problem is None:
                console.print(Text.assemble(("ok", "green"), f"   {p}"))
            else:
                console.print(Text.assemble(("bad", "red"), f"  {problem}"), highlight=False)
        if not results:
            console.print("no operator files found")
    if bad:
        raise SystemExit(1)


def _ask_next_pointer(view: OpRunView) -> str | None:
    if not sys.stdin.isatty():
        return None
    if view.record.over_timebox:
        choice = click.prompt(
            "the run went over its timebox — reschedule or re-scope?",
            type=click.Choice(["reschedule", "re-scope"]),
        )
        return f"{choice}: " + click.prompt("what exactly (one line)")
    text: str = click.prompt(
        "next pointer (one line: what to do next)", default="", show_default=False
    )
    return text.strip() or None


@op_group.command("run")
@click.argument("op_id")
@OPS
@click.option(
    "--input", "inputs", multiple=True, metavar="NAME=VALUE", help="An input (repeatable)."
)
@click.option("--mode", help="The mode (default: the active block's, or the operator's only one).")
@click.option("--project", "project_id", help="The project (exactly one; default: this project).")
@click.option("--next", "next_pointer", help="The run's one-line next pointer.")
@click.option(
    "--declare",
    type=click.Choice([s.value for s in CheckStatus]),
    help="The result you expect; refused if the checks say otherwise.",
)
@JSON
@pass_app
def run(
    app: AppContext,
    op_id: str,
    source: Path | None,
    inputs: tuple[str, ...],
    mode: str | None,
    project_id: str | None,
    next_pointer: str | None,
    declare: str | None,
    as_json: bool,
) -> None:
    """Run an operator: its steps, then its checks, in one mode, within its timebox."""
    client = app.client()
    ops = client.ops
    op = ops.operator(op_id, source).operator
    given = parse_inputs(inputs)
    live_view = _LiveView(client)

    def on_start(started: Any) -> None:
        live_view.run_id = started.run_id
        live_view.title = f"{op.op_id} · {started.mode_id} · run {started.run_id}"

    first = ops.start_op_run(op, given, mode=mode, project_id=project_id, source=source)
    if as_json:
        chain = ops.follow(first)
    else:
        with Live(get_renderable=live_view, console=console, refresh_per_second=4):
            chain = ops.follow(first, on_start=on_start)
        console.print()
    for earlier in chain[:-1]:
        retry = earlier.record.failure_path.retry_run_id if earlier.record.failure_path else None
        if retry and not earlier.run.next_pointer:
            ops.set_next_pointer(earlier.run.run_id, f"retried as run {retry}")
    final = chain[-1]
    line = next_pointer or ops.suggested_next_pointer(final.run.run_id)
    if line is None and not as_json:
        line = _ask_next_pointer(final)
    if line:
        ops.set_next_pointer(final.run.run_id, line)
    views = [ops.op_run(v.run.run_id) for v in chain]
    final = views[-1]
    if as_json:
        print_json([view_json(v) for v in views] if len(views) > 1 else view_json(final))
    else:
        for v in views:
            console.print(*op_run_section(v))
        if final.op_run is not None and not final.op_run.next_pointer:
            console.print(
                f'[dim]set the next pointer: runwright op next {final.run.run_id} "…"[/dim]'
            )
    result = final.record.result
    if declare and result is not None and declare != result.value:
        raise ValidationError(
            f"declared {declare} contradicts the acceptance results: the checks say {result.value}",
            hint=f"see `runwright run show {final.run.run_id}`",
            field="declare",
        )
    if result == CheckStatus.FAIL or final.counting is None or not final.counting.counts:
        raise SystemExit(1)


@op_group.command("runs")
@click.argument("op_id", required=False)
@click.option("--mode", "mode_id", help="Only runs in this mode.")
@click.option("--block", "block_id", help="Only runs in this block.")
@click.option("--project", "project_id", help="Only runs of this project.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@JSON
@pass_app
def runs(
    app: AppContext,
    op_id: str | None,
    mode_id: str | None,
    block_id: str | None,
    project_id: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Op runs, newest first."""
    found = app.client().ops.op_runs(
        op_id=op_id, mode_id=mode_id, block_id=block_id, project_id=project_id, limit=limit
    )
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("no op runs yet — `runwright op run OP_ID`")
        return
    table = Table("run", "operator", "mode", "result", "started", "note")
    for r in found:
        note = "over timebox" if r.over_timebox else ""
        if r.failure_path:
            note = (note + " " if note else "") + f"→ {r.failure_path.action.value}"
        table.add_row(
            r.run_id,
            r.op_id,
            r.mode_id,
            styled_state(r.result.value) if r.result else Text("running"),
            r.timestamp_start.isoformat(timespec="seconds"),
            note,
        )
    console.print(table)


@op_group.command("next")
@click.argument("run_id")
@click.argument("next_pointer")
@pass_app
def next_(app: AppContext, run_id: str, next_pointer: str) -> None:
    """Record an op run's next pointer (over its timebox: "reschedule: …" or "re-scope: …")."""
    ops = app.client().ops
    ops.set_next_pointer(run_id, next_pointer)
    view = ops.op_run(run_id)
    counts = view.counting
    verdict = (
        "counts"
        if counts and counts.counts
        else "does not count: " + "; ".join(counts.reasons if counts else ["not finished"])
    )
    console.print(f"next pointer of {run_id} set; the run {verdict}")


def register(cli: click.Group) -> None:
    """Add the op commands to the CLI."""
    cli.add_command(op_group)

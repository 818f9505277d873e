"""`runwright block start|status|end|switch|list|show`: time blocks, one mode each."""

from __future__ import annotations

import click
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import ago, console, print_json, styled_state
from runwright.domain.execmodel.blocks import Block, BlockType

PROJECT = click.option("--project", "project_id", help="Project id (default: this project's).")
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("block")
def block_group() -> None:
    """Time blocks: one mode per block; a block ends with evidence and a next pointer."""


def _panel(block: Block, now_text: str = "") -> Panel:
    text = Text()

    def row(label: str, value: object) -> None:
        text.append(f"{label:<12}", style="bold")
        text.append(f"{value}\n")

    row("title", block.title)
    row("type", block.block_type.value)
    mode = block.mode_id or "—"
    if block.mode_override:
        mode += f" (override; keywords said {block.classified_mode_id or 'nothing'})"
    elif block.mode_id and block.classified_mode_id == block.mode_id:
        mode += " (classified from the title)"
    row("mode", mode)
    if block.tags:
        row("tags", ", ".join(block.tags))
    row("status", block.status.value)
    row("started", block.started_at.isoformat(timespec="seconds") + now_text)
    if block.planned_minutes:
        row("planned", f"{block.planned_minutes:g} min")
    row("runs", len(block.run_ids))
    row("evidence", f"{len(block.evidence_links)} link(s)")
    if block.governance_artifact:
        row(
            "artifact",
            f"{block.governance_artifact.path} ({block.governance_artifact.sha256[:12]}…)",
        )
    if block.previous_block_id:
        row("switched", f"from block {block.previous_block_id}")
    if block.ended_at:
        row("ended", block.ended_at.isoformat(timespec="seconds"))
    row("next", block.next_pointer or "—")
    return Panel(text, title=f"block {block.block_id}", expand=False)


@block_group.command("start")
@click.option("--title", required=True, help="What this block is about (classified into a mode).")
@click.option(
    "--type",
    "block_type",
    type=click.Choice([t.value for t in BlockType], case_sensitive=False),
    default="FOCUS",
    show_default=True,
)
@click.option("--mode", help="The block's mode (default: classified from the title).")
@click.option("--tag", "tags", multiple=True, help="A tag such as MODEL/ANALYZE (repeatable).")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), help="Planned length.")
@PROJECT
@JSON
@pass_app
def start(
    app: AppContext,
    title: str,
    block_type: str,
    mode: str | None,
    tags: tuple[str, ...],
    minutes: float | None,
    project_id: str | None,
    as_json: bool,
) -> None:
    """Start a block; MAINT and FOCUS need one mode (classified from --title if not given)."""
    block = app.client().ops.start_block(
        title,
        block_type=block_type.upper(),
        mode=mode,
        tags=tags,
        planned_minutes=minutes,
        project_id=project_id,
    )
    if as_json:
        print_json(block)
        return
    console.print(_panel(block))
    console.print(
        "[dim]runs started now carry its mode; end it with `runwright block end --next …`[/dim]"
    )


@block_group.command("status")
@PROJECT
@JSON
@pass_app
def status(app: AppContext, project_id: str | None, as_json: bool) -> None:
    """The active block: its runs, evidence, and stop rules that are due."""
    client = app.client()
    found = client.ops.block_report(project_id)
    if as_json:
        if found is None:
            print_json({"block": None})
            return
        print_json(
            {
                "block": found.block,
                "elapsed_minutes": round(found.elapsed_minutes, 2),
                "runs": [
                    {"run_id": r.run_id, "state": r.state, "job": r.job_name} for r in found.runs
                ],
                "due_stop_rules": found.due,
                "stop_rule_firings": found.firings,
            }
        )
        return
    if found is None:
        console.print('no active block — start one with `runwright block start --title "…"`')
        return
    console.print(_panel(found.block, f" ({ago(found.block.started_at, client.clock.now())})"))
    if found.runs:
        table = Table("run", "job", "state", title="runs in this block")
        for r in found.runs:
            table.add_row(r.run_id, r.job_name, styled_state(r.state.value))
        console.print(table)
    for rule in found.due:
        console.print(f"[yellow]stop rule due:[/yellow] {rule.detail} → {rule.then}")
    for firing in found.firings:
        console.print(f"[dim]stop rule fired: {firing.rule_id}: {firing.detail}[/dim]")


@block_group.command("end")
@click.option("--next", "next_pointer", help="The one-line next pointer (required unless FREE).")
@click.option("--artifact", help="A governance artifact (decision file) that closes the block.")
@click.option("--incomplete", is_flag=True, help="End without evidence: the block is incomplete.")
@PROJECT
@JSON
@pass_app
def end(
    app: AppContext,
    next_pointer: str | None,
    artifact: str | None,
    incomplete: bool,
    project_id: str | None,
    as_json: bool,
) -> None:
    """End the active block: completed with evidence (or --artifact) and a next pointer."""
    block = app.client().ops.end_block(
        next_pointer=next_pointer, artifact=artifact, incomplete=incomplete, project_id=project_id
    )
    if as_json:
        print_json(block)
        return
    console.print(_panel(block))
    console.print(f"block {block.block_id} {block.status.value}")


@block_group.command("switch")
@click.option("--mode", required=True, help="The new mode.")
@click.option("--next", "next_pointer", help="Next pointer of the block being ended.")
@click.option("--title", help="Title of the new block (default: the same).")
@click.option("--incomplete", is_flag=True, help="The ended block has no evidence: incomplete.")
@PROJECT
@JSON
@pass_app
def switch(
    app: AppContext,
    mode: str,
    next_pointer: str | None,
    title: str | None,
    incomplete: bool,
    project_id: str | None,
    as_json: bool,
) -> None:
    """Switch mode: the active block ends and a new block starts in --mode."""
    ended, started = app.client().ops.switch_block(
        mode, next_pointer=next_pointer, title=title, incomplete=incomplete, project_id=project_id
    )
    if as_json:
        print_json({"ended": ended, "started": started})
        return
    console.print(f"block {ended.block_id} {ended.status.value} ({ended.mode_id})")
    console.print(_panel(started))


@block_group.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@PROJECT
@JSON
@pass_app
def list_blocks(app: AppContext, limit: int, project_id: str | None, as_json: bool) -> None:
    """Blocks, newest first."""
    client = app.client()
    found = client.ops.list_blocks(project_id, limit=limit)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print('no blocks yet — `runwright block start --title "…"`')
        return
    table = Table("block", "type", "mode", "status", "started", "title", "next pointer")
    now = client.clock.now()
    for b in found:
        table.add_row(
            b.block_id,
            b.block_type.value,
            b.mode_id or "—",
            b.status.value,
            ago(b.started_at, now),
            b.title,
            b.next_pointer or "",
        )
    console.print(table)


@block_group.command("show")
@click.argument("block_id")
@JSON
@pass_app
def show(app: AppContext, block_id: str, as_json: bool) -> None:
    """One block with its runs and evidence."""
    block = app.client().ops.block(block_id)
    if as_json:
        print_json(block)
        return
    console.print(_panel(block))


def register(cli: click.Group) -> None:
    """Add the block commands to the CLI."""
    cli.add_command(block_group)

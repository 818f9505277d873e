"""`runwright debug new|show|list|hypothesis|experiment|conclude|close`: debug packets."""

from __future__ import annotations

import click
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json
from runwright.domain.execmodel.debug import DebugPacket, PacketStatus

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("debug")
def debug_group() -> None:
    """Debug packets: symptom, repro, ≤3 hypotheses, experiments with evidence, next pointer."""


def _show(packet: DebugPacket) -> None:
    text = Text()

    def row(label: str, value: object) -> None:
        text.append(f"{label:<19}", style="bold")
        text.append(f"{value}\n")

    row("status", packet.status.value)
    row("project", packet.project_id)
    row("mode", packet.mode_id or "—")
    row("symptom", packet.symptom)
    row("context", packet.context or "—")
    if packet.minimal_repro:
        r = packet.minimal_repro
        row("repro", " && ".join(r.commands))
        row("  expected", r.expected)
        row("  actual", r.actual)
    else:
        row("repro", "—")
    for h in packet.hypotheses:
        row(f"hypothesis {h.id}", h.text)
    for i, e in enumerate(packet.experiments, start=1):
        refs = ", ".join(f"{ref.kind}:{ref.ref}" for ref in e.evidence)
        row(f"experiment {i}", f"{e.change} → {e.result} [{refs}]")
    row("decision", packet.decision or "—")
    row("resolution/next", packet.resolution_or_next or "—")
    row("regression guard", packet.regression_guard or "—")
    if packet.time_spent_minutes is not None:
        row("time spent", f"{packet.time_spent_minutes:g} min")
    if packet.source_run_id:
        row("from run", packet.source_run_id)
    row("opened by", packet.opened_by)
    row("next pointer", packet.next_pointer or "—")
    console.print(Panel(text, title=f"debug packet {packet.packet_id}", expand=False))


def _out(packet: DebugPacket, as_json: bool, line: str) -> None:
    if as_json:
        print_json(packet)
    else:
        console.print(line)


@debug_group.command("new")
@click.option("--symptom", required=True, help="What is observable.")
@click.option("--context", default="", help="What changed recently, if known.")
@click.option("--repro", "commands", multiple=True, help="A command of the minimal repro.")
@click.option("--expected", help="Minimal repro: what should happen.")
@click.option("--actual", help="Minimal repro: what happens instead.")
@click.option("--inputs", default="", help="Minimal repro: the inputs it needs.")
@click.option("--mode", help="The mode of the work (CONTRACT needs a minimal repro).")
@click.option("--run", "run_id", help="The op run this packet is about.")
@click.option("--project", "project_id", help="The project (default: this project).")
@JSON
@pass_app
def new(
    app: AppContext,
    symptom: str,
    context: str,
    commands: tuple[str, ...],
    expected: str | None,
    actual: str | None,
    inputs: str,
    mode: str | None,
    run_id: str | None,
    project_id: str | None,
    as_json: bool,
) -> None:
    """Open a debug packet."""
    from runwright.execmodel.debugging import repro

    packet = app.client().ops.new_packet(
        symptom,
        context=context,
        repro=repro(commands, expected=expected, actual=actual, inputs=inputs),
        mode=mode,
        run_id=run_id,
        project_id=project_id,
    )
    _out(packet, as_json, f"debug packet {packet.packet_id} opened")


@debug_group.command("show")
@click.argument("packet_id")
@JSON
@pass_app
def show(app: AppContext, packet_id: str, as_json: bool) -> None:
    """One debug packet."""
    packet = app.client().ops.packet(packet_id)
    if as_json:
        print_json(packet)
        return
    _show(packet)


@debug_group.command("list")
@click.option("--status", type=click.Choice([s.value for s in PacketStatus]))
@click.option("--project", "project_id", help="Only this project's packets.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@JSON
@pass_app
def list_packets(
    app: AppContext, status: str | None, project_id: str | None, limit: int, as_json: bool
) -> None:
    """Debug packets, newest first."""
    found = app.client().ops.packets(project_id=project_id, status=status, limit=limit)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("no debug packets")
        return
    table = Table("packet", "status", "mode", "hyp.", "exp.", "symptom", "opened by")
    for p in found:
        table.add_row(
            p.packet_id,
            p.status.value,
            p.mode_id or "—",
            str(len(p.hypotheses)),
            str(len(p.experiments)),
            p.symptom[:60],
            p.opened_by,
        )
    console.print(table)


@debug_group.command("hypothesis")
@click.argument("packet_id")
@click.argument("text")
@JSON
@pass_app
def hypothesis(app: AppContext, packet_id: str, text: str, as_json: bool) -> None:
    """Add a hypothesis (at most 3: the stop rule fires past that)."""
    packet = app.client().ops.add_hypothesis(packet_id, text)
    h = packet.hypotheses[-1]
    _out(packet, as_json, f"hypothesis {h.id} added to {packet_id}")


@debug_group.command("experiment")
@click.argument("packet_id")
@click.option("--change", required=True, help="The change made.")
@click.option("--result", required=True, help="What happened.")
@click.option(
    "--evidence",
    multiple=True,
    help="A log/diff file, a run id, or note:TEXT (repeatable; at least one).",
)
@click.option("--hypothesis", "hypothesis_id", help="The hypothesis tested (h1, h2…).")
@JSON
@pass_app
def experiment(
    app: AppContext,
    packet_id: str,
    change: str,
    result: str,
    evidence: tuple[str, ...],
    hypothesis_id: str | None,
    as_json: bool,
) -> None:
    """Record an experiment; it needs evidence."""
    packet = app.client().ops.add_experiment(
        packet_id, change=change, result=result, evidence=evidence, hypothesis=hypothesis_id
    )
    _out(packet, as_json, f"experiment {len(packet.experiments)} recorded in {packet_id}")


@debug_group.command("conclude")
@click.argument("packet_id")
@click.option("--decision", required=True, help="What you conclude right now.")
@click.option("--resolution", required=True, help="The fix applied, or the next experiments.")
@click.option("--regression-guard", help="What prevents recurrence (test, gate, check).")
@click.option("--time-spent", type=click.FloatRange(min=0), help="Minutes (default: since opened).")
@JSON
@pass_app
def conclude(
    app: AppContext,
    packet_id: str,
    decision: str,
    resolution: str,
    regression_guard: str | None,
    time_spent: float | None,
    as_json: bool,
) -> None:
    """Conclude a packet: decision and resolution (or next experiments)."""
    packet = app.client().ops.conclude(
        packet_id,
        decision=decision,
        resolution_or_next=resolution,
        regression_guard=regression_guard,
        time_spent_minutes=time_spent,
    )
    _out(packet, as_json, f"debug packet {packet_id} concluded")


@debug_group.command("close")
@click.argument("packet_id")
@click.option("--next", "next_pointer", required=True, help="The explicit next pointer.")
@JSON
@pass_app
def close(app: AppContext, packet_id: str, next_pointer: str, as_json: bool) -> None:
    """Close a concluded packet with its next pointer."""
    packet = app.client().ops.close_packet(packet_id, next_pointer=next_pointer)
    _out(packet, as_json, f"debug packet {packet_id} closed")


def register(cli: click.Group) -> None:
    """Add the debug commands to the CLI."""
    cli.add_command(debug_group)

"""`runwright doctor`: store reachable, schema current, workers alive, nothing stranded."""

from __future__ import annotations

import click
from rich.table import Table

from runwright.api.client import open_database
from runwright.api.doctor import diagnose
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json
from runwright.engine.clock import SystemClock
from runwright.errors import RunwrightError
from runwright.store.core import SystemDatabase


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def doctor(app: AppContext, as_json: bool) -> None:
    """Check the store, the schema and the workers, and list stranded runs."""
    settings = app.settings
    db = open_database(settings)
    try:
        report = diagnose(
            db, SystemDatabase(db), SystemClock(), lease_seconds=settings.lease_seconds
        )
    except RunwrightError:
        db.dispose()
        raise
    db.dispose()
    if as_json:
        print_json(report)
    else:
        for check in report.checks:
            mark = "[green]✔[/green]" if check.ok else "[red]✘[/red]"
            line = f"{mark} {check.name}: {check.detail}"
            if check.hint and not check.ok:
                line += f" — {check.hint}"
            console.print(line)
        if report.stranded:
            table = Table("run", "state", "job", "problem", "what to do", title="Stranded runs")
            for s in report.stranded:
                table.add_row(s["run_id"], s["state"], s["job"], s["problem"], s["hint"])
            console.print(table)
    if not report.ok:
        raise SystemExit(1)


def register(cli: click.Group) -> None:
    """Add the doctor command to the CLI."""
    cli.add_command(doctor)

"""`runwright schema list|export|validate`: the JSON Schemas of every artifact."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from runwright import schemas
from runwright.cli.output import console, print_json


@click.group("schema")
def schema_group() -> None:
    """JSON Schemas of every artifact, made from the models."""


@schema_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_kinds(as_json: bool) -> None:
    """List the artifact kinds."""
    kinds = {k: (m.__doc__ or "").strip().splitlines()[0] for k, m in schemas.registry().items()}
    if as_json:
        print_json([{"kind": k, "description": d} for k, d in kinds.items()])
        return
    table = Table("kind", "what it is")
    for kind, doc in kinds.items():
        table.add_row(kind, doc)
    console.print(table)


@schema_group.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def export(directory: Path) -> None:
    """Write DIRECTORY/<kind>.schema.json for every artifact kind."""
    written = schemas.export(directory)
    console.print(f"wrote {len(written)} schemas to {directory}")


@schema_group.command("validate")
@click.argument("kind")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def validate(kind: str, file: Path, as_json: bool) -> None:
    """Check FILE (JSON or YAML) against the KIND artifact's schema."""
    problems = schemas.validate_file(kind, file)
    if as_json:
        print_json({"kind": kind, "file": str(file), "ok": not problems, "problems": problems})
    elif problems:
        console.print(f"[red]✘ {file} is not a valid {kind}:[/red]")
        for p in problems:
            console.print(f"  • {p}", markup=False)
    else:
        console.print(f"[green]✔ {file} is a valid {kind}[/green]")
    if problems:
        raise SystemExit(1)


def register(cli: click.Group) -> None:
    """Add the schema commands to the CLI."""
    cli.add_command(schema_group)

"""`runwright profile list|show`: the shipped profiles."""

from __future__ import annotations

import click
from rich.table import Table

from runwright.cli.output import console, print_json


@click.group("profile")
def profile_group() -> None:
    """The shipped profiles `runwright init` chooses from."""


@profile_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_profiles(as_json: bool) -> None:
    """Every profile with its domain and main constraints."""
    from runwright.bootstrap.catalog import profiles

    found = [p.extension for p in profiles().values()]
    if as_json:
        print_json(found)
        return
    table = Table("profile", "domain", "max lines", "max files", "tests must pass", "title")
    for ext in found:
        c = ext.adds_constraints
        table.add_row(
            ext.profile_id,
            ext.domain.value,
            str(c.max_lines_changed or "-"),
            str(c.max_files_changed or "-"),
            "-" if c.tests_must_pass is None else str(c.tests_must_pass).lower(),
            ext.title,
        )
    console.print(table)


@profile_group.command("show")
@click.argument("profile_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_profile(profile_id: str, as_json: bool) -> None:
    """One profile: what it adds, its validations, phases and operators."""
    from runwright.bootstrap.catalog import profile

    ext = profile(profile_id).extension
    if as_json:
        print_json(ext)
        return
    console.print(f"[bold]{ext.profile_id}[/bold] {ext.profile_version} — {ext.title}")
    console.print(f"  {ext.description}", soft_wrap=True)
    console.print(f"  domain: {ext.domain.value}")
    console.print(
        f"  constraints: {ext.adds_constraints.model_dump(exclude_none=True)}", soft_wrap=True
    )
    console.print(f"  resource types: {', '.join(r.type for r in ext.adds_resource_types)}")
    console.print(f"  change types: {', '.join(c.kind for c in ext.adds_change_types)}")
    console.print(f"  task kinds: {', '.join(ext.adds_task_kinds)}", soft_wrap=True)
    for vt in ext.adds_validation_types:
        tool = f" (needs {vt.tool})" if vt.tool else ""
        console.print(f"  validation {vt.type}: {' '.join(vt.command)}{tool}", soft_wrap=True)
    for ph in ext.phase_templates:
        console.print(f"  phase {ph.phase_id}: {ph.name} ({ph.category})")
    for op in ext.operators:
        console.print(f"  operator {op.file}")
    if ext.plan_template:
        console.print(f"  plan template: {ext.plan_template}")


def register(cli: click.Group) -> None:
    """Add `runwright profile` to the CLI."""
    cli.add_command(profile_group)

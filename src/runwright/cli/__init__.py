"""The `runwright` command: one group per area, one error boundary, --json on listings."""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from runwright.errors import RunwrightError
from runwright.version import __version__

#: Every command: its name → (the module of this package that defines it, its one-line help).
#: Modules are imported only when their command runs, so `runwright --help` stays fast; a test
#: checks this table against the commands the modules define.
COMMANDS: dict[str, tuple[str, str]] = {
    "block": (
        "block",
        "Time blocks: one mode per block; a block ends with evidence and a next pointer.",
    ),
    "classify": (
        "classify",
        "Map a session title to a mode: whole words, first mode in table order wins.",
    ),
    "db": ("db", "The store's schema: upgrade it, or show where it is."),
    "debug": (
        "debug",
        "Debug packets: symptom, repro, ≤3 hypotheses, experiments with evidence, next pointer.",
    ),
    "demo": (
        "demo",
        "Run a small durable job (tally a CSV by category) and print its run and evidence.",
    ),
    "doctor": ("doctor", "Check the store, the schema and the workers, and list stranded runs."),
    "event": ("event", "Events of event workflows."),
    "evidence": (
        "evidence",
        "Evidence of runs: list it, print one artifact, verify it has not been tampered with.",
    ),
    "inbox": (
        "inbox",
        "What needs a person: indeterminate mutations, escalations, stale inputs, steps in doubt.",
    ),
    "init": ("init", "Discover the repository at PATH and set up .runwright/ for it."),
    "input": ("input", "Inputs of event workflows: pending, done or skipped."),
    "model-stub": (
        "model_stub",
        "Answer Claude Code, Codex CLI and aider from a script, with no model and no network.",
    ),
    "modes": (
        "modes",
        "List the modes (or show one): intent, typical outputs, risk, evidence and stop rules.",
    ),
    "mutation": ("mutation", "External writes made by workflows, and decisions on those in doubt."),
    "op": ("op", "Operators: repeatable, timeboxed moves; each run is judged by its checks."),
    "patch": (
        "patch",
        "Patches: submit a diff, validate, apply and verify it in a worktree, commit or roll back.",
    ),
    "plan": (
        "plan",
        "Plans: phases delegated test-first through gates, with retries and escalation.",
    ),
    "profile": ("profile", "The shipped profiles `runwright init` chooses from."),
    "route": (
        "route",
        "Explain which tool a request is routed to, and why (exit 1 when rejected).",
    ),
    "run": ("runs", "Runs: list them, show one, follow its events, cancel or resolve it."),
    "schema": ("schema", "JSON Schemas of every artifact, made from the models."),
    "topic": ("topic", "Topics of event workflows and their events."),
    "tour": (
        "tour",
        "Tour runwright on a throwaway copy of an example repository (about ten seconds).",
    ),
    "ui": (
        "ui",
        "Serve the dashboard: runs, evidence, events, the inbox, and the human-only actions.",
    ),
    "worker": (
        "worker",
        "Claim ready runs (with a lease and heartbeats) and execute them, several at once where "
        "that is faster.",
    ),
    "workflow": (
        "workflow",
        "Event workflows: deploy them, see their state, pause, resume, run now.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when used (their help comes from ``COMMANDS``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(f"{__name__}.{COMMANDS[cmd_name][0]}")
            module.register(self)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [
            (
                name,
                COMMANDS[name][1] if name in COMMANDS else self.commands[name].get_short_help_str(),
            )
            for name in self.list_commands(ctx)
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--home",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="RUNWRIGHT_HOME",
    help="The .runwright directory to use (env RUNWRIGHT_HOME; default: found upward from here).",
)
@click.option(
    "--database-url",
    envvar="RUNWRIGHT_DATABASE_URL",
    help="SQLAlchemy URL of the store (env RUNWRIGHT_DATABASE_URL; default SQLite in --home).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.version_option(__version__, prog_name="runwright")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, database_url: str | None, debug: bool) -> None:
    """runwright: durable, evidence-first runs for people, scripts and AI coding agents."""
    from runwright.cli.context import AppContext

    ctx.obj = AppContext(home=home, database_url=database_url, debug=debug)
    ctx.call_on_close(ctx.obj.close)


def load_all() -> None:
    """Import every command (for tools that walk the whole tree, like documentation checks)."""
    for name in COMMANDS:
        cli.get_command(click.Context(cli), name)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI inside the error boundary."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="runwright", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        _err_line("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except RunwrightError as exc:
        _fail(exc, debug, f"error: {exc}")
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        _fail(
            exc,
            debug,
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
        )


def _fail(exc: BaseException, debug: bool, line: str) -> Any:
    if debug:
        traceback.print_exception(exc)
    _err_line(line, style="red")
    sys.exit(1)


def _err_line(line: str, style: str | None = None) -> None:
    from runwright.cli.output import err_console, one_line

    err_console.print(one_line(line), markup=False, style=style, soft_wrap=True)

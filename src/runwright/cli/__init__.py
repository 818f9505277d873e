"""The `runwright` command: one group per area, one error boundary, --json on listings."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

import click

from runwright.cli.context import AppContext
from runwright.cli.output import err_console
from runwright.errors import RunwrightError
from runwright.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    ctx.obj = AppContext(home=home, database_url=database_url, debug=debug)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    """Add every command group: each module of this package with a ``register(cli)``."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(cli)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI inside the error boundary."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="runwright", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        err_console.print("aborted")
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
    err_console.print(line, markup=False, style="red", soft_wrap=True)
    sys.exit(1)

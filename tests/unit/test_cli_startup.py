"""Start-up stays light: `import runwright` and `runwright --help` load no database, web or
test-helper code (names and commands load when first used), and the CLI's table of commands
says exactly what the command modules define."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest

from runwright.cli import COMMANDS

HEAVY = ("sqlalchemy", "alembic", "starlette", "uvicorn", "rich", "runwright.testing", "httpx")


def _imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import runwright",
        "import sys; from runwright.cli import main; sys.argv = ['runwright', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass",
    ],
    ids=["import", "help"],
)
def test_start_up_loads_no_database_web_or_test_code(code: str) -> None:
    """Neither importing the package nor printing the CLI's help imports the heavy parts."""
    loaded = _imported_after(code)
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY)
    assert heavy == []


def test_public_names_load_on_first_use() -> None:
    """Every name in runwright.__all__ is there when asked for, from the module that owns it."""
    import runwright

    for name in runwright.__all__:
        assert getattr(runwright, name) is not None, name
    from runwright import Client, job, testing

    assert Client.__module__ == "runwright.api.client"
    assert job.__module__ == "runwright.engine.registry"
    assert testing.__name__ == "runwright.testing"
    with pytest.raises(AttributeError):
        _ = runwright.no_such_name  # type: ignore[attr-defined]


def test_the_command_table_matches_what_the_modules_define() -> None:
    """Each module named in COMMANDS registers exactly its commands, with the same help."""
    defined: dict[str, str] = {}
    for module_name in sorted({m for m, _ in COMMANDS.values()}):
        group = click.Group()
        importlib.import_module(f"runwright.cli.{module_name}").register(group)
        for name, command in group.commands.items():
            defined[name] = command.get_short_help_str(limit=1000)
            assert COMMANDS[name][0] == module_name, name
    assert {name: help_ for name, (_, help_) in COMMANDS.items()} == defined

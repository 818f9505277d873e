"""A debug packet's repro command runs as printed: it keeps the flags the op run was started
with (`--home`, `--ops DIR`), from any folder, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from execmodel_ops import operator, write_op

from tests.workers import worker_env


def _env(home: Path, db_url: str) -> dict[str, str]:
    """The environment without RUNWRIGHT_HOME (the flags must say it); PostgreSQL's URL is
    kept, SQLite uses the home's own file."""
    env = worker_env(home, db_url)
    del env["RUNWRIGHT_HOME"]
    if db_url.startswith("sqlite"):
        del env["RUNWRIGHT_DATABASE_URL"]
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _rw(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_the_repro_of_a_failed_op_run_runs_as_printed(tmp_path: Path, db_url: str) -> None:
    """An operator loaded with --ops from outside the project, run with --home from another
    folder, fails and opens a debug packet. Its repro command names --home and --ops, and
    run through a shell from a third folder it runs the same operator again (a second op
    run, failing the same way) instead of stopping at `no operator`."""
    home = tmp_path / "project" / ".runwright"
    ops = tmp_path / "shared ops"
    write_op(
        ops,
        operator(
            op_id="EmptyContract",
            mode_ids=["CONTRACT"],
            inputs={"rows": {"type": "int", "default": 0}},
            failure_paths=[{"when": "fail", "action": "open_debug_packet"}],
            next_pointer_rule=None,
        ),
    )
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    env = _env(home, db_url)
    first = _rw(env, here, "--home", str(home), "op", "run", "EmptyContract", "--ops", str(ops))
    assert first.returncode == 1, first.stderr
    assert "error" not in first.stderr
    packets = json.loads(_rw(env, here, "--home", str(home), "debug", "list", "--json").stdout)
    [packet] = packets
    repro = packet["minimal_repro"]["commands"][0]
    argv = shlex.split(repro)
    assert argv[argv.index("--home") + 1] == str(home.resolve())
    assert argv[argv.index("--ops") + 1] == str(ops.resolve())
    again = subprocess.run(  # through a shell, as a person pastes it
        ["/bin/sh", "-c", repro],
        env=env,
        cwd=there,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert again.returncode == 1, again.stderr  # the same failing check, not an error
    assert "no operator" not in again.stderr
    assert "error" not in again.stderr
    listed = _rw(env, here, "--home", str(home), "op", "runs", "EmptyContract", "--json")
    assert len(json.loads(listed.stdout)) == 2

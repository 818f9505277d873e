"""`runwright tour`, the README's main job, as a user runs it: every step succeeds and
nothing is written outside the tour's folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_the_tour_runs_every_part_and_stays_in_its_folder(tmp_path: Path) -> None:
    """init → an op run that counts → a complete plan → a workflow: all in --dir; the working
    folder and HOME stay empty, and RUNWRIGHT_* settings of the caller are ignored."""
    folder, cwd, home = tmp_path / "tour", tmp_path / "cwd", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWRIGHT_")}
    env.update(HOME=str(home), RUNWRIGHT_HOME=str(tmp_path / "elsewhere"))
    done = subprocess.run(
        [sys.executable, "-m", "runwright", "tour", "--dir", str(folder), "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    steps = {s["name"]: s["details"] for s in json.loads(done.stdout)["steps"]}
    assert list(steps) == [
        "example repository",
        "runwright init",
        "operator run",
        "plan run",
        "workflow",
    ]
    assert steps["runwright init"]["status"] in {"ready", "partial"}
    assert steps["operator run"]["counts"] is True
    assert steps["plan run"]["status"] == "complete"
    assert len(steps["workflow"]["rows"]) == 3
    assert _tree(cwd) == []
    assert _tree(home) == []
    assert not (tmp_path / "elsewhere").exists()
    assert (folder / "greet" / ".runwright" / "state.db").is_file()


def test_the_tour_prints_where_to_look(tmp_path: Path) -> None:
    """Without --json the tour ends with the commands that show what it left behind."""
    done = subprocess.run(
        [sys.executable, "-m", "runwright", "tour", "--dir", str(tmp_path / "t")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Where to look" in done.stdout
    assert "runwright run list" in done.stdout
    assert "runwright inbox" in done.stdout

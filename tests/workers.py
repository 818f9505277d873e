"""Starting real worker processes for tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import JOBS_DIR

ROOT = Path(__file__).resolve().parents[1]


def worker_env(home: Path, db_url: str, lease: float = 30.0) -> dict[str, str]:
    """The environment a worker subprocess needs to find the store and the test jobs."""
    env = dict(os.environ)
    env.update(
        RUNWRIGHT_HOME=str(home),
        RUNWRIGHT_DATABASE_URL=db_url,
        RUNWRIGHT_LEASE_SECONDS=str(lease),
        RUNWRIGHT_POLL_SECONDS="0.05",
        PYTHONPATH=os.pathsep.join([str(JOBS_DIR), str(ROOT), env.get("PYTHONPATH", "")]),
    )
    return env


def start_worker(
    home: Path, db_url: str, *args: str, lease: float = 30.0, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `runwright worker` importing the test jobs."""
    argv = [sys.executable, "-m", "runwright", "worker", "--import", "engine_jobs"]
    argv += ["--import", "proc_jobs", *args]
    target = log or Path(os.devnull)
    with target.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            argv,
            env=worker_env(home, db_url, lease),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

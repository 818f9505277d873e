"""The DBOS side, driven from here: its own virtualenv, and one subprocess per measurement.

DBOS is installed with pip into ``bench/.venv-dbos`` (git-ignored) on first use, never into the
project's environment. ``peers/dbos_workloads.py`` runs there and prints its timings as one
JSON line; see that file for how DBOS is configured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbkinds import Target

BENCH_DIR = Path(__file__).resolve().parent
VENV_DIR = BENCH_DIR / ".venv-dbos"
PEER = BENCH_DIR / "peers" / "dbos_workloads.py"
RESULT_PREFIX = "BENCH_JSON:"
SUBPROCESS_TIMEOUT = 900.0


DEFAULT_QUEUE_POLL = 1.0  # DBOS's polling_interval_sec when none is given


@dataclass(frozen=True)
class DbosOptions:
    """How the DBOS peer is set up (see peers/dbos_workloads.py).

    ``side`` names the configuration in the results (``dbos``: the queue polled every 10 ms;
    ``dbos_default``: DBOS as it comes). ``None`` for the worker concurrency or the queue poll
    means the setting is not passed, so DBOS's own default applies (unlimited; 1 s).
    """

    python: Path
    version: str
    side: str = "dbos"
    worker_concurrency: int | None = None
    queue_poll: float | None = 0.01
    enqueue: str = "batch"

    def describe(self) -> dict[str, Any]:
        """The configuration, for the JSON results."""
        poll = self.queue_poll
        return {
            "side": self.side,
            "version": self.version,
            "venv": str(VENV_DIR),
            "w2_queue_worker_concurrency": (
                self.worker_concurrency
                if self.worker_concurrency is not None
                else "DBOS default (unlimited)"
            ),
            "w2_queue_polling_interval_sec": (
                poll if poll is not None else f"DBOS default ({DEFAULT_QUEUE_POLL:g})"
            ),
            "w2_enqueue": self.enqueue,
            "w3_children": "DBOS.start_workflow per child, layer waits on all handles",
            "sqlite_journal": "switched to WAL before launch; synchronous left at default FULL",
            "log_level": "WARNING",
        }


def venv_python() -> Path:
    """The DBOS virtualenv's interpreter."""
    return VENV_DIR / "bin" / "python"


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('dbos'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_dbos(spec: str = "dbos") -> tuple[Path, str]:
    """Create ``bench/.venv-dbos`` and ``pip install`` DBOS into it if needed."""
    python = venv_python()
    version = _installed_version(python)
    if version is not None:
        return python, version
    print(f"creating {VENV_DIR} and installing {spec} (first use only)...", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=VENV_DIR.exists()).create(VENV_DIR)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec],
        check=True,
    )
    version = _installed_version(python)
    if version is None:
        raise RuntimeError(f"installed {spec} into {VENV_DIR} but cannot import it")
    return python, version


def _peer(opts: DbosOptions, workload: str, url: str, extra: list[str]) -> dict[str, Any]:
    cmd = [str(opts.python), str(PEER), "--workload", workload, "--url", url, *extra]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"{workload} timed out after {SUBPROCESS_TIMEOUT:.0f}s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {
            "ok": False,
            "error": f"{workload}: no result (exit {proc.returncode}): " + " | ".join(tail),
        }
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    return result


def measure(target: Target, workload: str, sizes: Any, opts: DbosOptions) -> dict[str, Any]:
    """Run one DBOS measurement of ``workload`` on ``target``; errors are returned, not raised."""
    url = target.dbos_url
    if workload == "w1":
        return _peer(opts, "w1", url, ["--n", str(sizes.w1_steps)])
    if workload == "w3":
        return _peer(
            opts, "w3", url, ["--layers", str(sizes.w3_layers), "--width", str(sizes.w3_width)]
        )
    queue = [
        "--n",
        str(sizes.w2_runs),
        "--worker-concurrency",
        "none" if opts.worker_concurrency is None else str(opts.worker_concurrency),
        "--queue-poll",
        "default" if opts.queue_poll is None else str(opts.queue_poll),
    ]
    enqueue = _peer(opts, "w2-enqueue", url, [*queue, "--enqueue", opts.enqueue])
    if not enqueue.get("ok"):
        return enqueue
    drain = _peer(opts, "w2-drain", url, queue)
    if not drain.get("ok"):
        return drain
    drain["enqueue_seconds"] = enqueue["seconds"]
    drain["enqueue_launch_seconds"] = enqueue.get("launch_seconds")
    return drain

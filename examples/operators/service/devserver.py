"""A tiny service manager for a local HTTP server: start | stop | restart | status.

The server (``python -m http.server``) runs in its own session, detached from whoever started
it, with a pidfile and a log in ``--state``. Exit codes: 0 ok, 1 failed, 3 not running.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

WAIT_SECONDS = 10.0


def _pid(state: Path) -> int | None:
    try:
        pid = int((state / "server.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    """True for a live process (a zombie left for a busy init counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def start(port: int, state: Path) -> int:
    """Start the server unless it runs; wait until it answers."""
    if _pid(state) is not None and _answers(port):
        return 0
    state.mkdir(parents=True, exist_ok=True)
    www = state / "www"
    www.mkdir(exist_ok=True)
    (www / "index.html").write_text("<h1>ok</h1>\n")
    with (state / "server.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=www,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    (state / "server.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if _answers(port):
            print(f"started pid {proc.pid} on port {port}")
            return 0
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    print(f"the server did not answer on port {port}", file=sys.stderr)
    return 1


def stop(state: Path) -> int:
    """Stop the server's whole process group."""
    pid = _pid(state)
    if pid is None:
        print("not running")
        return 0
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and _pid(state) is not None:
        time.sleep(0.05)
    (state / "server.pid").unlink(missing_ok=True)
    print(f"stopped pid {pid}")
    return 0


def status(port: int, state: Path) -> int:
    """0 when the server runs and answers, 3 when it does not."""
    pid = _pid(state)
    if pid is not None and _answers(port):
        print(f"up: pid {pid}, port {port}")
        return 0
    print("down")
    return 3


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and act."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "restart", "status"])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--state", type=Path, default=Path(".runwright/devserver"))
    args = parser.parse_args(argv)
    if args.action == "start":
        return start(args.port, args.state)
    if args.action == "stop":
        return stop(args.state)
    if args.action == "status":
        return status(args.port, args.state)
    stop(args.state)
    return start(args.port, args.state)


if __name__ == "__main__":
    sys.exit(main())

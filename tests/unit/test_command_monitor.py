"""run_command's monitor: it sees a command's stdout as it arrives, and asking to stop kills
the whole process group at once (children too); a command that ends by itself is not
"stopped", and the monitor still sees all of its output."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from runwright.patches.commands import run_command


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped is dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def test_a_monitor_stop_kills_the_process_group_as_soon_as_it_asks(tmp_path: Path) -> None:
    """The command prints, starts a child, and sleeps; the monitor asks to stop on the printed
    word: both processes are gone long before the sleep would end."""
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time; "
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"open({str(pid_file)!r}, 'w').write(str(c.pid)); "
        "print('usage: 5000 tokens', flush=True); time.sleep(120)"
    )
    seen: list[bytes] = []

    def monitor(chunk: bytes) -> str | None:
        seen.append(chunk)
        return "budget: too many tokens" if b"5000" in b"".join(seen) else None

    started = time.monotonic()
    result = run_command(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        timeout=120,
        output_dir=tmp_path / "out",
        name="agent",
        monitor=monitor,
    )
    assert time.monotonic() - started < 30
    assert result.stopped == "budget: too many tokens"
    assert not result.ok
    assert not result.timed_out
    assert "stopped" in result.describe()
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)
    assert b"usage: 5000 tokens" in result.stdout_path.read_bytes()


def test_a_command_that_ends_by_itself_is_seen_whole_and_not_stopped(tmp_path: Path) -> None:
    """Every byte reaches the monitor, in order; its wish to stop on the last bytes, written
    as the command exits, changes nothing: the command exited 0."""
    seen: list[bytes] = []

    def monitor(chunk: bytes) -> str | None:
        seen.append(chunk)
        return "stop" if b"last" in chunk else None

    script = (
        "import os, sys\nfor i in range(2000): print('line', i)\n"
        "print('last', end='')\nsys.stdout.flush()\nos._exit(0)"
    )
    result = run_command(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        timeout=60,
        output_dir=tmp_path / "out",
        name="quick",
        monitor=monitor,
    )
    assert result.ok
    assert result.stopped is None
    assert b"".join(seen) == result.stdout_path.read_bytes()
    assert b"".join(seen).endswith(b"last")


def test_a_monitored_command_still_times_out(tmp_path: Path) -> None:
    """With a monitor that never objects, the timeout still kills a command that hangs."""
    result = run_command(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        cwd=tmp_path,
        timeout=0.5,
        output_dir=tmp_path / "out",
        name="hang",
        monitor=lambda chunk: None,
    )
    assert result.timed_out
    assert result.stopped is None

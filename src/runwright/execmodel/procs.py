"""Running argv commands for operators: never a shell, always a new process group, and the
whole group stopped on timeout, interrupt or exit."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TERM_GRACE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """How a command ended."""

    argv: list[str]
    exit_code: int | None
    timed_out: bool
    stdout_path: Path
    stderr_path: Path
    seconds: float
    error: str | None = None

    def exited_with(self, expected: int | Sequence[int]) -> bool:
        """True when the command ran to its end with one of ``expected``."""
        codes = [expected] if isinstance(expected, int) else list(expected)
        return not self.timed_out and self.error is None and self.exit_code in codes


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``proc``'s whole process group: SIGTERM, a short grace, then SIGKILL; reap it."""
    pgid = proc.pid
    try:
        if proc.poll() is None:
            _signal_group(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=TERM_GRACE_SECONDS)
    finally:
        _signal_group(pgid, signal.SIGKILL)  # also any child left behind by a finished leader
        if proc.poll() is None:
            proc.wait()


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None,
    stdout_path: Path,
    stderr_path: Path,
) -> CommandOutcome:
    """Run ``argv`` in its own session with output to files, bounded by ``timeout`` seconds."""
    stdout_path.parent.mkdir(parents=True, exist_ok=True)
    stderr_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    args = [str(a) for a in argv]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        try:
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except FileNotFoundError:
            return CommandOutcome(
                args, 127, False, stdout_path, stderr_path, 0.0, f"{args[0]}: command not found"
            )
        except PermissionError:
            return CommandOutcome(
                args, 126, False, stdout_path, stderr_path, 0.0, f"{args[0]}: not executable"
            )
        timed_out = False
        try:
            proc.wait(timeout=None if timeout is None else max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            stop_group(proc)
    return CommandOutcome(
        argv=args,
        exit_code=None if timed_out else proc.returncode,
        timed_out=timed_out,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        seconds=time.monotonic() - started,
    )

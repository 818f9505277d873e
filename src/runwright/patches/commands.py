"""Command templates and running commands: argv only, a timeout, output captured to files.

A template is a list of strings with placeholders ``{name}``. An element that is exactly a
placeholder whose value is a list (``{files}``) expands to that many arguments; otherwise the
value is substituted as text. Values are never interpreted by a shell. ``{{``/``}}`` are
literal braces.

``{python}`` is built in: unless the caller gives it, it is the interpreter running runwright,
resolved when the command is expanded (so configuration files name no machine's interpreter).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runwright.errors import ConfigError

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
PLACEHOLDERS = (
    "prompt_file",
    "prompt",
    "worktree",
    "files",
    "objective",
    "task_kind",
    "timeout",
    "repo",
    "run_id",
    "request_id",
    "python",
)


def builtin_values() -> dict[str, str]:
    """Placeholders every command may use, with their values in this process."""
    return {"python": sys.executable}


def expand(template: Sequence[str], values: Mapping[str, str | Sequence[str]]) -> list[str]:
    """The argv of ``template`` with ``values`` (and the built-ins) substituted; ConfigError
    on unknown names."""
    values = {**builtin_values(), **values}
    argv: list[str] = []
    for element in template:
        whole = _PLACEHOLDER.fullmatch(element)
        if whole and whole.group(1):
            value = _value(values, whole.group(1), element)
            if isinstance(value, str):
                argv.append(value)
            else:
                argv.extend(str(v) for v in value)
            continue

        def sub(m: re.Match[str], element: str = element) -> str:
            if m.group(0) == "{{":
                return "{"
            if m.group(0) == "}}":
                return "}"
            value = _value(values, m.group(1), element)
            return value if isinstance(value, str) else " ".join(str(v) for v in value)

        argv.append(_PLACEHOLDER.sub(sub, element))
    return argv


def with_python(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``{python}`` resolved and every other placeholder left as written (for
    text shown to people and agents, where other values are not known)."""
    python = builtin_values()["python"]

    def sub(m: re.Match[str]) -> str:
        return python if m.group(1) == "python" else m.group(0)

    return [_PLACEHOLDER.sub(sub, element) for element in argv]


def _value(
    values: Mapping[str, str | Sequence[str]], name: str, element: str
) -> str | Sequence[str]:
    if name not in values:
        raise ConfigError(
            f"command template element {element!r} uses unknown placeholder {{{name}}}",
            hint="known placeholders: " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
            field="command",
        )
    return values[name]


@dataclass(frozen=True)
class CommandResult:
    """How a command ended and where its output is."""

    argv: list[str]
    exit_code: int | None
    timed_out: bool
    seconds: float
    stdout_path: Path
    stderr_path: Path
    missing: bool = False
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """Exited 0 within the timeout, and no monitor stopped it."""
        return self.exit_code == 0 and not self.timed_out and self.stopped is None

    def describe(self) -> str:
        """One line: what ran and how it ended."""
        name = self.argv[0] if self.argv else "?"
        if self.missing:
            return f"{name}: command not found"
        if self.timed_out:
            return f"{name} timed out after {self.seconds:.0f}s"
        if self.stopped is not None:
            return f"{name} stopped after {self.seconds:.1f}s ({self.stopped})"
        return f"{name} exited {self.exit_code}"


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    output_dir: Path,
    name: str,
    stdin_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    monitor: Callable[[bytes], str | None] | None = None,
) -> CommandResult:
    """Run ``argv`` in ``cwd`` in its own process group; kill the group on timeout.

    stdout and stderr go to ``output_dir/name.stdout`` and ``.stderr``. A ``monitor`` sees
    stdout as it arrives (every chunk, in order, and the rest once the command ended); when it
    returns a reason, the whole process group is killed as on a timeout, and the result says
    why it was ``stopped``.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = output_dir / f"{name}.stdout", output_dir / f"{name}.stderr"
    full_env = {**os.environ, **(env or {})}
    started = time.monotonic()
    with (
        out_path.open("wb") as out,
        err_path.open("wb") as err,
        stdin_path.open("rb") if stdin_path else open(os.devnull, "rb") as stdin,
    ):
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                stdin=stdin,
                stdout=out,
                stderr=err,
                env=full_env,
                start_new_session=True,
            )
        except FileNotFoundError:
            err.write(f"command not found: {argv[0]}\n".encode())
            return CommandResult(list(argv), None, False, 0.0, out_path, err_path, missing=True)
        stopped: str | None = None
        if monitor is not None:
            code, timed_out, stopped = _watch(proc, out_path, started + timeout, monitor)
        else:
            try:
                code = proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                code, timed_out = None, True
    return CommandResult(
        list(argv),
        code,
        timed_out,
        time.monotonic() - started,
        out_path,
        err_path,
        stopped=stopped,
    )


#: How often a monitored command's new output is read.
WATCH_SECONDS = 0.05

#: How long a command a monitor wants stopped may take to end by itself first (its last
#: output often arrives while it is already exiting).
STOP_GRACE_SECONDS = 0.25


def _watch(
    proc: subprocess.Popen[bytes],
    out_path: Path,
    deadline: float,
    monitor: Callable[[bytes], str | None],
) -> tuple[int | None, bool, str | None]:
    """Wait for ``proc``, handing its new stdout to ``monitor``: (exit code, timed out, why it
    was stopped)."""
    with out_path.open("rb") as reader:
        while True:
            try:
                code: int | None = proc.wait(timeout=WATCH_SECONDS)
            except subprocess.TimeoutExpired:
                code = None
            chunk = reader.read()
            reason = monitor(chunk) if chunk else None
            if code is not None or proc.poll() is not None:
                # it ended by itself: the rest of its output is read, nothing is stopped
                rest = reader.read()
                if rest:
                    monitor(rest)
                return proc.returncode, False, None
            if reason is not None:
                if _ends_within(proc, STOP_GRACE_SECONDS):
                    # it was already on its way out: an end by itself, not a stop
                    rest = reader.read()
                    if rest:
                        monitor(rest)
                    return proc.returncode, False, None
                _kill_group(proc)
                return None, False, reason
            if time.monotonic() >= deadline:
                _kill_group(proc)
                return None, True, None


def _ends_within(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

"""What `runwright worker` prints while it works.

- by default, a summary read from the worker's counters on a timer: on a terminal one status
  area that updates in place (counts, runs/s, the runs in flight), elsewhere (a pipe, a log
  file) one line every few seconds while something changes, and a final line;
- ``--verbose``: a line per run as it ends (and the final line);
- ``--quiet``: nothing but errors.

Nothing is formatted or printed per run unless ``--verbose`` asks for it: the summary costs the
worker a few counter increments per run, whatever the rate.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from runwright.domain.states import RunState
from runwright.engine.worker import InFlight, Worker, WorkerStats
from runwright.store.core import Claim

Mode = Literal["live", "lines", "verbose", "quiet"]

#: Seconds between two summary lines when the output is not a terminal.
LINE_SECONDS = 5.0
#: The window runs/s is measured over on a terminal.
RATE_WINDOW_SECONDS = 2.0
#: At most this many runs in flight are listed under the live summary.
SHOWN_IN_FLIGHT = 8

_STYLES = {"succeeded": "green", "failed": "red", "waiting": "yellow"}


def choose_mode(*, verbose: bool, quiet: bool, lines: bool, console: Console) -> Mode:
    """``--quiet`` wins, then ``--verbose``; otherwise live on a terminal, lines elsewhere."""
    if quiet:
        return "quiet"
    if verbose:
        return "verbose"
    if lines or not console.is_terminal or console.is_dumb_terminal:
        return "lines"
    return "live"


def summary(stats: WorkerStats, running: int, rate: float | None) -> str:
    """``120 claimed, 117 succeeded, 1 failed, 2 parked, 3 running, 240 runs/s``."""
    parts = [f"{stats.claimed} claimed"]
    parts += [f"{n} {state}" for state, n in sorted(stats.finished.items())]
    if stats.parked:
        parts.append(f"{stats.parked} parked")
    if stats.abandoned:
        parts.append(f"{stats.abandoned} handed back")
    parts.append(f"{running} running")
    if rate is not None:
        parts.append(f"{rate:.0f} runs/s" if rate >= 10 else f"{rate:.1f} runs/s")
    return ", ".join(parts)


def _took(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


class _Rate:
    """Runs ended per second over a sliding window of samples."""

    def __init__(self, window: float):
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> float | None:
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.window:
            self.samples.popleft()
        first_at, first_done = self.samples[0]
        if now - first_at < 0.2:
            return None
        return (done - first_done) / (now - first_at)


class WorkerOutput:
    """Prints what a worker does, in one of the modes; ``start`` before the worker runs,
    ``stop`` after it returned."""

    def __init__(self, mode: Mode, console: Console, *, line_seconds: float = LINE_SECONDS):
        self.mode = mode
        self.console = console
        self.line_seconds = line_seconds
        self._worker: Worker | None = None
        self._began = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: Live | None = None
        self._rate = _Rate(RATE_WINDOW_SECONDS)
        self._prefix = f"worker {os.getpid()}"

    @property
    def on_run(self) -> Callable[[Claim, RunState | None, float], None] | None:
        """The per-run callback for the worker: only ``--verbose`` has one."""
        return self._line_per_run if self.mode == "verbose" else None

    def _line_per_run(self, claim: Claim, state: RunState | None, seconds: float) -> None:
        what = state.value if state else "handed back"
        style = _STYLES.get(what, "dim")
        run = claim.run
        self.console.print(
            f"[{style}]{what:<10}[/{style}] {run.run_id} {run.job_name} ({_took(seconds)})"
        )

    def start(self, worker: Worker) -> None:
        """Begin showing ``worker``'s progress."""
        self._worker = worker
        self._began = time.monotonic()
        if self.mode == "live":
            self._live = Live(
                get_renderable=self._render,
                console=self.console,
                refresh_per_second=4,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        elif self.mode == "lines":
            self._thread = threading.Thread(
                target=self._print_lines, name="runwright-worker-summary", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the display and print the final summary (not in quiet mode)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._live is not None:
            self._live.stop()
            return  # the last refresh above is the final summary
        if self.mode in {"lines", "verbose"} and self._worker is not None:
            stats, _ = self._worker.snapshot()
            elapsed = time.monotonic() - self._began
            rate = stats.done / elapsed if elapsed > 0 else None
            line = summary(stats, 0, rate)
            self.console.print(f"{self._prefix}: {line} in {elapsed:.1f}s", soft_wrap=True)

    # ---- the two summary forms --------------------------------------------------------
    def _print_lines(self) -> None:
        last: tuple[int, int, int] | None = None
        previous = (time.monotonic(), 0)
        while not self._stop.wait(self.line_seconds):
            assert self._worker is not None
            stats, flying = self._worker.snapshot()
            now = time.monotonic()
            seen = (stats.claimed, stats.done, len(flying))
            if seen == last:
                continue  # say nothing while nothing changes
            last = seen
            rate = (stats.done - previous[1]) / (now - previous[0])
            previous = (now, stats.done)
            stamp = time.strftime("%H:%M:%S")
            self.console.print(
                f"{stamp} {self._prefix}: {summary(stats, len(flying), rate)}", soft_wrap=True
            )

    def _render(self) -> Group:
        assert self._worker is not None
        stats, flying = self._worker.snapshot()
        now = time.monotonic()
        rate = self._rate.add(now, stats.done)
        head = Text(summary(stats, len(flying), rate), style="bold")
        if self._stop.is_set():
            elapsed = now - self._began
            head.append(f" in {elapsed:.1f}s", style="dim")
        return Group(head, *(self._in_flight(r, now) for r in _shown(flying)))

    @staticmethod
    def _in_flight(run: InFlight, now: float) -> Text:
        text = Text("  ")
        text.append(run.run_id, style="cyan")
        text.append(f" {run.job_name} ")
        text.append(_took(now - run.since), style="dim")
        return text


def _shown(flying: list[InFlight]) -> list[InFlight]:
    return sorted(flying, key=lambda r: r.since)[:SHOWN_IN_FLIGHT]

"""What `runwright worker` prints: the mode chosen from the flags and the terminal, the
summary line, the periodic lines off a terminal and the live area on one."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console

from runwright.cli.worker_output import WorkerOutput, choose_mode, summary
from runwright.engine.worker import InFlight, WorkerStats


class _FakeWorker:
    """Just what the output reads: counters and the runs in flight, changed by the test."""

    def __init__(self) -> None:
        self.stats = WorkerStats()
        self.flying: list[InFlight] = []

    def snapshot(self) -> tuple[WorkerStats, list[InFlight]]:
        return self.stats.copy(), list(self.flying)


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=120, highlight=False), out


def test_the_mode_follows_the_flags_then_the_terminal() -> None:
    """-q wins over --verbose, --verbose over the summary; the summary is live on a terminal
    and lines elsewhere (or when the supervisor asks its children for lines)."""
    tty, _ = _console(terminal=True)
    pipe, _ = _console(terminal=False)
    assert choose_mode(verbose=True, quiet=True, lines=False, console=tty) == "quiet"
    assert choose_mode(verbose=True, quiet=False, lines=False, console=tty) == "verbose"
    assert choose_mode(verbose=False, quiet=False, lines=False, console=tty) == "live"
    assert choose_mode(verbose=False, quiet=False, lines=True, console=tty) == "lines"
    assert choose_mode(verbose=False, quiet=False, lines=False, console=pipe) == "lines"


def test_the_summary_names_each_count_once() -> None:
    """The summary lists claimed, each end state, parked and handed back (when any), the
    runs in flight and the rate."""
    stats = WorkerStats(claimed=9, finished={"succeeded": 5, "failed": 1}, parked=2, abandoned=1)
    assert summary(stats, 3, 240.4) == (
        "9 claimed, 1 failed, 5 succeeded, 2 parked, 1 handed back, 3 running, 240 runs/s"
    )
    assert summary(WorkerStats(), 0, None) == "0 claimed, 0 running"
    assert summary(WorkerStats(), 0, 2.25).endswith("2.2 runs/s")


def test_off_a_terminal_a_line_every_few_seconds_while_things_change_then_a_final_one() -> None:
    """Lines mode prints a timestamped summary on its timer only when the counters moved,
    and a final line with the totals on stop; no per-run callback is installed."""
    console, out = _console(terminal=False)
    worker = _FakeWorker()
    output = WorkerOutput("lines", console, line_seconds=0.05)
    assert output.on_run is None
    worker.stats.claimed = 2
    worker.flying = [InFlight("R1", "tests.job", time.monotonic())]
    output.start(worker)  # type: ignore[arg-type]
    deadline = time.monotonic() + 10
    while "2 claimed" not in out.getvalue():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.3)  # nothing changes: nothing more is printed
    periodic = out.getvalue().splitlines()
    worker.stats.finished = {"succeeded": 2}
    worker.flying = []
    output.stop()
    lines = out.getvalue().splitlines()
    assert len(periodic) == 1
    assert re.match(r"\d\d:\d\d:\d\d worker \d+: 2 claimed, 1 running, [\d.]+ runs/s$", periodic[0])
    assert re.match(r"worker \d+: 2 claimed, 2 succeeded, 0 running, .* in [\d.]+s$", lines[-1])


def test_on_a_terminal_the_live_area_shows_counts_and_runs_in_flight() -> None:
    """Live mode redraws one area from the counters: the summary and the runs in flight; its
    last drawing (on stop) is the final summary."""
    console, out = _console(terminal=True)
    worker = _FakeWorker()
    output = WorkerOutput("live", console)
    output.start(worker)  # type: ignore[arg-type]
    worker.stats.claimed = 3
    worker.flying = [InFlight("RUNA", "tests.alpha", time.monotonic())]
    deadline = time.monotonic() + 10
    while "RUNA" not in out.getvalue():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    worker.stats.finished = {"succeeded": 3}
    worker.flying = []
    output.stop()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "tests.alpha" in text
    assert "3 claimed, 3 succeeded, 0 running" in text.splitlines()[-1]


def test_verbose_prints_a_line_per_run_and_quiet_prints_nothing() -> None:
    """--verbose installs the per-run callback; -q has none and prints nothing on stop."""
    from runwright.domain.states import RunState

    console, out = _console(terminal=False)
    verbose = WorkerOutput("verbose", console)
    assert verbose.on_run is not None

    class _Run:
        run_id = "RUNID"
        job_name = "tests.job"

    class _Claim:
        run = _Run()

    verbose.on_run(_Claim(), RunState.SUCCEEDED, 0.012)  # type: ignore[arg-type]
    assert re.search(r"succeeded\s+RUNID tests\.job \(12ms\)", out.getvalue())
    quiet_console, quiet_out = _console(terminal=False)
    quiet = WorkerOutput("quiet", quiet_console)
    assert quiet.on_run is None
    quiet.start(_FakeWorker())  # type: ignore[arg-type]
    quiet.stop()
    assert quiet_out.getvalue() == ""

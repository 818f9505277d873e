"""Counting what a measured workload costs: SQL statements, transactions, store calls, tickers.

Shared by ``profile_core.py`` and ``profile_workflows.py``. Everything here counts things that do
not depend on the machine's load (statements and transactions per unit), and times them too, so
that a slow workload can be traced to the round trips, the commits or the Python behind it.
"""

from __future__ import annotations

import cProfile
import ctypes
import functools
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from runwright.store import database, driver_sql

_SPACES = re.compile(r"\s+")
_SELECT_FROM = re.compile(r"^SELECT .*? FROM ", re.IGNORECASE)
_INSERT = re.compile(r"^(INSERT INTO \S+).*$", re.IGNORECASE)
_SET_VALUES = re.compile(r"=(%\(\w+\)s|\?|[^,]*?)(?=,| WHERE| RETURNING|$)")


def shape(statement: str, width: int = 110) -> str:
    """A statement with its column lists and parameters cut, so equal shapes group together."""
    text = _SPACES.sub(" ", statement).strip()
    text = _SELECT_FROM.sub("SELECT … FROM ", text)
    text = _INSERT.sub(r"\1 …", text)
    return text[:width]


class SqlTrace:
    """Counts and times every statement the engines send, and every transaction they commit.

    SQLite (and PostgreSQL over a worker's pinned connection) runs in autocommit mode with
    explicit ``BEGIN``/``COMMIT`` statements, which runwright sends to the driver directly
    (``runwright.store.database.driver_control``, wrapped here), as it sends its hot statements
    (``runwright.store.driver_sql.send``, wrapped too); other PostgreSQL transactions are seen
    through the engine's ``begin``/``commit`` events. A PostgreSQL statement outside a
    transaction (``single_statement``) commits by itself and is not counted as a transaction.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.commits = 0
        self.begins = 0

    @contextmanager
    def installed(self) -> Iterator[SqlTrace]:
        """Listen on every engine while the block runs."""
        hooks: list[tuple[str, Callable[..., Any]]] = [
            ("before_cursor_execute", self._before),
            ("after_cursor_execute", self._after),
            ("begin", self._begin),
            ("commit", self._commit),
        ]
        for name, fn in hooks:
            event.listen(Engine, name, fn)
        # driver_control (sqlite_control in older trees) sends BEGIN/COMMIT past the engine
        control_name = next(
            (n for n in ("driver_control", "sqlite_control") if hasattr(database, n)), None
        )
        control = getattr(database, control_name) if control_name else None
        if control is not None:
            setattr(database, str(control_name), self._control(control))
        send = getattr(driver_sql, "send", None)
        if send is not None:
            driver_sql.send = self._send(send)
        try:
            yield self
        finally:
            for name, fn in hooks:
                event.remove(Engine, name, fn)
            if control is not None:
                setattr(database, str(control_name), control)
            if send is not None:
                driver_sql.send = send

    def _send(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """The hot path's statements go to the driver's cursor, past the engine's events."""

        def timed(conn: Any, sql: str, params: Any, *, many: bool = False) -> Any:
            started = time.perf_counter()
            try:
                return original(conn, sql, params, many=many)
            finally:
                self._record(sql, time.perf_counter() - started)

        return timed

    def _control(self, original: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
        def timed(raw: Any, statement: str) -> None:
            started = time.perf_counter()
            try:
                original(raw, statement)
            finally:
                self._record(statement, time.perf_counter() - started)

        return timed

    def _record(self, statement: str, seconds: float) -> None:
        key = shape(statement)
        self.counts[key] += 1
        self.seconds[key] += seconds
        first = key.split(" ", 1)[0].upper()
        if first == "COMMIT":
            self.commits += 1
        elif first == "BEGIN":
            self.begins += 1

    def _before(self, conn: Any, _cur: Any, _st: str, *_args: Any) -> None:
        conn.info["_trace_started"] = time.perf_counter()

    def _after(self, conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        self._record(statement, time.perf_counter() - conn.info.pop("_trace_started", 0.0))

    def _begin(self, _conn: Any) -> None:
        self.begins += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def total(self) -> int:
        """Statements sent (BEGIN and COMMIT statements included, on SQLite)."""
        return sum(self.counts.values())

    def by_verb(self) -> dict[str, int]:
        """Statement counts by their first keyword."""
        verbs: dict[str, int] = defaultdict(int)
        for key, n in self.counts.items():
            verbs[key.split(" ", 1)[0].upper()] += n
        return dict(verbs)

    def lines(self, units: int, top: int = 40) -> list[str]:
        """The summary and the ``top`` statement shapes by total time."""
        total = self.total()
        sql_s = sum(self.seconds.values())
        out = [
            f"SQL statements: {total} ({total / units:.1f} per unit), "
            f"transactions committed: {self.commits} ({self.commits / units:.2f} per unit), "
            f"time in the driver: {sql_s:.3f}s ({sql_s / units * 1e3:.3f} ms per unit)"
        ]
        for verb, n in sorted(self.by_verb().items(), key=lambda kv: -kv[1]):
            out.append(f"  {verb:<10}{n:>8}{n / units:>8.2f} per unit")
        out.append(f"{'count':>7}{'per unit':>9}{'ms/unit':>9}  statement shape")
        for key, n in sorted(self.counts.items(), key=lambda kv: -self.seconds[kv[0]])[:top]:
            out.append(f"{n:>7}{n / units:>9.2f}{self.seconds[key] / units * 1e3:>9.3f}  {key}")
        return out


class MethodTimer:
    """Wraps the public methods of some classes to count calls and sum their wall time."""

    def __init__(self, *classes: type) -> None:
        self.classes = classes
        self.calls: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def installed(self) -> Iterator[MethodTimer]:
        """Wrap while the block runs."""
        saved: list[tuple[type, str, Any]] = []
        for cls in self.classes:
            for name in dir(cls):
                attr = getattr(cls, name)
                if name.startswith("_") or not callable(attr) or isinstance(attr, type):
                    continue
                if name in {"close", "db"}:
                    continue
                saved.append((cls, name, cls.__dict__.get(name, _MISSING)))
                setattr(cls, name, self._wrap(f"{cls.__name__}.{name}", attr))
        try:
            yield self
        finally:
            for cls, name, original in reversed(saved):
                if original is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, original)

    def _wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.calls[label] += 1
                self.seconds[label] += time.perf_counter() - started

        return timed

    def wrap_function(self, module: Any, name: str) -> Callable[[], None]:
        """Wrap ``module.name``; return the undo."""
        original = getattr(module, name)
        setattr(module, name, self._wrap(f"{module.__name__.rsplit('.', 1)[-1]}.{name}", original))
        return lambda: setattr(module, name, original)

    def lines(self, units: int) -> list[str]:
        """One line per method, slowest first (nested calls are counted in both)."""
        rows = sorted(self.seconds.items(), key=lambda kv: -kv[1])
        out = [f"{'method':<42}{'calls':>8}{'per unit':>9}{'mean ms':>9}{'ms/unit':>9}"]
        for name, total in rows:
            n = self.calls[name]
            out.append(
                f"{name:<42}{n:>8}{n / units:>9.2f}{total / n * 1e3:>9.3f}"
                f"{total / units * 1e3:>9.3f}"
            )
        return out


_MISSING = object()


class Profile:
    """Statement trace + method timer + optional cProfile, around one measured call."""

    def __init__(self, timer: MethodTimer, *, cprofile: bool, functions: list[Any]) -> None:
        self.sql = SqlTrace()
        self.timer = timer
        self.functions = functions  # (module, name) pairs to time as well
        self.profiler = cProfile.Profile() if cprofile else None

    @contextmanager
    def active(self) -> Iterator[Profile]:
        """Everything on while the block runs."""
        with ExitStack() as stack:
            stack.enter_context(self.sql.installed())
            stack.enter_context(self.timer.installed())
            for module, name in self.functions:
                stack.callback(self.timer.wrap_function(module, name))
            if self.profiler is not None:
                self.profiler.enable()
                stack.callback(self.profiler.disable)
            yield self

    def report(self, units: int, *, top: int, sort: str = "cumulative") -> str:
        """Every table, as text (the cProfile listing sorted by ``sort``)."""
        parts = ["\n".join(self.timer.lines(units)), "\n".join(self.sql.lines(units, top))]
        if self.profiler is not None:
            buf = io.StringIO()
            pstats.Stats(self.profiler, stream=buf).sort_stats(sort).print_stats(top)
            parts.append(buf.getvalue())
        return "\n\n".join(parts)


# ---- instruction counts (callgrind) ----------------------------------------------------------
#
# CPU time on a shared machine swings by half from one run to the next; the number of machine
# instructions a workload executes does not (it repeats to about 0.1 %). ``count_instructions``
# runs a profiling script again under valgrind's callgrind with instrumentation off, and the
# script switches it on only around the measured part (``callgrind_toggles``, a three-line C
# helper compiled with gcc against valgrind's header). Kernel time (fsync, network waits) is
# not counted: the figure is the user-space work of Python, SQLAlchemy and the drivers.

CALLGRIND_ENV = "RUNWRIGHT_PROFILE_CALLGRIND"
_TOGGLE_C = """#include <valgrind/callgrind.h>
void rw_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void rw_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT("measured"); }
"""


def under_callgrind() -> bool:
    """True inside the re-run that ``count_instructions`` started."""
    return os.environ.get(CALLGRIND_ENV) == "1"


def callgrind_toggles() -> tuple[Callable[[], None], Callable[[], None]]:
    """(start, stop): count instructions from start to stop (each stop dumps a file)."""
    lib = Path(os.environ["RUNWRIGHT_PROFILE_CALLGRIND_LIB"])
    dll = ctypes.CDLL(str(lib))
    return dll.rw_start, dll.rw_stop


def count_instructions(script: str, argv: list[str]) -> tuple[int, str]:
    """Run ``script argv`` under callgrind; return (instructions measured, its output)."""
    for tool in ("valgrind", "gcc"):
        if shutil.which(tool) is None:
            raise SystemExit(f"counting instructions needs {tool} (apt-get install valgrind gcc)")
    with tempfile.TemporaryDirectory(prefix="runwright-callgrind-") as tmp:
        source, lib = Path(tmp, "toggle.c"), Path(tmp, "libtoggle.so")
        source.write_text(_TOGGLE_C)
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", lib, source], check=True)
        env = dict(os.environ, **{CALLGRIND_ENV: "1", "RUNWRIGHT_PROFILE_CALLGRIND_LIB": str(lib)})
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={tmp}/cg.out",
                sys.executable,
                script,
                *argv,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"the run under callgrind failed:\n{done.stdout}\n{done.stderr}")
        total = 0
        for dump in Path(tmp).glob("cg.out*"):
            for line in dump.read_text().splitlines():
                if line.startswith("totals:"):
                    total += int(line.split()[1])
        return total, done.stdout

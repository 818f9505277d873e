"""Stopping a running step from outside: timeouts, cancellation and a lost lease.

In the main thread the interrupt arrives as SIGALRM and is raised by its handler (it also
breaks blocking calls like ``time.sleep``); in any other thread it is raised asynchronously
between bytecodes. An interrupt is only delivered while the step's own code runs, never
while the engine writes to the store.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT = "timeout"
CANCEL = "cancel"
LEASE_LOST = "lease_lost"
DEADLINE = "deadline"
STOP = "stop"


class Interrupt(BaseException):
    """Raised inside a step's code to stop it; ``cause`` says why."""

    def __init__(self, cause: str = TIMEOUT):
        super().__init__(cause)
        self.cause = cause


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int


class _SignalState:
    """The process-wide SIGALRM handler's state (installed once, never removed)."""

    lock = threading.Lock()
    active: Interrupter | None = None
    previous: Any = None


def _sigalrm(signum: int, frame: FrameType | None) -> None:
    target = _SignalState.active
    if target is not None and target.armed and target.pending is not None:
        raise Interrupt(target.pending)
    if callable(_SignalState.previous):
        _SignalState.previous(signum, frame)


# The C function behind signal.getsignal: the wrapper turns its answer into an enum member and,
# for a Python handler, fails at that first (a caught ValueError, a few microseconds per step).
_raw_getsignal: Callable[[int], Any] = importlib.import_module("_signal").getsignal


def _install_handler() -> None:
    """Make our SIGALRM handler the active one, chaining to whatever was there before."""
    if _raw_getsignal(signal.SIGALRM) is _sigalrm:
        return
    with _SignalState.lock:
        current = signal.getsignal(signal.SIGALRM)
        if current is not _sigalrm:
            _SignalState.previous = current
            signal.signal(signal.SIGALRM, _sigalrm)


class Watchdog:
    """One timer thread for the whole process: calls ``fire(token)`` when an armed deadline
    passes.

    A guarded block used to start (and cancel) a ``threading.Timer``, a new thread per block
    (about 0.2 ms, more on a busy machine; a workflow run has two such blocks). The watchdog's
    thread is started on first use and sleeps until the earliest armed deadline; arming a later
    deadline than the one it sleeps towards does not even wake it. ``token`` tells the callback
    which arming fired, so a deadline that passes just as its block ends never reaches the next
    one. After ``idle_seconds`` with nothing armed the thread ends (the next ``arm`` starts
    another); a forked child starts with a watchdog of its own.
    """

    idle_seconds = 30.0

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._armed: dict[int, tuple[float, Callable[[int], None]]] = {}
        self._tokens = 0
        self._waking_at: float | None = None  # the deadline the thread sleeps towards
        self._thread: threading.Thread | None = None

    def arm(self, timeout: float, fire: Callable[[int], None]) -> int:
        """Call ``fire(token)`` ``timeout`` seconds from now unless disarmed; return token."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._tokens += 1
            token = self._tokens
            self._armed[token] = (deadline, fire)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="runwright-timeouts", daemon=True
                )
                self._thread.start()
            elif self._waking_at is None or deadline < self._waking_at:
                self._cond.notify()
            return token

    def disarm(self, token: int) -> None:
        """Forget an armed deadline (the thread notices when it next wakes)."""
        with self._cond:
            self._armed.pop(token, None)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    due = [(t, fire) for t, (d, fire) in self._armed.items() if d <= now]
                    if due:
                        for token, _ in due:
                            del self._armed[token]
                        break
                    if not self._armed:
                        self._waking_at = None
                        if not self._cond.wait(self.idle_seconds) and not self._armed:
                            self._thread = None
                            return
                        continue
                    self._waking_at = min(d for d, _ in self._armed.values())
                    self._cond.wait(self._waking_at - now)
            for token, fire in due:
                try:
                    fire(token)
                except Exception:  # a callback's failure must not stop every other timeout
                    log.exception("timeout callback failed")


_WATCHDOG = Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG._reset)


class Interrupter:
    """Delivers at most one Interrupt into the thread running a step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.armed = False
        self.pending: str | None = None
        self._thread: threading.Thread | None = None
        self._timer_token: int | None = None
        self._async_sent = False
        self.requested: str | None = None

    def request(self, cause: str) -> None:
        """Ask the running step to stop; if none runs, the next boundary check sees it."""
        with self._lock:
            if self.requested is None or cause in {LEASE_LOST, CANCEL}:
                self.requested = cause
            if cause != STOP and self.armed and self.pending is None:
                self.pending = cause
                self._deliver()

    def _deliver(self) -> None:
        thread = self._thread
        if thread is None or thread.ident is None:
            return
        if thread is threading.main_thread():
            signal.pthread_kill(thread.ident, signal.SIGALRM)
        else:
            self._async_sent = _set_async_exc(thread.ident, Interrupt) == 1

    def _fire_timeout(self, token: int) -> None:
        with self._lock:
            if self.armed and self.pending is None and token == self._timer_token:
                self.pending = TIMEOUT
                self._deliver()

    @contextmanager
    def guard(self, timeout: float | None) -> Iterator[None]:
        """Run the block interruptibly, raising Interrupt(TIMEOUT) after ``timeout`` seconds."""
        thread = threading.current_thread()
        if thread is threading.main_thread():
            _install_handler()
        with self._lock:
            self._thread = thread
            self.pending = None
            self._async_sent = False
            self.armed = True
            _SignalState.active = self
            if self.requested is not None and self.requested != STOP:
                self.pending = self.requested
                self.armed = False
                raise Interrupt(self.requested)
            if timeout is not None:
                self._timer_token = _WATCHDOG.arm(timeout, self._fire_timeout)
        try:
            yield
        except Interrupt as exc:
            if self.pending is not None:
                exc.cause = (
                    self.pending
                )  # async delivery carries no cause; the interrupter knows it
            raise
        finally:
            with self._lock:
                self.armed = False
                if self._timer_token is not None:
                    _WATCHDOG.disarm(self._timer_token)
                    self._timer_token = None
                if self._async_sent and thread.ident is not None:
                    _set_async_exc(thread.ident, ctypes.py_object())  # clear an undelivered one
                    self._async_sent = False

    def reset(self) -> None:
        """Forget any request (between runs)."""
        with self._lock:
            self.requested = None
            self.pending = None

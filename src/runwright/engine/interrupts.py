"""Stopping a running step from outside: timeouts, cancellation and a lost lease.

In the main thread the interrupt arrives as SIGALRM and is raised by its handler (it also
breaks blocking calls like ``time.sleep``); in any other thread it is raised asynchronously
between bytecodes. An interrupt is only delivered while the step's own code runs, never
while the engine writes to the store.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

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


def _install_handler() -> None:
    """Make our SIGALRM handler the active one, chaining to whatever was there before."""
    with _SignalState.lock:
        current = signal.getsignal(signal.SIGALRM)
        if current is not _sigalrm:
            _SignalState.previous = current
            signal.signal(signal.SIGALRM, _sigalrm)


class Interrupter:
    """Delivers at most one Interrupt into the thread running a step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.armed = False
        self.pending: str | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
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

    def _fire_timeout(self) -> None:
        with self._lock:
            if self.armed and self.pending is None:
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
                self._timer = threading.Timer(timeout, self._fire_timeout)
                self._timer.daemon = True
                self._timer.start()
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
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                if self._async_sent and thread.ident is not None:
                    _set_async_exc(thread.ident, ctypes.py_object())  # clear an undelivered one
                    self._async_sent = False

    def reset(self) -> None:
        """Forget any request (between runs)."""
        with self._lock:
            self.requested = None
            self.pending = None

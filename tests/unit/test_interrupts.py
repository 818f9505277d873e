"""Interrupting running step code: timeouts, cancellation, and nothing after the step ends."""

from __future__ import annotations

import threading
import time

import pytest

from runwright.engine import interrupts
from runwright.engine.interrupts import Interrupt, Interrupter


def test_a_timeout_breaks_a_blocking_sleep_in_the_main_thread() -> None:
    """A step stuck in time.sleep is interrupted when its timeout passes."""
    it = Interrupter()
    finished: list[bool] = []

    def body() -> None:
        with it.guard(0.2):
            time.sleep(5)
            finished.append(True)

    with pytest.raises(Interrupt) as err:
        body()
    assert err.value.cause == interrupts.TIMEOUT
    assert not finished


def test_a_timeout_stops_a_busy_loop_in_another_thread() -> None:
    """In a non-main thread the interrupt is raised between bytecodes."""
    it = Interrupter()
    outcome: list[str] = []

    def body() -> None:
        try:
            with it.guard(0.2):
                while True:
                    sum(range(100))
        except Interrupt as exc:
            outcome.append(exc.cause)

    t = threading.Thread(target=body)
    t.start()
    t.join(10)
    assert outcome == [interrupts.TIMEOUT]


def test_cancel_requested_from_another_thread_reaches_the_step() -> None:
    """request(CANCEL) from a heartbeat thread interrupts the running step with CANCEL."""
    it = Interrupter()
    threading.Timer(0.1, it.request, args=(interrupts.CANCEL,)).start()
    with pytest.raises(Interrupt) as err, it.guard(None):
        time.sleep(5)
    assert err.value.cause == interrupts.CANCEL


def test_stop_is_not_delivered_into_a_running_step() -> None:
    """A graceful stop lets the step finish; only the boundary check sees it."""
    it = Interrupter()
    threading.Timer(0.05, it.request, args=(interrupts.STOP,)).start()
    with it.guard(None):
        time.sleep(0.2)
    assert it.requested == interrupts.STOP


def test_no_interrupt_arrives_after_the_guarded_block() -> None:
    """A timer that would fire after the step ended never raises later."""
    it = Interrupter()
    with it.guard(0.3):
        pass
    time.sleep(0.5)


def test_a_request_made_before_the_step_stops_it_at_once() -> None:
    """If cancel was asked before the step started, the step does not run."""
    it = Interrupter()
    it.request(interrupts.CANCEL)
    ran = False
    with pytest.raises(Interrupt), it.guard(None):
        ran = True
    assert not ran


def test_the_watchdog_fires_each_deadline_once_in_order_and_never_a_disarmed_one() -> None:
    """Deadlines armed out of order fire earliest first, each with its own token; a disarmed
    one never fires; a later deadline does not hold back an earlier one armed after it."""
    dog = interrupts.Watchdog()
    fired: list[int] = []
    done = threading.Event()

    def fire(token: int) -> None:
        fired.append(token)
        if len(fired) == 2:
            done.set()

    late = dog.arm(0.4, fire)
    dropped = dog.arm(0.1, fire)
    early = dog.arm(0.2, fire)
    dog.disarm(dropped)
    assert done.wait(5)
    time.sleep(0.3)
    assert fired == [early, late]


def test_a_timed_block_after_a_timed_block_gets_its_full_timeout() -> None:
    """The shared watchdog thread is reused: a block armed right after another one ended is
    interrupted after its own timeout, not at the deadline the earlier block had."""
    it = Interrupter()
    with it.guard(0.15):
        pass
    started = time.monotonic()
    with pytest.raises(Interrupt) as err, it.guard(0.6):
        time.sleep(5)
    assert err.value.cause == interrupts.TIMEOUT
    assert 0.5 <= time.monotonic() - started < 3

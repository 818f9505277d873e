"""The phase rules, enforced by the host: a violation is a logic failure (keepai §10 #5-#8)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import workflows_cases as wc
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.domain.workflows import EventStatus, Phase, RunStatus


@pytest.fixture
def h(client: Client) -> Iterator[Harness]:
    """'cases' deployed, first runs done."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.cases)
    harness.run()
    yield harness
    wc.reset()


def _producer_publish_without_input(ctx: Any) -> None:
    ctx.publish("in", "x:1", {"name": "x"})


def test_producer_publish_without_input_fails_logic_and_writes_nothing(h: Harness) -> None:
    """#5: a producer publish without input_id → failed:logic, and no event is written."""
    wc.SETTINGS["items"] = ["a"]
    wc.KNOBS["producer"].append(_producer_publish_without_input)
    h.wf.run_now("cases")
    h.run()
    run = h.last("feed")
    assert run.status is RunStatus.FAILED_LOGIC
    assert "input_id" in run.error
    assert h.events() == {}
    assert h.wf.inputs("cases") == []


def test_next_publish_with_input_id_fails_logic_and_writes_nothing(client: Client) -> None:
    """#5: a publish from next that passes input_id → failed:logic, no event written."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.chain)
    harness.run()
    wc.KNOBS["relay_next"].append(lambda ctx: ctx.publish("out", "o:1", {}, input_id="X"))
    harness.publish("a", workflow="chain")
    harness.run()
    run = harness.last("Relay", "chain")
    assert run.status is RunStatus.FAILED_LOGIC
    assert harness.events("chain", "out") == {}


def test_publish_to_an_undeclared_topic_fails_logic(h: Harness) -> None:
    """#7: a publish to a topic the handler did not declare → failed:logic."""
    wc.KNOBS["producer"].append(lambda ctx: ctx.publish("nowhere", "m", {}, input_id="i"))
    h.wf.run_now("cases")
    h.run()
    run = h.last("feed")
    assert run.status is RunStatus.FAILED_LOGIC
    assert "nowhere" in run.error


@pytest.mark.parametrize(
    ("hook", "call", "phase"),
    [
        ("prepare", lambda ctx: wc.ext.write("x"), Phase.PREPARING),
        ("mutate", lambda ctx: wc.ext.fetch("k"), Phase.MUTATING),
        ("mutate", lambda ctx: ctx.peek("in"), Phase.MUTATING),
        ("next", lambda ctx: wc.ext.fetch("k"), Phase.EMITTING),
        ("prepare", lambda ctx: ctx.publish("in", "m", {}), Phase.PREPARING),
        ("next", lambda ctx: ctx.register_input("s", "t", "i"), Phase.EMITTING),
    ],
    ids=[
        "write-in-prepare",
        "read-in-mutate",
        "peek-in-mutate",
        "read-in-next",
        "publish-in-prepare",
        "input-in-next",
    ],
)
def test_a_phase_violation_is_a_logic_failure_in_that_phase(
    h: Harness, hook: str, call: Any, phase: Phase
) -> None:
    """#8: a mutator in prepare, a read or peek in mutate, a read in next → LogicError,
    failed:logic, and the phase stays where the violation happened (no mutation made)."""
    wc.KNOBS[hook].append(call)
    h.publish("a")
    h.run()
    run = next(r for r in h.runs(handler="Work") if r.status is not RunStatus.COMMITTED)
    assert run.status is RunStatus.FAILED_LOGIC
    assert run.error_type == "PhaseViolation"
    assert run.phase is phase
    made = 1 if hook == "next" else 0  # next runs after the (applied) write
    assert wc.ext.calls == made
    assert len(h.mutations()) == made


def test_a_swallowed_violation_still_fails_the_run(h: Harness) -> None:
    """A violation caught by handler code still fails the run (the host remembers it)."""

    def sneaky(ctx: Any) -> None:
        try:
            wc.ext.write("x")
        except Exception:
            return

    wc.KNOBS["prepare"].append(sneaky)
    h.publish("a")
    h.run()
    failed = [r for r in h.runs(handler="Work") if r.status is RunStatus.FAILED_LOGIC]
    assert len(failed) == 1
    assert h.events()["item:a"].status is EventStatus.PENDING


def test_a_second_mutation_call_is_refused_even_if_the_first_is_swallowed(h: Harness) -> None:
    """One mutation per run: code that swallows the terminal unwind cannot call again."""

    def twice(ctx: Any) -> None:
        with contextlib.suppress(BaseException):
            wc.ext.write("first")
        wc.ext.write("second")

    wc.KNOBS["mutate"].append(twice)
    h.publish("a")
    h.run()
    assert wc.ext.calls == 1
    assert len(h.mutations()) == 1

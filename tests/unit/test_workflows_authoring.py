"""The authoring API: save-time validation, Prepared, tools and idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import runwright
from runwright import Prepared, Reconciliation, Tool, Workflow, mutation, read
from runwright.domain.workflows import ErrorClass, Reservation, Schedule
from runwright.errors import ValidationError
from runwright.workflows.context import idempotency_key
from runwright.workflows.errors import (
    AuthError,
    LogicError,
    PermissionDenied,
    TransientError,
    UncertainError,
    classify,
)
from runwright.workflows.schedule import next_run

NOW = datetime(2026, 1, 1, 12, 7, tzinfo=UTC)


class Shop(Tool):
    """A tool with a read, a mutation and a reconcile."""

    namespace = "shop"

    @read
    def orders(self) -> list[str]:
        return ["a"]

    @mutation
    def refund(self, order: str, amount: int, *, idempotency_key: str = "") -> dict[str, Any]:
        return {"order": order, "amount": amount, "key": idempotency_key}

    def reconcile(self, call: runwright.MutationCall) -> Reconciliation:
        return Reconciliation.failed()


def _consumer(wf: Workflow, **kw: Any) -> None:
    @wf.consumer(**kw)
    class C:
        def prepare(self, ctx: Any, state: Any) -> Any:
            return None

        def next(self, ctx: Any, prepared: Any, result: Any) -> Any:
            return None


def _valid() -> Workflow:
    wf = Workflow("ok", topics=["t"], tools=[Shop()])

    @wf.producer(publishes=["t"], every="5m")
    def p(ctx: Any, state: Any) -> Any:
        return state

    _consumer(wf, subscribe=["t"])
    return wf


def test_a_valid_workflow_gives_its_spec() -> None:
    """Topics, handlers, schedules and tools end up in the spec; the hash is stable."""
    wf = _valid()
    spec = wf.validate()
    assert [h.name for h in spec.handlers] == ["p", "C"]
    assert spec.handlers[0].schedule == Schedule(every="5m")
    assert spec.tools[0].reads == ["orders"]
    assert spec.tools[0].mutations == ["refund"]
    assert spec.tools[0].can_reconcile == ["refund"]
    assert wf.config_hash() == _valid().config_hash()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda wf: wf.producer(publishes=["t"])(lambda c, s: s), "no schedule"),
        (lambda wf: wf.producer(every="5m")(lambda c, s: s), "publishes no topic"),
        (
            lambda wf: wf.producer(publishes=["t"], every="5m", cron="* * * * *")(lambda c, s: s),
            "both",
        ),
        (lambda wf: wf.producer(publishes=["t"], cron="not a cron")(lambda c, s: s), "cron"),
        (lambda wf: wf.producer(publishes=["t"], every="5x")(lambda c, s: s), "interval"),
        (
            lambda wf: wf.producer(publishes=["nope"], every="5m")(lambda c, s: s),
            "does not declare",
        ),
        (_consumer, "subscribes to no topic"),
    ],
    ids=[
        "no-schedule",
        "no-topics",
        "both-schedules",
        "bad-cron",
        "bad-interval",
        "undeclared",
        "no-subscription",
    ],
)
def test_save_time_validation_names_the_problem(build: Any, message: str) -> None:
    """Producers without a schedule or topics, bad schedules, undeclared topics and consumers
    without a subscription are refused at deploy with a clear message."""
    wf = Workflow("bad", topics=["t"])
    _consumer(wf, subscribe=["t"], name="keep")
    build(wf)
    with pytest.raises(ValidationError, match=message):
        wf.validate()


def test_a_consumer_without_prepare_is_refused() -> None:
    """A consumer needs prepare."""
    wf = Workflow("bad", topics=["t"])

    @wf.consumer(subscribe=["t"])
    class NoPrepare:
        def next(self, ctx: Any, prepared: Any, result: Any) -> None:
            return None

    with pytest.raises(ValidationError, match="no prepare"):
        wf.validate()


def test_publishing_without_next_is_refused() -> None:
    """A consumer that publishes must have next (publishing happens there)."""
    wf = Workflow("bad", topics=["t", "u"])
    _consumer(wf, subscribe=["u"], name="sink")

    @wf.consumer(subscribe=["t"], publishes=["u"])
    class NoNext:
        def prepare(self, ctx: Any, state: Any) -> None:
            return None

    with pytest.raises(ValidationError, match="no next"):
        wf.validate()


def test_a_published_topic_nobody_subscribes_to_is_refused() -> None:
    """The busy-loop guard: every published topic needs a subscriber."""
    wf = Workflow("bad", topics=["t", "orphan"])
    _consumer(wf, subscribe=["t"])

    @wf.producer(publishes=["orphan"], every="1m")
    def p(ctx: Any, state: Any) -> Any:
        return state

    with pytest.raises(ValidationError, match="no consumer subscribes"):
        wf.validate()


def test_duplicate_handlers_and_tool_namespaces_are_refused() -> None:
    """Two handlers with one name, or two tools with one namespace, are refused."""
    wf = _valid()
    with pytest.raises(ValidationError, match="already has a handler"):
        _consumer(wf, subscribe=["t"])
    with pytest.raises(ValidationError, match="namespace"):
        wf.tool(Shop())


def test_prepared_accepts_the_dict_shape_and_ignores_a_bad_wake_at() -> None:
    """prepare may return the digest's dict; an invalid wakeAt is ignored."""
    p = Prepared.from_json(
        {
            "reservations": [{"topic": "t", "ids": ["m1"]}],
            "data": {"x": 1},
            "ui": {"title": "T"},
            "wakeAt": "soon",
        }
    )
    assert p.reservations == [Reservation(topic="t", ids=["m1"])]
    assert (p.data, p.title, p.wake_at) == ({"x": 1}, "T", None)
    with pytest.raises(LogicError, match="unknown keys"):
        Prepared.from_json({"reserve": []})
    with pytest.raises(LogicError):
        Prepared.from_json(["not", "a", "dict"])


def test_prepared_reserve_groups_by_topic() -> None:
    """Prepared.reserve takes (topic, id) pairs and groups them, without duplicates."""
    p = Prepared.reserve([("a", "1"), ("b", "2"), ("a", "1"), ("a", "3")])
    assert p.reservations == [
        Reservation(topic="a", ids=["1", "3"]),
        Reservation(topic="b", ids=["2"]),
    ]
    assert p.reserved_count == 3


def test_idempotency_key_is_stable_and_specific() -> None:
    """The same logical write gets the same key; other events or params get another."""
    r = [Reservation(topic="t", ids=["b", "a"])]
    k1 = idempotency_key("w", "c", r, "shop", "refund", {"order": "a", "amount": 1})
    k2 = idempotency_key(
        "w",
        "c",
        [Reservation(topic="t", ids=["a", "b"])],
        "shop",
        "refund",
        {"amount": 1, "order": "a"},
    )
    assert k1 == k2
    assert k1 != idempotency_key("w", "c", r, "shop", "refund", {"order": "a", "amount": 2})
    assert k1 != idempotency_key(
        "w", "c", [Reservation(topic="t", ids=["a"])], "shop", "refund", {"order": "a", "amount": 1}
    )


def test_tools_outside_a_handler_are_plain_calls() -> None:
    """Outside a handler a tool's methods just run (no ledger, no rules)."""
    assert Shop().refund("a", 3, idempotency_key="k") == {"order": "a", "amount": 3, "key": "k"}


def test_errors_are_classified_by_type_never_by_message() -> None:
    """The class comes from the exception type; handler code errors are logic, tool internals
    are internal."""
    assert classify(TransientError("logic error!")) is ErrorClass.TRANSIENT
    assert classify(AuthError("x")) is ErrorClass.AUTH
    assert classify(PermissionDenied("x")) is ErrorClass.PERMISSION
    assert classify(UncertainError("x")) is ErrorClass.UNCERTAIN
    assert classify(KeyError("timeout")) is ErrorClass.LOGIC
    assert classify(KeyError("x"), from_tool=True) is ErrorClass.INTERNAL


def test_schedules() -> None:
    """Intervals add to now; cron gives the next matching minute."""
    assert (next_run(Schedule(every="5m"), NOW) - NOW).total_seconds() == 300
    assert next_run(Schedule(cron="*/15 * * * *"), NOW) == NOW.replace(minute=15)

"""Scriptable workflows for the workflow tests: each hook runs what the test queued for it.

``KNOBS[hook]`` is a queue of behaviours (None, an exception to raise, or a callable taking
``ctx``); ``SEEN`` records what the handlers observed. ``reset()`` before each test.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import runwright
from runwright import Prepared, Reconciliation, Tool, mutation, read

KNOBS: dict[str, list[Any]] = defaultdict(list)
SETTINGS: dict[str, Any] = {}
SEEN: dict[str, list[Any]] = defaultdict(list)


class Crash(BaseException):
    """Stands for the worker process dying at this point."""


def reset() -> None:
    """Forget every queued behaviour and observation."""
    KNOBS.clear()
    SETTINGS.clear()
    SEEN.clear()
    ext.applied.clear()
    ext.calls = 0


def act(hook: str, ctx: Any = None) -> None:
    """Run the next behaviour queued for ``hook``."""
    queue = KNOBS.get(hook)
    if not queue:
        return
    behaviour = queue.pop(0)
    if behaviour is None:
        return
    if isinstance(behaviour, BaseException):
        raise behaviour
    behaviour(ctx)


class External(Tool):
    """A fake external system that applies each idempotency key once, with a reconcile."""

    namespace = "ext"

    def __init__(self) -> None:
        super().__init__()
        self.applied: dict[str, Any] = {}
        self.calls = 0

    @read
    def fetch(self, key: str) -> Any:
        """A read."""
        SEEN["reads"].append(key)
        return self.applied.get(key)

    @mutation
    def write(self, item: str, *, idempotency_key: str) -> dict[str, Any]:
        """Apply once per key; the queued ``call`` behaviour may fail before or after applying."""
        self.calls += 1
        queue = KNOBS.get("call")
        behaviour = queue.pop(0) if queue else None
        if behaviour == "apply_then_crash":
            self.applied.setdefault(idempotency_key, {"id": f"w-{item}"})
            raise Crash()
        if behaviour == "crash":
            raise Crash()
        if isinstance(behaviour, tuple) and behaviour[0] == "apply_then":
            self.applied.setdefault(idempotency_key, {"id": f"w-{item}"})
            raise behaviour[1]
        if isinstance(behaviour, BaseException):
            raise behaviour
        result = self.applied.setdefault(idempotency_key, {"id": f"w-{item}"})
        SEEN["written"].append(item)
        return dict(result)

    def reconcile(self, call: runwright.MutationCall) -> Reconciliation:
        """The queued verdict, else look the key up."""
        SEEN["reconciles"].append(call.idempotency_key)
        queue = KNOBS.get("reconcile")
        behaviour = queue.pop(0) if queue else "lookup"
        if isinstance(behaviour, BaseException):
            raise behaviour
        if behaviour == "retry":
            return Reconciliation.retry("cannot tell yet")
        if behaviour == "failed":
            return Reconciliation.failed()
        if behaviour == "applied":
            return Reconciliation.applied({"id": "reconciled"})
        found = self.applied.get(call.idempotency_key)
        return Reconciliation.applied(found) if found is not None else Reconciliation.failed()


class Plain(Tool):
    """A tool whose writes cannot be verified (no reconcile)."""

    namespace = "plain"

    @mutation
    def send(self, item: str) -> dict[str, Any]:
        """A webhook-like call."""
        queue = KNOBS.get("plain")
        behaviour = queue.pop(0) if queue else None
        if isinstance(behaviour, BaseException):
            raise behaviour
        SEEN["sent"].append(item)
        return {"sent": item}


ext = External()
plain = Plain()

# ---- "cases": one producer, one consumer that writes once per event --------------------
cases = runwright.Workflow("cases", topics=["in"], tools=[ext, plain])


@cases.producer(publishes=["in"], every="1h")
def feed(ctx: Any, state: Any) -> Any:
    """Publishes SETTINGS['items'] (none by default)."""
    SEEN["producer_state"].append(state)
    act("producer", ctx)
    for item in SETTINGS.get("items", []):
        input_id = ctx.register_input("src", "item", item, title=f"Item {item}")
        ctx.publish("in", f"item:{item}", {"name": item}, input_id=input_id)
    return {"runs": (state or {}).get("runs", 0) + 1}


@cases.consumer(subscribe=["in"])
class Work:
    """Reserves SETTINGS['batch'] (1) pending events, writes the first, counts in its state."""

    def prepare(self, ctx: Any, state: Any) -> Any:
        SEEN["prepare_state"].append(state)
        act("prepare", ctx)
        events = ctx.peek("in", limit=SETTINGS.get("batch", 1))
        SEEN["peeked"].append([e.message_id for e in events])
        return Prepared.reserve(
            events,
            data={"items": [e.payload["name"] for e in events]},
            title=f"write {', '.join(e.message_id for e in events)}",
            wake_at=SETTINGS.get("wake_at"),
        )

    def mutate(self, ctx: Any, prepared: Prepared) -> None:
        act("mutate", ctx)
        if SETTINGS.get("tool") == "none":
            return
        tool = plain.send if SETTINGS.get("tool") == "plain" else ext.write
        tool(prepared.data["items"][0])
        SEEN["after_call"].append(True)

    def next(self, ctx: Any, prepared: Prepared, result: runwright.MutationResult) -> Any:
        SEEN["next"].append(result)
        ids = ",".join(i for r in prepared.reservations for i in r.ids)
        SEEN["results"].append((ids, result))
        act("next", ctx)
        return {"done": len(SEEN["next"])}


# ---- "chain": a consumer that re-publishes, and a sink --------------------------------
chain = runwright.Workflow("chain", topics=["in", "out"], tools=[ext])


@chain.producer(publishes=["in"], every="1d")
def chain_feed(ctx: Any, state: Any) -> Any:
    """Publishes nothing unless told to."""
    act("chain_producer", ctx)
    return state


@chain.consumer(subscribe=["in"], publishes=["out"])
class Relay:
    """Reserves everything pending and re-publishes it to ``out`` from next."""

    def prepare(self, ctx: Any, state: Any) -> Any:
        return Prepared.reserve(ctx.peek("in"), data=None)

    def next(self, ctx: Any, prepared: Prepared, result: Any) -> Any:
        act("relay_next", ctx)
        for r in prepared.reservations:
            for mid in r.ids:
                ctx.publish("out", f"relayed:{mid}", {"from": mid})
        return None


@chain.consumer(subscribe=["out"])
class Sink:
    """Reserves and consumes everything on ``out``."""

    def prepare(self, ctx: Any, state: Any) -> Any:
        events = ctx.peek("out")
        SEEN["sink"].append([e.message_id for e in events])
        return Prepared.reserve(events)


# ---- "hourly": a cron producer ----------------------------------------------------------
hourly = runwright.Workflow("hourly", topics=["ticks"])


@hourly.producer(publishes=["ticks"], cron="0 * * * *")
def tick(ctx: Any, state: Any) -> Any:
    """Counts its runs."""
    SEEN["ticks"].append(ctx.now())
    return (state or 0) + 1


@hourly.consumer(subscribe=["ticks"])
class Ticks:
    """Nothing to do."""

    def prepare(self, ctx: Any, state: Any) -> Any:
        return None

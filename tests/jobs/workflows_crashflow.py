"""The crash-test workflow: a consumer whose mutation POSTs to a real local HTTP server.

``RW_CRASH_URL`` is the server; ``RW_CRASH_CONTROL`` a JSON file of delays (seconds) the test
changes between kills: ``pre_send`` (after the ledger row, before the request) and ``in_next``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

import runwright
from runwright import Prepared
from runwright.workflows.builtin import HttpJsonTool


def delay(name: str) -> float:
    """A delay from the control file (0 if none)."""
    path = os.environ.get("RW_CRASH_CONTROL")
    if not path or not Path(path).exists():
        return 0.0
    return float(json.loads(Path(path).read_text() or "{}").get(name, 0.0))


class SlowApi(HttpJsonTool):
    """The HTTP tool, with an optional pause between the ledger row and the request."""

    def _send(self, method: str, path: str, *, write: bool, **kwargs: Any) -> httpx.Response:
        if write:
            time.sleep(delay("pre_send"))
        return super()._send(method, path, write=write, **kwargs)


api = SlowApi(
    "api",
    os.environ.get("RW_CRASH_URL", "http://127.0.0.1:9"),
    lookup="/items/by-key/{idempotency_key}",
    timeout=10,
)
wf = runwright.Workflow("crashflow", topics=["orders"], tools=[api])


@wf.producer(publishes=["orders"], every="1d")
def feed(ctx: Any, state: Any) -> Any:
    """Orders arrive from the test (published from outside)."""
    return state


@wf.consumer(subscribe=["orders"])
class Post:
    """POST one order per run."""

    def prepare(self, ctx: Any, state: Any) -> Any:
        events = ctx.peek("orders", limit=1)
        return Prepared.reserve(
            events, data=[e.payload["item"] for e in events], title="post order"
        )

    def mutate(self, ctx: Any, prepared: Prepared) -> None:
        api.post("/items", {"item": prepared.data[0]})

    def next(self, ctx: Any, prepared: Prepared, result: runwright.MutationResult) -> Any:
        time.sleep(delay("in_next"))
        return {"last": result.result}

"""A workflow that posts each order to a real HTTP server (``workflows_http``) and cannot look
a write up: a write whose answer is lost goes to a person at once.

``point_at(url)`` aims the tool at the test's server before a worker runs.
"""

from __future__ import annotations

import threading
from typing import Any

import runwright
from runwright import Prepared
from runwright.workflows.builtin import HttpJsonTool

api = HttpJsonTool("api", "http://127.0.0.1:9", timeout=1.0)
wf = runwright.Workflow("corrections", topics=["orders"], tools=[api])


def point_at(url: str) -> None:
    """Send the tool's requests to ``url`` (from every thread's next client on)."""
    api.close()
    api.base_url = url.rstrip("/")
    api._local = threading.local()


@wf.consumer(subscribe=["orders"])
class Post:
    """Posts one order per run with the order's current payload."""

    def prepare(self, ctx: Any, state: Any) -> Any:
        events = ctx.peek("orders", limit=1)
        return Prepared.reserve(events, data=[e.payload for e in events], title="post the order")

    def mutate(self, ctx: Any, prepared: Prepared) -> None:
        order = prepared.data[0]
        api.post("/items", {"item": order["item"], "amount": order["amount"]})

    def next(self, ctx: Any, prepared: Prepared, result: runwright.MutationResult) -> Any:
        return {"last": result.status.value}

"""A deterministic workflow for the CLI tests (run by real subprocesses).

The producer publishes the items named in ``RW_CLI_ITEMS`` (comma separated); writing an item
whose name starts with ``unsure`` times out without a way to verify it (indeterminate).
"""

from __future__ import annotations

import os
from typing import Any

import runwright
from runwright import Prepared, Tool, UncertainError, mutation


class Hook(Tool):
    """A webhook: no reconcile."""

    namespace = "hook"

    @mutation
    def send(self, item: str) -> dict[str, str]:
        """Times out for 'unsure…' items."""
        if item.startswith("unsure"):
            raise UncertainError(f"POST /hook for {item} timed out")
        return {"sent": item}


hook = Hook()
wf = runwright.Workflow("clidemo", topics=["in"], tools=[hook])


@wf.producer(publishes=["in"], every="1h")
def feed(ctx: Any, state: Any) -> Any:
    """Publish RW_CLI_ITEMS."""
    for item in filter(None, os.environ.get("RW_CLI_ITEMS", "").split(",")):
        input_id = ctx.register_input("cli", "item", item, title=f"Item {item}")
        ctx.publish("in", f"item:{item}", {"name": item}, input_id=input_id)
    return state


@wf.consumer(subscribe=["in"])
class Send:
    """Send one item per run."""

    def prepare(self, ctx: Any, state: Any) -> Any:
        events = ctx.peek("in", limit=1)
        return Prepared.reserve(events, data=[e.payload["name"] for e in events], title="send item")

    def mutate(self, ctx: Any, prepared: Prepared) -> None:
        hook.send(prepared.data[0])

    def next(self, ctx: Any, prepared: Prepared, result: runwright.MutationResult) -> Any:
        return {"last": result.status.value}

"""Helpers for workflow tests: one in-process worker on the fake clock, and quick reads."""

from __future__ import annotations

from typing import Any

from workflows_cases import Crash

from runwright.api.client import Client
from runwright.domain.workflows.models import HandlerRun, Mutation, TopicEvent, WorkflowRecord
from runwright.engine.worker import Worker


class Harness:
    """Drives one workflow deployment with an in-process worker; a restart is a new worker."""

    def __init__(self, client: Client):
        self.client = client
        self.worker: Worker = client.worker(register=False)

    @property
    def wf(self) -> Any:
        """The workflows facade."""
        return self.client.workflows

    def deploy(self, target: Any) -> WorkflowRecord:
        """Deploy a Workflow object."""
        return self.wf.deploy(target)

    def run(self) -> None:
        """Work until nothing is ready (the scheduler ticks between runs)."""
        self.worker.run(until_idle=True)

    def run_crashing(self) -> None:
        """Work until a simulated crash escapes the worker (the run stays leased)."""
        try:
            self.worker.run(until_idle=True)
        except Crash:
            return
        raise AssertionError("the run did not crash")

    def restart(self, *, after: float = 10.0) -> None:
        """The lease expires and a new worker process starts."""
        self.client.clock.advance(after)  # type: ignore[attr-defined]
        self.worker = self.client.worker(register=False)

    def advance(self, seconds: float) -> None:
        """Move the fake clock."""
        self.client.clock.advance(seconds)  # type: ignore[attr-defined]

    def runs(self, workflow: str = "cases", handler: str | None = None) -> list[HandlerRun]:
        """Handler runs, oldest first."""
        items = self.wf.runs(workflow, limit=1000)[::-1]
        return [r for r in items if handler is None or r.handler == handler]

    def last(self, handler: str = "Work", workflow: str = "cases") -> HandlerRun:
        """The newest run of a handler."""
        return self.runs(workflow, handler)[-1]

    def events(self, workflow: str = "cases", topic: str = "in") -> dict[str, TopicEvent]:
        """Events by message id."""
        return {e.message_id: e for e in self.wf.events(workflow, topic, limit=1000)}

    def mutations(self, workflow: str = "cases") -> list[Mutation]:
        """Ledger rows, oldest first."""
        return self.wf.mutations(workflow, limit=1000)[::-1]

    def publish(self, *items: str, workflow: str = "cases", topic: str = "in") -> None:
        """Publish items from outside, each with its input."""
        for item in items:
            self.wf.publish(
                workflow,
                topic,
                f"item:{item}",
                {"name": item},
                input=("src", "item", item, f"Item {item}"),
            )

"""The client's event workflows: deploy, topics, events, inputs, mutations, the scheduler."""

from __future__ import annotations

import sys
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from runwright.domain.events import EventKind, RunEvent
from runwright.domain.workflows.models import (
    HandlerRun,
    HandlerState,
    Input,
    Mutation,
    TopicEvent,
    WorkflowRecord,
)
from runwright.domain.workflows.mutations import HumanAction
from runwright.domain.workflows.rules import WorkflowStatus
from runwright.errors import NotFound, ValidationError
from runwright.store.workflows import WorkflowStore
from runwright.workflows.authoring import Workflow
from runwright.workflows.loader import import_ref, ref_of, reload_ref, source_hash

if TYPE_CHECKING:
    from runwright.api.client import Client


@dataclass(frozen=True)
class TopicInfo:
    """A topic of a workflow: who publishes, who subscribes, events per status."""

    workflow: str
    topic: str
    publishers: list[str]
    subscribers: list[str]
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "workflow": self.workflow,
            "topic": self.topic,
            "publishers": self.publishers,
            "subscribers": self.subscribers,
            "counts": self.counts,
        }


@dataclass(frozen=True)
class InputDetail:
    """An input, the events it caused and the mutations made for them ("what happened")."""

    input: Input
    events: list[TopicEvent]
    mutations: list[Mutation]


@dataclass(frozen=True)
class EventStep:
    """One moment of an event's life: published, reserved, released, consumed or skipped."""

    at: datetime
    what: str
    run_id: str | None = None
    by: str = ""


@dataclass(frozen=True)
class EventDetail:
    """An event, the inputs that caused it, the runs that reserved it and its history.

    ``complete`` is False when the event was reserved more often than the recent handler runs
    that were searched show (older reservations are then left out).
    """

    event: TopicEvent
    inputs: list[Input]
    runs: list[HandlerRun]
    history: list[EventStep]
    complete: bool = True


def _holds(run: HandlerRun, ev: TopicEvent) -> bool:
    """True when ``run`` reserved ``ev`` (reservations stay on the run after it ends)."""
    return any(r.topic == ev.topic and ev.message_id in r.ids for r in run.reservations)


def _mentions(payload: dict[str, Any], ev: TopicEvent, key: str) -> bool:
    """An ids payload names the event (or was cut short, so it may)."""
    ids = payload.get("ids") or []
    return key in ids or int(payload.get("count") or 0) > len(ids)


def _steps_of(e: RunEvent, ev: TopicEvent, run_id: str, *, holder: bool) -> list[EventStep]:
    """What one entry of a run's timeline says about ``ev``."""
    p = e.payload
    by = str(p.get("by") or "")
    if e.kind is EventKind.TOPIC_EVENT_SKIPPED and (
        p.get("event_id") == ev.event_id or (holder and "event_id" not in p)
    ):
        return [EventStep(e.ts, "skipped", run_id, by)]
    if not holder:
        return []
    if e.kind is EventKind.TOPIC_EVENTS_RESERVED and _mentions(
        p, ev, f"{ev.topic}/{ev.message_id}"
    ):
        return [EventStep(e.ts, "reserved", run_id)]
    for kind, what in (
        (EventKind.TOPIC_EVENTS_RELEASED, "released"),
        (EventKind.TOPIC_EVENTS_CONSUMED, "consumed"),
    ):
        if e.kind is kind and _mentions(p, ev, ev.event_id):
            return [EventStep(e.ts, what, run_id)]
    return []


class WorkflowsClient:
    """Operations on event workflows, through the shared client."""

    def __init__(self, client: Client):
        self.client = client

    @cached_property
    def store(self) -> WorkflowStore:
        """The workflow store on the client's database."""
        return WorkflowStore(self.client.store.db)

    def _by(self, by: str | None) -> str:
        from runwright.api.client import whoami

        return by or whoami()

    # ---- workflows --------------------------------------------------------------------
    def deploy(self, target: str | Workflow, *, reload: bool = False) -> WorkflowRecord:
        """Validate a workflow (``MODULE:ATTR`` or the object) and record it; workers import it
        by that reference. A changed module or spec becomes a new version."""
        if isinstance(target, Workflow):
            ref = ref_of(target)
            wf, digest = reload_ref(ref) if reload else (target, import_ref(ref)[1])
        else:
            ref = target
            wf, digest = reload_ref(ref) if reload else import_ref(ref)
            module = sys.modules.get(ref.partition(":")[0])
            if not reload and module is not None and source_hash(module) != digest:
                wf, digest = reload_ref(ref)  # edited since this process imported it
        if wf.repair is None:
            configured = (self.client.settings.file.get("workflows") or {}).get("repair_command")
            if configured:
                if not isinstance(configured, list) or not all(
                    isinstance(a, str) for a in configured
                ):
                    raise ValidationError(
                        "[workflows] repair_command must be a list of strings (an argv)",
                        hint='e.g. repair_command = ["claude", "-p", "fix the workflow"]',
                        field="repair_command",
                    )
                wf.repair = list(configured)
        try:
            spec = wf.validate()
        except ValidationError as exc:
            raise ValidationError(f"{ref}: {exc.message}", hint=exc.hint, **exc.fields) from None
        record, _ = self.store.deploy_workflow(
            spec,
            ref=ref,
            config_hash=wf.config_hash(),
            code_hash=digest,
            project_id=self.client.settings.project_id,
            now=self.client.clock.now(),
        )
        return record

    def list_workflows(self) -> list[WorkflowRecord]:
        """Every deployed workflow with its label."""
        return self.store.list_workflows()

    def get(self, name: str) -> WorkflowRecord:
        """One workflow."""
        return self.store.get_workflow(name)

    def pause(self, name: str, *, by: str | None = None) -> WorkflowRecord:
        """No new runs start (a run in progress finishes)."""
        return self.store.set_workflow_status(
            name, WorkflowStatus.PAUSED, self.client.clock.now(), by=self._by(by)
        )

    def resume(self, name: str, *, by: str | None = None) -> WorkflowRecord:
        """Active again: clears the error, maintenance and the backoff."""
        return self.store.set_workflow_status(
            name, WorkflowStatus.ACTIVE, self.client.clock.now(), by=self._by(by)
        )

    def run_now(self, name: str) -> WorkflowRecord:
        """Every producer runs at the next tick (refused while a run is active)."""
        return self.store.run_now(name, self.client.clock.now())

    def states(self, name: str) -> list[HandlerState]:
        """Each handler's saved state and schedule."""
        self.get(name)
        return self.store.handler_states(name)

    def runs(
        self, workflow: str | None = None, *, statuses: tuple[str, ...] = (), limit: int = 50
    ) -> list[HandlerRun]:
        """Handler runs, newest first."""
        return self.store.list_handler_runs(workflow=workflow, statuses=statuses, limit=limit)

    def run(self, run_id: str) -> HandlerRun:
        """One handler run."""
        return self.store.handler_run(run_id)

    # ---- topics and events ------------------------------------------------------------
    def publish(
        self,
        workflow: str,
        topic: str,
        message_id: str,
        payload: Any = None,
        *,
        input: tuple[str, str, str, str] | None = None,
    ) -> TopicEvent:
        """Publish from outside a run; ``input`` = (source, type, id, title) of its cause."""
        event_id = self.store.publish(
            workflow, topic, message_id, payload, self.client.clock.now(), input_key=input
        )
        return self.store.get_event(event_id)

    def topics(self, workflow: str | None = None) -> list[TopicInfo]:
        """Topics with their publishers, subscribers and event counts."""
        counts = self.store.topic_counts(workflow)
        out: list[TopicInfo] = []
        for record in self.list_workflows():
            if workflow and record.name != workflow:
                continue
            for topic in record.spec.topics:
                out.append(
                    TopicInfo(
                        workflow=record.name,
                        topic=topic,
                        publishers=[h.name for h in record.spec.handlers if topic in h.publishes],
                        subscribers=record.spec.subscribers(topic),
                        counts=counts.get((record.name, topic), {}),
                    )
                )
        return out

    def resolve_topic(self, topic: str, workflow: str | None = None) -> tuple[str, str]:
        """(workflow, topic) for a topic name, or a clear error if unknown or ambiguous."""
        if ":" in topic and workflow is None:
            workflow, topic = topic.split(":", 1)
        found = [t for t in self.topics(workflow) if t.topic == topic]
        if not found:
            raise NotFound(
                f"no topic {topic!r}" + (f" in workflow {workflow!r}" if workflow else ""),
                hint="list topics with `runwright topic list`",
                topic=topic,
            )
        if len(found) > 1:
            names = ", ".join(t.workflow for t in found)
            raise ValidationError(
                f"topic {topic!r} exists in several workflows ({names})",
                hint="name one: --workflow W or W:TOPIC",
                field="topic",
            )
        return found[0].workflow, found[0].topic

    def events(
        self,
        workflow: str | None = None,
        topic: str | None = None,
        *,
        statuses: tuple[str, ...] = (),
        limit: int = 100,
        before: str | None = None,
    ) -> list[TopicEvent]:
        """Events, newest first."""
        return self.store.list_events(
            workflow=workflow, topic=topic, statuses=statuses, limit=limit, before=before
        )

    def event(self, event_id: str) -> TopicEvent:
        """One event."""
        return self.store.get_event(event_id)

    def peek(self, workflow: str, topic: str, limit: int = 100) -> list[TopicEvent]:
        """Pending events, oldest first (what a consumer's prepare would see)."""
        return self.store.peek(workflow, topic, limit)

    def event_detail(self, event_id: str, *, scan: int = 200) -> EventDetail:
        """An event with the inputs that caused it, the runs that reserved it (its holder and
        those among the workflow's last ``scan`` handler runs) and its status history, read
        from the timelines of those runs and of the run that published it."""
        ev = self.event(event_id)
        inputs = []
        for input_id in ev.caused_by:
            with suppress(NotFound):
                inputs.append(self.store.get_input(input_id))
        recent = self.store.list_handler_runs(workflow=ev.workflow, limit=scan)
        holders = {r.run_id: r for r in recent if _holds(r, ev)}
        if ev.reserved_by_run_id and ev.reserved_by_run_id not in holders:
            with suppress(NotFound):
                holders[ev.reserved_by_run_id] = self.store.handler_run(ev.reserved_by_run_id)
        runs = sorted(holders.values(), key=lambda r: r.run_id)
        history = [EventStep(ev.created_at, "published", ev.created_by_run_id)]
        looked = [(r.run_id, True) for r in runs]
        if ev.created_by_run_id and ev.created_by_run_id not in holders:
            looked.append((ev.created_by_run_id, False))
        for run_id, holder in looked:
            for e in self.client.store.list_events(run_id):
                history.extend(_steps_of(e, ev, run_id, holder=holder))
        seen = {s.what for s in history}
        if ev.status.value not in seen and ev.status.value in {"consumed", "skipped"}:
            history.append(EventStep(ev.updated_at, ev.status.value, ev.reserved_by_run_id))
        history.sort(key=lambda s: s.at)
        complete = len(recent) < scan or len(runs) >= ev.attempt_number
        return EventDetail(ev, inputs, runs, history, complete)

    def skip_event(self, event_id: str, *, by: str | None = None) -> TopicEvent:
        """Skip an event (permanent; does not undo work already done)."""
        return self.store.skip_event(event_id, self.client.clock.now(), by=self._by(by))

    # ---- inputs -----------------------------------------------------------------------
    def inputs(
        self,
        workflow: str | None = None,
        *,
        statuses: tuple[str, ...] = (),
        search: str | None = None,
        limit: int = 100,
        before: str | None = None,
        created_before: datetime | None = None,
    ) -> list[Input]:
        """Inputs, newest first, with their computed status (``created_before``: older ones)."""
        return self.store.list_inputs(
            workflow=workflow,
            statuses=statuses,
            search=search,
            limit=limit,
            before=before,
            created_before=created_before,
        )

    def inputs_summary(
        self,
        *,
        first: int,
        statuses: tuple[str, ...] = (),
        limit: int = 100,
        created_before: datetime | None = None,
    ) -> tuple[list[Input], int]:
        """What ``inputs`` with these filters returns, summed up: its ``first`` inputs by
        creation time (oldest first) and how many it returns."""
        return self.store.summarize_inputs(
            first=first, statuses=statuses, limit=limit, created_before=created_before
        )

    def input(self, input_id: str) -> InputDetail:
        """An input with the events it caused and the mutations made for them."""
        item = self.store.get_input(input_id)
        events = [self.store.get_event(e) for e in self.store.input_event_ids(input_id)]
        runs = {e.reserved_by_run_id for e in events if e.reserved_by_run_id}
        mutations = [m for m in (self.store.mutation_of(r) for r in sorted(runs)) if m is not None]
        return InputDetail(item, sorted(events, key=lambda e: e.created_at), mutations)

    def skip_input(self, input_id: str, *, by: str | None = None) -> Input:
        """Skip an input: its open events are skipped where they still can be."""
        return self.store.skip_input(input_id, self.client.clock.now(), by=self._by(by))

    # ---- the ledger -------------------------------------------------------------------
    def mutations(
        self, workflow: str | None = None, *, statuses: tuple[str, ...] = (), limit: int = 100
    ) -> list[Mutation]:
        """Ledger rows, newest first."""
        return self.store.list_mutations(workflow=workflow, statuses=statuses, limit=limit)

    def mutation(self, mutation_id: str) -> Mutation:
        """One ledger row."""
        return self.store.get_mutation(mutation_id)

    def resolve(
        self, mutation_id: str, action: HumanAction | str, *, by: str | None = None
    ) -> Mutation:
        """Decide an indeterminate mutation: ``try-again``, ``did-not-happen`` or ``skip``."""
        return self.store.resolve_mutation(
            mutation_id, HumanAction(action).value, self.client.clock.now(), by=self._by(by)
        )

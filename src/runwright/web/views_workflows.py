"""Workflow pages: the list with each workflow's label, one workflow, pause / resume / run now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runwright.api.client import Client
from runwright.domain.workflows.models import HandlerRun, HandlerSpec, HandlerState, WorkflowRecord
from runwright.domain.workflows.mutations import UNRESOLVED
from runwright.errors import NotFound
from runwright.web.pages import Pages

RECENT_RUNS = 30


def schedule_of(h: HandlerSpec) -> str:
    """'every 1h', 'cron 0 * * * *', or 'on in, out' for a consumer."""
    if h.schedule is not None and h.schedule.every:
        return f"every {h.schedule.every}"
    if h.schedule is not None and h.schedule.cron:
        return f"cron {h.schedule.cron}"
    if h.subscribe:
        return "on " + ", ".join(h.subscribe)
    return "—"


@dataclass(frozen=True)
class WorkflowRow:
    """One line of the workflows list (and of the overview's workflows card)."""

    record: WorkflowRecord
    schedule: str
    last_run: HandlerRun | None
    next_at: datetime | None


def workflow_rows(client: Client) -> list[WorkflowRow]:
    """Every workflow with its schedule, last handler run and next producer run."""
    rows = []
    for record in client.workflows.list_workflows():
        last = client.workflows.runs(record.name, limit=1)
        states = client.workflows.states(record.name)
        upcoming = [s.next_run_at for s in states if s.next_run_at is not None]
        producers = [schedule_of(h) for h in record.spec.handlers if h.type.value == "producer"]
        rows.append(
            WorkflowRow(
                record=record,
                schedule=", ".join(producers) or "on events only",
                last_run=last[0] if last else None,
                next_at=min(upcoming) if upcoming else None,
            )
        )
    return rows


@dataclass(frozen=True)
class HandlerRow:
    """A handler of one workflow: its spec, saved state and schedule."""

    spec: HandlerSpec
    state: HandlerState | None
    schedule: str


class WorkflowViews:
    """The workflows list, one workflow's page, and its actions."""

    def __init__(self, pages: Pages):
        self.p = pages

    def workflows(self, request: Request) -> Response:
        """Every workflow with its label, schedule, last run and flags."""
        return self.p.render(request, "workflows.html", rows=workflow_rows(self.p.client))

    def workflow(self, request: Request) -> Response:
        """A workflow: facts, handlers, topics, open writes in doubt and recent handler runs."""
        name = request.path_params["name"]
        ws = self.p.client.workflows
        try:
            record = ws.get(name)
        except NotFound as exc:
            return self.p.error(request, exc, 404)
        states = {s.handler: s for s in ws.states(name)}
        handlers = [
            HandlerRow(spec=h, state=states.get(h.name), schedule=schedule_of(h))
            for h in record.spec.handlers
        ]
        doubtful = ws.mutations(name, statuses=tuple(s.value for s in UNRESOLVED), limit=20)
        return self.p.render(
            request,
            "workflow.html",
            w=record,
            handlers=handlers,
            topics=ws.topics(name),
            runs=ws.runs(name, limit=RECENT_RUNS),
            doubtful=doubtful,
            recent=RECENT_RUNS,
        )

    async def pause(self, request: Request) -> Response:
        """No new runs start; a run in progress finishes."""
        name = request.path_params["name"]

        def work(form: FormData) -> str:
            wf = self.p.client.workflows.pause(name, by=self.p.actor)
            return f"workflow {wf.name} paused: no new runs start"

        return await self.p.perform(request, f"/workflows/{name}", work)

    async def resume(self, request: Request) -> Response:
        """Active again (clears its error, maintenance and backoff)."""
        name = request.path_params["name"]

        def work(form: FormData) -> str:
            wf = self.p.client.workflows.resume(name, by=self.p.actor)
            return f"workflow {wf.name} resumed ({wf.label.value})"

        return await self.p.perform(request, f"/workflows/{name}", work)

    async def run_now(self, request: Request) -> Response:
        """Every producer runs at the next tick."""
        name = request.path_params["name"]

        def work(form: FormData) -> str:
            self.p.client.workflows.run_now(name)
            return f"workflow {name}: its producers run at the next tick"

        return await self.p.perform(request, f"/workflows/{name}", work)

    def routes(self) -> list[Route]:
        """The routes of these pages."""
        return [
            Route("/workflows", self.workflows),
            Route("/workflows/{name}", self.workflow),
            Route("/workflows/{name}/pause", self.pause, methods=["POST"]),
            Route("/workflows/{name}/resume", self.resume, methods=["POST"]),
            Route("/workflows/{name}/run-now", self.run_now, methods=["POST"]),
        ]

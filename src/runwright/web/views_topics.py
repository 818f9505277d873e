"""Topics → events → details: counts per topic, a topic's events by status, one event, skip."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runwright.domain.workflows.topics import EventStatus
from runwright.errors import NotFound
from runwright.web.pages import Pages

PAGE_SIZE = 50
STATUSES = tuple(s.value for s in EventStatus)
#: Phases of a consumer run before its write: a reserved event can still be skipped then.
BEFORE_WRITE = frozenset({"pending", "preparing", "prepared"})


class TopicViews:
    """The topics list, a topic's events, an event's page and the skip action."""

    def __init__(self, pages: Pages):
        self.p = pages

    def topics(self, request: Request) -> Response:
        """Every topic with its publishers, subscribers and events per status."""
        workflow = request.query_params.get("workflow") or None
        found = self.p.client.workflows.topics(workflow)
        totals = {s: sum(t.counts.get(s, 0) for t in found) for s in STATUSES}
        return self.p.render(request, "topics.html", topics=found, totals=totals, workflow=workflow)

    def topic(self, request: Request) -> Response:
        """A topic's events, newest first, paginated, filtered by status."""
        ws = self.p.client.workflows
        workflow, name = request.path_params["workflow"], request.path_params["topic"]
        q = request.query_params
        status = q.get("status") or ""
        statuses = (status,) if status in STATUSES else ()
        info = next((t for t in ws.topics(workflow) if t.topic == name), None)
        if info is None:
            missing = NotFound(
                f"no topic {name!r} in workflow {workflow!r}",
                hint="pick one on the Topics page",
                topic=name,
            )
            return self.p.error(request, missing, 404)
        events = ws.events(
            workflow, name, statuses=statuses, limit=PAGE_SIZE, before=q.get("before") or None
        )
        more = events[-1].event_id if len(events) == PAGE_SIZE else None
        return self.p.render(
            request,
            "topic.html",
            t=info,
            events=events,
            current=status if statuses else "",
            statuses=STATUSES,
            more=more,
            query=q,
        )

    def event(self, request: Request) -> Response:
        """An event: payload, status history, the runs that held it, the inputs behind it."""
        try:
            detail = self.p.client.workflows.event_detail(request.path_params["event_id"])
        except NotFound as exc:
            return self.p.error(request, exc, 404)
        ev = detail.event
        holder = next((r for r in detail.runs if r.run_id == ev.reserved_by_run_id), None)
        before_write = (
            holder is not None
            and holder.status.value == "active"
            and holder.phase.value in BEFORE_WRITE
        )
        return self.p.render(
            request,
            "event.html",
            d=detail,
            skippable=ev.status is EventStatus.PENDING
            or (ev.status is EventStatus.RESERVED and before_write),
            holder=holder,
        )

    async def skip(self, request: Request) -> Response:
        """Skip an event for good (a reserved one only before its run's write)."""
        event_id = request.path_params["event_id"]

        def work(form: FormData) -> str:
            ev = self.p.client.workflows.skip_event(event_id, by=self.p.actor)
            return f"event {ev.message_id} is {ev.status.value}"

        return await self.p.perform(request, f"/events/{event_id}", work)

    def routes(self) -> list[Route]:
        """The routes of these pages."""
        return [
            Route("/topics", self.topics),
            Route("/topics/{workflow}/{topic}", self.topic),
            Route("/events/{event_id}", self.event),
            Route("/events/{event_id}/skip", self.skip, methods=["POST"]),
        ]

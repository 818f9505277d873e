"""Inputs: what came in from outside (pending, done, skipped, stale) and what happened to it."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runwright.api.inbox import Inbox
from runwright.domain.workflows.models import HandlerRun
from runwright.domain.workflows.topics import InputStatus, is_stale
from runwright.errors import NotFound, ValidationError
from runwright.web.pages import Pages

PAGE_SIZE = 50
STATUSES = tuple(s.value for s in InputStatus)


def stale_days(pages: Pages, raw: str | None) -> float:
    """Days after which a pending input is stale: ``?stale_days=`` or ``[workflows] stale_days``
    (default 7), as ``runwright inbox --stale-days`` reads it."""
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if value < 0:
            raise ValidationError(
                f"stale_days must be a number of days, 0 or more (got {raw!r})",
                hint="e.g. ?stale_days=7",
                field="stale_days",
            )
        return value
    return Inbox(pages.client).options().stale_days


class InputViews:
    """The inputs list, an input's page and the skip action."""

    def __init__(self, pages: Pages):
        self.p = pages

    def inputs(self, request: Request) -> Response:
        """Inputs, newest first, filtered by status (or stale), workflow and text; paginated."""
        q = request.query_params
        try:
            days = stale_days(self.p, q.get("stale_days"))
        except ValidationError as exc:
            return self.p.error(request, exc)
        now = self.p.client.clock.now()
        status = q.get("status") or ""
        stale_only = status == "stale"
        statuses = ("pending",) if stale_only else (status,) if status in STATUSES else ()
        found = self.p.client.workflows.inputs(
            q.get("workflow") or None,
            statuses=statuses,
            search=(q.get("search") or "").strip() or None,
            limit=PAGE_SIZE,
            before=q.get("before") or None,
            created_before=now - timedelta(days=days) if stale_only else None,
        )
        more = found[-1].input_id if len(found) == PAGE_SIZE else None
        stale = {i.input_id for i in found if is_stale(i.status, i.created_at, now, days=days)}
        return self.p.render(
            request,
            "inputs.html",
            inputs=found,
            stale=stale,
            days=days,
            current=status if (statuses or stale_only) else "",
            statuses=(*STATUSES, "stale"),
            workflows=[w.name for w in self.p.client.workflows.list_workflows()],
            more=more,
            query=q,
        )

    def input(self, request: Request) -> Response:
        """What happened: the events the input caused, what became of them, runs and writes."""
        ws = self.p.client.workflows
        try:
            detail = ws.input(request.path_params["input_id"])
            days = stale_days(self.p, request.query_params.get("stale_days"))
        except (NotFound, ValidationError) as exc:
            return self.p.error(request, exc, 404 if isinstance(exc, NotFound) else 400)
        runs: dict[str, HandlerRun] = {}
        wanted = [e.reserved_by_run_id for e in detail.events if e.reserved_by_run_id]
        if detail.input.created_by_run_id:
            wanted.insert(0, detail.input.created_by_run_id)
        for run_id in dict.fromkeys(wanted):
            with suppress(NotFound):
                runs[run_id] = ws.run(run_id)
        item = detail.input
        return self.p.render(
            request,
            "input.html",
            d=detail,
            runs=runs,
            mutations={m.handler_run_id: m for m in detail.mutations},
            stale=is_stale(item.status, item.created_at, self.p.client.clock.now(), days=days),
            days=days,
        )

    async def skip(self, request: Request) -> Response:
        """Skip an input for good: its open events are skipped where they still can be."""
        input_id = request.path_params["input_id"]

        def work(form: FormData) -> str:
            item = self.p.client.workflows.skip_input(input_id, by=self.p.actor)
            return f"input {item.title or item.id} is {item.status.value}"

        return await self.p.perform(request, f"/inputs/{input_id}", work)

    def routes(self) -> list[Route]:
        """The routes of these pages."""
        return [
            Route("/inputs", self.inputs),
            Route("/inputs/{input_id}", self.input),
            Route("/inputs/{input_id}/skip", self.skip, methods=["POST"]),
        ]

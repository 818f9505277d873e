"""Core pages: the overview, the runs list, a run's page, evidence, and run actions."""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from runwright.api.inbox import Inbox
from runwright.api.subjects import run_subject
from runwright.domain.runs import RunKind
from runwright.domain.states import TERMINAL_RUN_STATES, RunState, StateReason
from runwright.errors import NotFound, RunwrightError
from runwright.store.core import RunFilter
from runwright.web.pages import Pages
from runwright.web.views_inbox import item_page, section_title
from runwright.web.views_plans import plan_link
from runwright.web.views_workflows import workflow_rows

PAGE_SIZE = 50
EVENT_PAGE = 200
INBOX_SHOWN = 8


class RunViews:
    """The core pages and actions."""

    def __init__(self, pages: Pages):
        self.p = pages

    def overview(self, request: Request) -> Response:
        client = self.p.client
        counts = client.counts()
        stranded = client.stranded()
        inbox = Inbox(client).summary(INBOX_SHOWN)  # the first items and the count of `inbox`
        recent = client.list_runs(RunFilter(limit=12))
        workers = client.store.list_workers(
            alive_since=client.clock.now().replace(microsecond=0) - _delta(client)
        )
        return self.p.render(
            request,
            "overview.html",
            counts=counts,
            total=sum(counts.values()),
            states=[s.value for s in RunState],
            stranded=stranded,
            inbox=inbox.items,
            inbox_total=inbox.total,
            section_title=section_title,
            item_page=item_page,
            workflows=workflow_rows(client),
            recent=recent,
            subject=run_subject,
            workers=workers,
            attention=inbox.total + len(stranded),
        )

    def runs(self, request: Request) -> Response:
        q = request.query_params
        states = tuple(s for s in q.getlist("state") if s in {x.value for x in RunState})
        flt = RunFilter(
            states=states,
            kind=q.get("kind") or None,
            job_name=q.get("job") or None,
            search=(q.get("search") or "").strip() or None,
            before_run_id=q.get("before") or None,
            parent_run_id=q.get("parent") or None,
            limit=PAGE_SIZE,
        )
        found = self.p.client.list_runs(flt)
        more = found[-1].run_id if len(found) == PAGE_SIZE else None
        return self.p.render(
            request,
            "runs.html",
            runs=found,
            subject=run_subject,
            flt=flt,
            more=more,
            states=[s.value for s in RunState],
            query=q,
        )

    def run_page(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        client = self.p.client
        try:
            run = client.get(run_id)
        except NotFound as exc:
            return self.p.error(request, exc, 404)
        steps = client.steps(run_id)
        events = client.store.list_events(run_id, after_seq=max(run.event_seq - EVENT_PAGE, 0))
        links = client.evidence(run_id)
        children = client.children(run_id, limit=200)
        in_doubt = _steps_in_doubt(run, steps)
        op_view = client.ops.op_run(run_id) if client.ops.is_op_run(run_id) else None
        handler = None
        if run.kind in {RunKind.PRODUCER, RunKind.CONSUMER}:
            with suppress(NotFound):
                handler = client.workflows.run(run_id)
        return self.p.render(
            request,
            "run.html",
            run=run,
            steps=steps,
            events=events,
            hidden_events=max(run.event_seq - EVENT_PAGE, 0),
            links=links,
            children=children,
            in_doubt=in_doubt,
            op=op_view,
            handler=handler,
            plan=plan_link(client, run),
            notice=request.query_params.get("notice"),
            terminal=run.state in TERMINAL_RUN_STATES,
            payload=lambda e: json.dumps(e.payload, indent=1, ensure_ascii=False),
        )

    def evidence(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        evidence_id = request.path_params["evidence_id"]
        link = next(
            (e for e in self.p.client.evidence(run_id) if e.evidence_id == evidence_id), None
        )
        if link is None:
            return PlainTextResponse("no such evidence", status_code=404)
        problem = self.p.client.blobs.check(link.sha256)
        if problem:
            return PlainTextResponse(
                f"evidence {link.artifact_path} failed its hash check: {problem}", status_code=409
            )
        download = request.query_params.get("download") == "1"
        name = link.artifact_path.rsplit("/", 1)[-1]
        return FileResponse(
            self.p.client.blobs.path_for(link.sha256),
            media_type=link.media_type if not download else "application/octet-stream",
            filename=name if download else None,
            headers={"X-Content-SHA256": link.sha256, "Content-Security-Policy": "sandbox"},
        )

    def verify(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            report = self.p.client.verify(run_id)
        except RunwrightError as exc:
            return self.p.error(request, exc, 404)
        return self.p.render(request, "verify.html", report=report)

    async def cancel(self, request: Request) -> Response:
        await self.p.action_form(request)
        run_id = request.path_params["run_id"]
        try:
            run = self.p.client.cancel(run_id, by=self.p.actor)
        except RunwrightError as exc:
            return self.p.error(request, exc)
        what = "canceled" if run.state == RunState.CANCELED else "asked to stop"
        return self.p.back(f"/runs/{run_id}", f"run {what}")

    async def resolve(self, request: Request) -> Response:
        form = await self.p.action_form(request)
        run_id = request.path_params["run_id"]
        action = str(form.get("action") or "")
        raw = str(form.get("result") or "null")
        try:
            result: Any = json.loads(raw)
            self.p.client.resolve_step(
                run_id, str(form.get("step_key") or ""), action, result=result, by=self.p.actor
            )
        except json.JSONDecodeError as exc:
            return self.p.error(
                request, RunwrightError(f"result is not JSON: {exc}", field="result")
            )
        except RunwrightError as exc:
            return self.p.error(request, exc)
        return self.p.back(f"/runs/{run_id}", f"step resolved ({action})")

    async def set_next(self, request: Request) -> Response:
        form = await self.p.action_form(request)
        run_id = request.path_params["run_id"]
        try:
            self.p.client.set_next_pointer(
                run_id, str(form.get("next_pointer") or ""), by=self.p.actor
            )
        except RunwrightError as exc:
            return self.p.error(request, exc)
        return self.p.back(f"/runs/{run_id}", "next pointer recorded")

    def routes(self) -> list[Route]:
        """The core routes."""
        return [
            Route("/", self.overview),
            Route("/runs", self.runs),
            Route("/runs/{run_id}", self.run_page),
            Route("/runs/{run_id}/verify", self.verify),
            Route("/runs/{run_id}/evidence/{evidence_id}", self.evidence),
            Route("/runs/{run_id}/cancel", self.cancel, methods=["POST"]),
            Route("/runs/{run_id}/resolve", self.resolve, methods=["POST"]),
            Route("/runs/{run_id}/next", self.set_next, methods=["POST"]),
        ]


def _delta(client: Any) -> Any:
    from datetime import timedelta

    return timedelta(seconds=client.settings.lease_seconds * 2)


def _steps_in_doubt(run: Any, steps: list[Any]) -> list[Any]:
    """Attempts a human must settle: running attempts of a run paused for reconciliation."""
    if run.state != RunState.WAITING or not (run.state_reason or "").startswith(
        StateReason.PAUSED_RECONCILIATION
    ):
        return []
    return [s for s in steps if s.state.value == "running"]

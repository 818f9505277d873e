"""Rendering, fragments for live updates, and the guard every action passes through."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from runwright.api.client import Client
from runwright.errors import Conflict, NotFound, RunwrightError
from runwright.web import security

NAV = (
    ("/", "Overview"),
    ("/runs", "Runs"),
    ("/plans", "Plans"),
    ("/workflows", "Workflows"),
    ("/topics", "Topics"),
    ("/inputs", "Inputs"),
    ("/inbox", "Inbox"),
    ("/patches", "Patches"),
    ("/debug", "Debug packets"),
)
Handler = Callable[[Request], Response]


class Pages:
    """Shared by every view: the client, templates, CSRF value and the acting user's name."""

    def __init__(self, client: Client, env: Environment, *, csrf: str, actor: str):
        self.client = client
        self.env = env
        self.csrf = csrf
        self.actor = actor
        self.nav: list[tuple[str, str]] = list(NAV)

    def render(self, request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
        """A full page, or only its main part when the page polls for updates."""
        ctx.update(csrf=self.csrf, nav=self.nav, path=request.url.path, request=request)
        ctx.setdefault("notice", request.query_params.get("notice"))
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "notice"]
        ctx.setdefault("here", request.url.path + ("?" + urlencode(kept) if kept else ""))
        fragment = request.headers.get("x-fragment") == "1"
        if fragment:
            body = self.env.get_template(f"partials/{template}").render(**ctx)
        else:
            body = self.env.get_template(template).render(**ctx)
        response = HTMLResponse(body, status_code=status)
        response.headers["ETag"] = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        response.headers["Cache-Control"] = "no-store"
        return response

    def error(self, request: Request, exc: RunwrightError, status: int = 400) -> Response:
        """A page explaining what went wrong and what to do."""
        return self.render(request, "error.html", status=status, error=exc)

    async def action_form(self, request: Request) -> FormData:
        """The form of a POST action, after the CSRF and origin checks."""
        origin = request.headers.get("origin")
        if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise HTTPException(403, "cross-site request refused")
        form = await request.form()
        if not security.same(str(form.get("csrf") or ""), self.csrf):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
        return form

    @staticmethod
    def local(url: object, default: str) -> str:
        """``url`` when it is a path on this server (never another site), else ``default``."""
        text = str(url or "")
        if text.startswith("/") and not text.startswith("//") and "\\" not in text:
            return text
        return default

    async def perform(
        self, request: Request, default: str, work: Callable[[FormData], str]
    ) -> Response:
        """Run an action (after the CSRF checks); redirect to the form's ``next`` page (or
        ``default``) with its message, or explain the refusal on an error page."""
        form = await self.action_form(request)
        try:
            message = work(form)
        except RunwrightError as exc:
            status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 400
            return self.error(request, exc, status)
        return self.back(self.local(form.get("next"), default), message)

    def back(self, url: str, message: str) -> Response:
        """Redirect after an action (Post/Redirect/Get), carrying a short notice."""
        sep = "&" if "?" in url else "?"
        return RedirectResponse(f"{url}{sep}{urlencode({'notice': message})}", status_code=303)

    def routes(self) -> list[Route]:
        """Every page and action route."""
        from runwright.web.views_inbox import InboxViews
        from runwright.web.views_inputs import InputViews
        from runwright.web.views_parts import PartViews
        from runwright.web.views_plans import PlanViews
        from runwright.web.views_runs import RunViews
        from runwright.web.views_topics import TopicViews
        from runwright.web.views_workflows import WorkflowViews

        return [
            *RunViews(self).routes(),
            *PartViews(self).routes(),
            *WorkflowViews(self).routes(),
            *TopicViews(self).routes(),
            *InputViews(self).routes(),
            *InboxViews(self).routes(),
            *PlanViews(self).routes(),
        ]

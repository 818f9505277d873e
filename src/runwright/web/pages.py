"""Rendering, fragments for live updates, and the guard every action passes through."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from jinja2 import Environment
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from runwright.api.client import Client
from runwright.errors import RunwrightError
from runwright.web import security

NAV = (
    ("/", "Overview"),
    ("/runs", "Runs"),
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

    def back(self, url: str, message: str) -> Response:
        """Redirect after an action (Post/Redirect/Get), carrying a short notice."""
        from urllib.parse import urlencode

        sep = "&" if "?" in url else "?"
        return RedirectResponse(f"{url}{sep}{urlencode({'notice': message})}", status_code=303)

    def routes(self) -> list[Route]:
        """Every page and action route."""
        from runwright.web.views_parts import PartViews
        from runwright.web.views_runs import RunViews

        return [*RunViews(self).routes(), *PartViews(self).routes()]

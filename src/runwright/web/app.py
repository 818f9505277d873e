"""The dashboard application: a Starlette app over the same client the CLI uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from runwright.api.client import Client
from runwright.web import security
from runwright.web.pages import Pages
from runwright.web.templating import environment

STATIC = Path(__file__).parent / "static"
OPEN_PATHS = ("/login", "/static/", "/health")


class _RequireSession(BaseHTTPMiddleware):
    """Every page but the login link, static files and /health needs the session cookie."""

    def __init__(self, app: Any, token: str):
        super().__init__(app)
        self._session = security.session_value(token)

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path.startswith(OPEN_PATHS) or security.same(
            request.cookies.get(security.SESSION_COOKIE), self._session
        ):
            return await call_next(request)
        return HTMLResponse(
            "<h1>runwright</h1><p>Open the link printed by <code>runwright ui</code> "
            "(it carries the access token).</p>",
            status_code=401,
        )


def create_app(client: Client, *, token: str, actor: str = "dashboard") -> Starlette:
    """Build the dashboard for ``client``; actions need ``token`` and are recorded as ``actor``."""
    env = environment()
    pages = Pages(client, env, csrf=security.csrf_value(token), actor=actor)

    def login(request: Request) -> Response:
        if not security.same(request.query_params.get("token"), token):
            return PlainTextResponse("wrong or missing token", status_code=403)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            security.SESSION_COOKIE,
            security.session_value(token),
            httponly=True,
            samesite="strict",
        )
        return response

    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    routes: list[BaseRoute] = [
        Route("/login", login),
        Route("/health", health),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        *pages.routes(),
    ]
    return Starlette(routes=routes, middleware=[Middleware(_RequireSession, token=token)])

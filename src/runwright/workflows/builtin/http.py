"""An HTTP JSON API as a tool: reads are GETs, mutations send an ``Idempotency-Key`` header.

Reconcile looks the write up with a GET built from ``lookup`` (a path template such as
``"/payments/by-key/{idempotency_key}"``, formatted with the key and the call's parameters, or
a function of the MutationCall): 200 → applied (the body is the result), 404 → failed, anything
else → retry. Without ``lookup`` a write in doubt goes to a person.

Errors by type: a connection that never opened → transient (nothing was sent); a timeout or
broken connection after sending, or a 500/502/504 → uncertain; 401 → auth; 403 → permission;
429 and 503 → transient; other 4xx → logic (the request is wrong).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from runwright.workflows.errors import (
    AuthError,
    LogicError,
    PermissionDenied,
    TransientError,
    UncertainError,
)
from runwright.workflows.tools import MutationCall, Reconciliation, Tool, mutation, read

Lookup = str | Callable[[MutationCall], str | None]
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
AMBIGUOUS_STATUS = {500, 502, 504}
RETRY_STATUS = {408, 425, 429, 503}


class HttpJsonTool(Tool):
    """A JSON API at ``base_url``."""

    def __init__(
        self,
        namespace: str,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        lookup: Lookup | None = None,
        idempotency_header: str = "Idempotency-Key",
        transport: httpx.BaseTransport | None = None,
    ):
        super().__init__(namespace, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.lookup = lookup
        self.idempotency_header = idempotency_header
        self._transport = transport
        self._local = threading.local()

    def client(self) -> httpx.Client:
        """An httpx client per thread."""
        found: httpx.Client | None = getattr(self._local, "client", None)
        if found is None:
            found = httpx.Client(
                base_url=self.base_url,
                headers=self.headers,
                timeout=self.timeout,
                transport=self._transport,
            )
            self._local.client = found
        return found

    def close(self) -> None:
        """Close this thread's client."""
        found: httpx.Client | None = getattr(self._local, "client", None)
        if found is not None:
            found.close()
            self._local.client = None

    # ---- calls ------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, write: bool, **kwargs: Any) -> httpx.Response:
        try:
            return self.client().request(method, path, **kwargs)
        except NOT_SENT as exc:
            raise TransientError(f"{method} {path}: could not connect ({exc})") from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            cls = UncertainError if write else TransientError
            raise cls(f"{method} {path}: {type(exc).__name__} after sending ({exc})") from exc

    def _result(self, method: str, path: str, resp: httpx.Response, *, write: bool) -> Any:
        code = resp.status_code
        what = f"{method} {path} → {code}"
        if code == 401:
            raise AuthError(what)
        if code == 403:
            raise PermissionDenied(what)
        if code in RETRY_STATUS:
            raise TransientError(what)
        if code in AMBIGUOUS_STATUS or code >= 500:
            raise (UncertainError if write else TransientError)(what)
        if code >= 400:
            raise LogicError(f"{what}: {resp.text[:300]}")
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise LogicError(f"{what}: the body is not JSON") from exc

    @read
    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document."""
        resp = self._send("GET", path, write=False, params=params)
        return self._result("GET", path, resp, write=False)

    def _write(self, method: str, path: str, body: Any, key: str) -> Any:
        headers = {self.idempotency_header: key} if key else {}
        resp = self._send(method, path, write=True, json=body, headers=headers)
        return self._result(method, path, resp, write=True)

    @mutation
    def post(self, path: str, json: Any = None, *, idempotency_key: str = "") -> Any:
        """POST a JSON body (with the host's idempotency key)."""
        return self._write("POST", path, json, idempotency_key)

    @mutation
    def put(self, path: str, json: Any = None, *, idempotency_key: str = "") -> Any:
        """PUT a JSON body."""
        return self._write("PUT", path, json, idempotency_key)

    @mutation
    def patch(self, path: str, json: Any = None, *, idempotency_key: str = "") -> Any:
        """PATCH a JSON body."""
        return self._write("PATCH", path, json, idempotency_key)

    @mutation
    def delete(self, path: str, *, idempotency_key: str = "") -> Any:
        """DELETE a resource."""
        return self._write("DELETE", path, None, idempotency_key)

    # ---- reconcile --------------------------------------------------------------------
    def can_reconcile(self, method: str) -> bool:
        """Only with a ``lookup``."""
        return self.lookup is not None

    def reconcile(self, call: MutationCall) -> Reconciliation:
        """Look the write up: 200 → applied, 404 → failed, else retry."""
        if self.lookup is None:
            return Reconciliation.retry("no lookup configured")
        if callable(self.lookup):
            path = self.lookup(call)
        else:
            path = self.lookup.format(idempotency_key=call.idempotency_key, **call.params)
        if path is None:
            return Reconciliation.retry("lookup gave no path")
        try:
            resp = self.client().get(path, headers={self.idempotency_header: call.idempotency_key})
        except httpx.HTTPError as exc:
            return Reconciliation.retry(f"lookup failed: {exc}")
        if resp.status_code == 404:
            return Reconciliation.failed(f"GET {path} → 404")
        if resp.status_code == 200:
            return Reconciliation.applied(resp.json() if resp.content else None)
        return Reconciliation.retry(f"GET {path} → {resp.status_code}")

"""The HTTP probe against a real local server, and check timeouts (behaviour 9)."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from execmodel_ops import operator, write_op

from runwright.api.client import Client
from runwright.domain.execmodel.checks import CheckStatus


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 and a free port, serving a folder with index.html."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text("<h1>healthy</h1>\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_http_probes_judge_the_status_and_keep_the_response(client: Client, server: str) -> None:
    """200 with a matching body passes and stores the response as evidence; 404 fails; a
    closed port fails with the connection error."""
    closed = f"http://127.0.0.1:{_free_port()}/"
    checks = [
        {
            "id": "up",
            "check_type": "health_check",
            "probes": [{"probe": "http", "url": f"{server}/", "body_regex": "healthy"}],
        },
        {
            "id": "missing",
            "check_type": "health_check",
            "probes": [{"probe": "http", "url": f"{server}/nope.html"}],
        },
        {
            "id": "down",
            "check_type": "run_live_bounded",
            "probes": [{"probe": "http", "url": closed, "timeout_seconds": 2}],
        },
    ]
    spec = operator(op_id="CheckServer", mode_ids=["SERVICE"], acceptance_checks=checks)
    source = write_op(client.settings.project_root / "ops", spec)
    op = client.ops.operator("CheckServer", source).operator
    [view] = client.ops.run_operator(op, {})
    results = {r.check_id: r for r in view.record.acceptance_results}
    assert results["up"].status == CheckStatus.PASS
    [link] = results["up"].evidence_links
    assert b"HTTP 200" in client.blobs.read(link.sha256)
    assert results["missing"].status == CheckStatus.FAIL
    assert "404" in results["missing"].message
    assert results["down"].status == CheckStatus.FAIL
    assert "failed" in results["down"].message
    assert view.record.result == CheckStatus.FAIL

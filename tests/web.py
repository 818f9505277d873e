"""A real dashboard server and a real headless Chromium for the web tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from runwright.api.client import Client
from runwright.engine.clock import FakeClock
from tests.workers import worker_env

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "test-token-for-the-dashboard"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The system Chromium (Debian's package), if installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def dashboard(home: Path, db_url: str) -> Iterator[str]:
    """Run `runwright ui` on a free loopback port; yield its base URL."""
    port = free_port()
    env = worker_env(home, db_url)
    env["RUNWRIGHT_UI_TOKEN"] = TOKEN
    log = home.parent / "ui.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runwright", "ui", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dashboard did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)


def save_screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


# ---- event workflows with real runs, for the workflow, topic, input and inbox pages ----------
@dataclass
class WorkflowStory:
    """Ids in a store where three workflows really ran (see ``build_workflow_story``)."""

    stale_input: str
    done_input: str
    consumed_event: str
    doubt_mutation: str
    doubt_run: str
    doubt_event: str
    pending_inputs: list[str] = field(default_factory=list)
    pending_events: list[str] = field(default_factory=list)


def build_workflow_story(client: Client, *, until: datetime | None = None) -> WorkflowStory:
    """Deploy ``cases``, ``hourly`` and ``chain`` (tests/jobs/workflows_cases.py) and drive
    them with an in-process worker on ``client``'s FakeClock, which starts ten days before
    ``until`` (default: now) and ends a few minutes before it:

    - hourly: an input registered ten days ago whose event nobody reserves (stale); Idle.
    - cases: item a written and consumed (its input done); then items b, c, d published by the
      producer, and the write for one of them timed out and never reconciled (an indeterminate
      mutation with ``can_reconcile``), which blocks the workflow, so the other two stay pending;
      Needs attention.
    - chain: a logic failure in Relay.next put it in maintenance with no repair command (an
      escalation in the inbox); Needs attention.
    """
    import workflows_cases as wc
    from workflows_kit import Harness

    from runwright.domain.workflows import MutationStatus
    from runwright.workflows.errors import UncertainError

    clock: FakeClock = client.clock  # type: ignore[assignment]
    end = until or datetime.now(UTC)
    clock.set(end - timedelta(days=10))
    wc.reset()
    h = Harness(client)
    for wf in (wc.cases, wc.hourly, wc.chain):
        h.deploy(wf)
    h.run()
    stale = h.wf.publish(
        "hourly",
        "ticks",
        "ticket:T-17",
        {"ticket": "T-17", "summary": "export drops the last row"},
        input=("tracker", "ticket", "T-17", "Ticket T-17: export drops the last row"),
    )

    clock.set(end - timedelta(hours=3))
    wc.SETTINGS["items"] = ["a"]
    h.wf.run_now("cases")
    h.run()
    done = h.events()["item:a"]
    assert done.status.value == "consumed", done

    clock.set(end - timedelta(hours=1))
    wc.SETTINGS["items"] = ["b", "c", "d"]
    wc.KNOBS["call"].append(UncertainError("read timeout after the request was sent"))
    wc.KNOBS["reconcile"].extend(["retry"] * 6)
    h.wf.run_now("cases")
    h.run()
    wc.SETTINGS["items"] = []
    for delay in (10, 20, 40, 80, 160):
        h.advance(delay)
        h.run()
    (doubt,) = h.wf.mutations("cases", statuses=(MutationStatus.INDETERMINATE.value,))
    events = h.events()
    doubt_event = events[f"item:{doubt.params['item']}"]
    pending = [e for k, e in sorted(events.items()) if e.status.value == "pending"]
    assert len(pending) == 2, events

    h.advance(30)
    wc.KNOBS["relay_next"].append(ValueError("row 7 has no amount"))
    h.wf.publish("chain", "in", "batch:7", {"rows": 7})
    h.run()
    assert h.wf.get("chain").maintenance
    wc.reset()
    return WorkflowStory(
        stale_input=stale.caused_by[0],
        done_input=done.caused_by[0],
        consumed_event=done.event_id,
        doubt_mutation=doubt.mutation_id,
        doubt_run=doubt.handler_run_id,
        doubt_event=doubt_event.event_id,
        pending_inputs=[e.caused_by[0] for e in pending],
        pending_events=[e.event_id for e in pending],
    )


@contextmanager
def serve_in_thread(app: object) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free loopback port (for tests that must
    change the server's process, e.g. register an inbox section); yield its base URL."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the in-process dashboard did not start")
            time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium driven by Playwright, or a skip (a failure under CI=true) when
    Debian's chromium is not installed."""
    import pytest

    path = chromium_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def logged_in(browser: object, base: str) -> Iterator[object]:
    """A browser page with the dashboard's session (it visited the login link)."""
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})  # type: ignore[attr-defined]
    page = ctx.new_page()
    page.goto(f"{base}/login?token={TOKEN}")
    try:
        yield page
    finally:
        ctx.close()


# ---- plan runs of the example repository, for the plan pages ---------------------------------
def run_example_plan(root: Path, plan: str, db_url: str, *, timeout: float = 300) -> str:
    """Run ``examples/plans/plans/<plan>.yaml`` in a fresh example repository made at
    ``root/greet`` (every such repository is project ``greet``, so one dashboard serves the
    plans of several) on ``db_url``; return the plan run's id once it ended or waits on a
    decision."""
    from plans_support import make_repo, open_client

    repo = make_repo(root / "greet")
    client = open_client(repo, db_url)
    try:
        view = client.plans.run(repo / "plans" / f"{plan}.yaml", timeout=timeout)
        return view.run_id
    finally:
        client.close()

"""The dashboard's workflow, topic, event and input pages and their actions, in a real headless
Chromium against `runwright ui` on 127.0.0.1, over workflows that really ran."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import engine_jobs
import pytest

from runwright.api.client import Client
from runwright.api.inbox import Inbox
from runwright.config import Settings
from runwright.domain.events import EventKind
from runwright.domain.states import RunState
from runwright.domain.workflows import EventStatus, InputStatus, WorkflowStatus
from runwright.engine.clock import FakeClock
from tests.web import (
    ROOT,
    WorkflowStory,
    build_workflow_story,
    dashboard,
    logged_in,
    save_screenshot,
)
from tests.workers import start_worker

pytestmark = pytest.mark.slow


@pytest.fixture
def wf_client(settings: Settings) -> Iterator[Client]:
    """A client on the test's store whose clock the workflow story moves."""
    c = Client.open(settings, clock=FakeClock())
    yield c
    c.close()


@pytest.fixture
def story(wf_client: Client) -> WorkflowStory:
    """Three workflows that ran: a write in doubt, a stale input, one in maintenance."""
    return build_workflow_story(wf_client)


@pytest.fixture
def site(wf_client: Client, story: WorkflowStory, db_url: str) -> Iterator[str]:
    """The dashboard serving that store."""
    with dashboard(wf_client.settings.home, db_url) as base:
        yield base


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    """A logged-in browser page."""
    with logged_in(browser, site) as pg:
        yield pg


def _by_dashboard(client: Client, run_id: str, kind: EventKind) -> list[dict[str, Any]]:
    """Payloads of ``kind`` events on a run's timeline that the dashboard's user recorded."""
    return [
        e.payload
        for e in client.events(run_id)
        if e.kind is kind and "(dashboard)" in str(e.payload.get("by", ""))
    ]


def test_the_overview_shows_workflow_labels_and_the_inbox_count(
    page: Any, wf_client: Client
) -> None:
    """Each workflow appears with its label, and "needs attention" counts what `runwright
    inbox` lists (write in doubt, escalation, stale input)."""
    card = page.locator("[data-testid=overview-workflows]")
    rows = {r.locator("a.strong").inner_text(): r.inner_text() for r in card.locator(".row").all()}
    assert "Needs attention" in rows["cases"]
    assert "Idle" in rows["hourly"]
    assert "Needs attention" in rows["chain"]
    expected = len(Inbox(wf_client).items())
    assert expected == 3
    assert page.locator("[data-testid=needs-attention] .n").inner_text() == str(expected)
    attention = page.locator("#attention").inner_text()
    assert "Could not confirm" in attention
    assert "Ticket T-17" in attention
    save_screenshot(page, "overview-workflows.png")


def test_the_workflows_list_shows_label_schedule_last_run_and_flags(page: Any, site: str) -> None:
    """The list shows every workflow's label, producer schedule, last run and its flags."""
    page.goto(f"{site}/workflows")
    table = page.locator("[data-testid=workflows-table]")
    hourly = table.locator("tr[data-workflow=hourly]").inner_text()
    assert "Idle" in hourly
    assert "cron 0 * * * *" in hourly
    assert "committed" in hourly
    cases = table.locator("tr[data-workflow=cases]").inner_text()
    assert "every 1h" in cases
    assert "reconciliation" in cases
    assert "maintenance" in table.locator("tr[data-workflow=chain]").inner_text()


def test_a_workflow_page_shows_handlers_topics_and_recent_runs(
    page: Any, site: str, story: WorkflowStory
) -> None:
    """The cases page lists both handlers, the write in doubt, and its handler runs, the
    paused one first; it offers the inbox instead of a Resume that would be refused."""
    page.goto(f"{site}/workflows/cases")
    handlers = page.locator("[data-testid=handlers]").inner_text()
    assert "feed" in handlers
    assert "every 1h" in handlers
    assert "Work" in handlers
    assert "ext.write" in page.locator("[data-testid=workflow-doubtful]").inner_text()
    first = page.locator("[data-testid=handler-runs] tbody tr").first.inner_text()
    assert "paused:reconciliation" in first
    assert story.doubt_run[-8:] in first
    actions = page.locator("[data-testid=workflow-actions]").inner_text()
    assert "Decide in the inbox" in actions
    assert "Resume" not in actions
    assert "Pause" in actions


def test_pause_and_resume_from_the_workflow_page(page: Any, site: str, wf_client: Client) -> None:
    """Pause stops the workflow (Stopped) and Resume makes it active again, ending its
    maintenance; both are recorded with the dashboard's user on its waiting run."""
    retry_run = wf_client.workflows.get("chain").pending_retry_run_id
    assert retry_run is not None
    page.goto(f"{site}/workflows/chain")
    page.click("[data-testid=workflow-actions] button:has-text('Pause')")
    assert "paused" in page.locator("[data-testid=notice]").inner_text()
    record = wf_client.workflows.get("chain")
    assert (record.status, record.label.value) == (WorkflowStatus.PAUSED, "Stopped")
    assert "Stopped" in page.locator("h1").inner_text()
    page.click("[data-testid=workflow-actions] button:has-text('Resume')")
    assert "resumed" in page.locator("[data-testid=notice]").inner_text()
    record = wf_client.workflows.get("chain")
    assert record.status is WorkflowStatus.ACTIVE
    assert not record.maintenance
    actions = [p["action"] for p in _by_dashboard(wf_client, retry_run, EventKind.HUMAN_ACTION)]
    assert actions == ["workflow:paused", "workflow:active"]


def test_the_topics_list_counts_events_by_status(page: Any, site: str) -> None:
    """Each topic shows its events per status: cases/in has 2 pending, 1 reserved (the write
    in doubt) and 1 consumed."""
    page.goto(f"{site}/topics")
    row = page.locator("tr[data-topic='cases/in'] td.num")
    assert [c.strip() for c in row.all_inner_texts()] == ["2", "1", "1", "0"]
    assert "1" in page.locator("tr[data-topic='hourly/ticks']").inner_text()


def test_a_topics_events_filter_by_status_and_page(page: Any, site: str, wf_client: Client) -> None:
    """The status tabs filter a topic's events; more than a page of events is paged with an
    'older events' link that continues where the first page ended."""
    for n in range(52):
        wf_client.workflows.publish("hourly", "ticks", f"tick:{n:03d}", {"n": n})
    page.goto(f"{site}/topics/cases/in")
    page.click("[data-testid=status-tabs] a:has-text('pending')")
    rows = page.locator("[data-testid=events-table] tbody tr")
    assert rows.count() == 2
    assert all("pending" in t for t in rows.all_inner_texts())
    page.click("[data-testid=status-tabs] a:has-text('consumed')")
    assert "item:a" in page.locator("[data-testid=events-table]").inner_text()
    page.goto(f"{site}/topics/hourly/ticks")
    first = set(
        page.locator("[data-testid=events-table] tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.event)"
        )
    )
    assert len(first) == 50
    page.click("text=older events")
    second = set(
        page.locator("[data-testid=events-table] tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.event)"
        )
    )
    assert len(second) == 3
    assert not first & second


def test_an_event_page_shows_payload_history_runs_and_inputs(
    page: Any, site: str, story: WorkflowStory
) -> None:
    """A consumed event shows its payload, its history (published → reserved → consumed),
    the run that consumed it and the input that caused it."""
    page.goto(f"{site}/events/{story.consumed_event}")
    assert '"name": "a"' in page.locator("[data-testid=event-payload]").inner_text()
    history = page.locator("[data-testid=event-history] .what").all_inner_texts()
    assert [h.lower() for h in history] == ["published", "reserved", "consumed"]
    body = page.locator("main").inner_text()
    assert "Item a" in body
    assert "Work" in body
    assert page.locator("button:has-text('Skip event')").count() == 0


def test_the_event_of_a_write_in_doubt_cannot_be_skipped_from_its_page(
    page: Any, site: str, story: WorkflowStory
) -> None:
    """The event reserved by the run whose write is in doubt offers no Skip (it would be
    refused) and points to the inbox."""
    page.goto(f"{site}/events/{story.doubt_event}")
    assert page.locator("button:has-text('Skip event')").count() == 0
    assert "decide in the inbox" in page.locator(".hero").inner_text()


def test_skipping_an_event_records_who_did_it(
    page: Any, site: str, wf_client: Client, story: WorkflowStory
) -> None:
    """Skip event (after confirming) marks a pending event skipped; the producer run that
    published it records the skip with the dashboard's user."""
    event_id = story.pending_events[0]
    page.goto(f"{site}/events/{event_id}")
    page.on("dialog", lambda d: d.accept())
    page.click("button:has-text('Skip event')")
    assert "is skipped" in page.locator("[data-testid=notice]").inner_text()
    event = wf_client.workflows.event(event_id)
    assert event.status is EventStatus.SKIPPED
    assert event.created_by_run_id is not None
    skips = _by_dashboard(wf_client, event.created_by_run_id, EventKind.TOPIC_EVENT_SKIPPED)
    assert [p["event_id"] for p in skips] == [event_id]
    history = page.locator("[data-testid=event-history]").inner_text()
    assert "(dashboard)" in history


def test_inputs_are_flagged_stale_and_filtered(page: Any, site: str) -> None:
    """Only the ten-day-old pending input is stale; the stale and done tabs filter; a
    ?stale_days= override (like --stale-days) flags younger pending inputs too."""
    page.goto(f"{site}/inputs")
    stale_rows = page.locator("[data-testid=inputs-table] tr.stale-row")
    assert stale_rows.count() == 1
    assert "Ticket T-17" in stale_rows.first.inner_text()
    page.click("[data-testid=input-tabs] a:has-text('stale')")
    rows = page.locator("[data-testid=inputs-table] tbody tr")
    assert rows.count() == 1
    assert "Ticket T-17" in rows.first.inner_text()
    page.click("[data-testid=input-tabs] a:has-text('done')")
    assert page.locator("[data-testid=inputs-table] tbody tr").all_inner_texts()[0].count("Item a")
    page.goto(f"{site}/inputs?status=stale&stale_days=0.01")
    assert page.locator("[data-testid=inputs-table] tbody tr").count() == 4


def test_an_input_page_tells_what_happened(page: Any, site: str, story: WorkflowStory) -> None:
    """The done input shows its event consumed by a Work run whose write ext.write applied
    with its real parameters and result."""
    page.goto(f"{site}/inputs/{story.done_input}")
    story_text = page.locator("[data-testid=what-happened]").inner_text()
    assert "in/item:a" in story_text
    assert "consumed" in story_text
    assert "Work run" in story_text
    assert "committed" in story_text
    assert re.search(r'ext\.write\s+applied\s+\{"item": "a"\}', story_text), story_text
    assert "w-a" in story_text
    runs = page.locator("[data-testid=input-runs]").inner_text()
    assert "feed" in runs
    assert "Work" in runs


def test_skipping_an_input_skips_its_open_events(
    page: Any, site: str, wf_client: Client, story: WorkflowStory
) -> None:
    """Skip input marks a pending input skipped and its pending event with it, recorded with
    the dashboard's user on the run that published the event."""
    input_id = story.pending_inputs[0]
    page.goto(f"{site}/inputs/{input_id}")
    page.on("dialog", lambda d: d.accept())
    page.click("button:has-text('Skip input')")
    assert "is skipped" in page.locator("[data-testid=notice]").inner_text()
    detail = wf_client.workflows.input(input_id)
    assert detail.input.status is InputStatus.SKIPPED
    (event,) = detail.events
    assert event.status is EventStatus.SKIPPED
    assert event.created_by_run_id is not None
    skips = _by_dashboard(wf_client, event.created_by_run_id, EventKind.TOPIC_EVENT_SKIPPED)
    assert [p["event_id"] for p in skips] == [event.event_id]


DOCS_SCREENSHOT = ROOT / "docs" / "images" / "dashboard-overview.png"


def _core_runs(c: Client, root: Path) -> dict[str, str]:
    """Real runs in most states: a demo with evidence, a DAG, a failure, a waiting sleeper, a
    cancelled one, a run paused on a step in doubt, an op run with a packet and two patches."""
    from runwright.examples.tally import tally, write_sample
    from tests.acceptance.test_web_core import _parts

    source = write_sample(root / "in.csv")
    demo = c.wait(c.start(tally, str(source), str(root / "report.csv")).run_id, timeout=60)
    c.wait(c.start(engine_jobs.dag_job, str(root / "dag"), 2, 3).run_id, timeout=60)
    c.wait(c.start(engine_jobs.fatal_job, "nonretryable").run_id, timeout=60)
    c.start(engine_jobs.sleeper, 3600)
    gone = c.start(engine_jobs.sleeper, 3600)
    c.run_until_idle()
    c.cancel(gone.run_id)
    flag = root / "flag"
    flag.touch()
    doubt = c.start(engine_jobs.charge_job, str(root / "charges"), str(flag), "none")
    with pytest.raises(engine_jobs.SimulatedCrash):
        c.worker(register=False, lease_seconds=0.5).run(until_idle=True)
    time.sleep(0.7)
    c.worker(register=False).run(until_idle=True)
    op_run, _, _, _ = _parts(c, root)
    return {"demo": demo.run_id, "doubt": doubt.run_id, "op_run": op_run}


def test_the_overview_shows_runs_workflows_workers_and_the_inbox_together(
    browser: Any, real_client: Client, wf_client: Client, tmp_path: Path, db_url: str
) -> None:
    """With runs in every live state (one running on a real worker, one pending behind it),
    an op run, patches and three workflows, the overview shows the state tiles, the workflows
    with their labels, the live worker and the inbox items; screenshots of it and of a
    handler run's page are saved (and the overview to docs/images/ when
    RUNWRIGHT_WRITE_DOCS_SCREENSHOT=1, from the SQLite run)."""
    runs = _core_runs(real_client, tmp_path)
    story = build_workflow_story(wf_client)
    slow = real_client.start(engine_jobs.slow_job, str(tmp_path / "slow"), 90.0, None)
    real_client.start(engine_jobs.leaf, str(tmp_path / "after"), "after", depends_on=[slow.run_id])
    home = real_client.settings.home
    worker = start_worker(home, db_url, log=tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 30
        while real_client.get(slow.run_id).state is not RunState.RUNNING:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.1)
        with dashboard(home, db_url) as base, logged_in(browser, base) as page:
            page.set_viewport_size({"width": 1280, "height": 1000})
            page.goto(base)
            tiles = page.locator("[data-testid=state-tiles]")
            for state in ("pending", "running", "waiting", "succeeded", "failed", "canceled"):
                count = tiles.locator(f"a[href='/runs?state={state}'] .count").inner_text()
                assert int(count) >= 1, state
            card = page.locator("[data-testid=overview-workflows]").inner_text()
            assert "cases" in card
            assert "hourly" in card
            assert "chain" in card
            attention = page.locator("#attention").inner_text()
            assert "Steps in doubt" in attention
            assert runs["doubt"][-4:] in attention
            assert "worker" in page.locator("main").inner_text()
            shot = save_screenshot(page, "overview-full.png")
            if os.environ.get("RUNWRIGHT_WRITE_DOCS_SCREENSHOT") == "1" and "sqlite" in db_url:
                DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(DOCS_SCREENSHOT), full_page=False)
            assert shot.stat().st_size > 10_000
            page.goto(f"{base}/runs/{story.doubt_run}")
            assert "mutation_indeterminate" in page.locator("[data-testid=timeline]").inner_text()
            assert "cases / Work" in page.locator("[data-testid=handler]").inner_text()
            save_screenshot(page, "run-handler.png")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)

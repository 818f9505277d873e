"""The dashboard's inbox in a real headless Chromium: every section `runwright inbox` lists,
each action carried out and recorded, sections added by other parts, and the protections."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import engine_jobs
import httpx
import pytest

from runwright.api import inbox as inbox_api
from runwright.api.client import Client
from runwright.api.inbox import ActionField, Inbox, InboxOptions, ItemAction
from runwright.config import Settings, load_settings
from runwright.domain.events import EventKind
from runwright.domain.states import StateReason, StepState
from runwright.domain.workflows import (
    EventStatus,
    InputStatus,
    MutationStatus,
    ResolvedBy,
    WorkflowStatus,
)
from runwright.domain.workflows.models import InboxAction, InboxItem
from runwright.engine.clock import FakeClock
from runwright.web import create_app
from runwright.web.security import SESSION_COOKIE, csrf_value, session_value
from tests.web import (
    TOKEN,
    WorkflowStory,
    build_workflow_story,
    dashboard,
    logged_in,
    serve_in_thread,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def wf_client(settings: Settings) -> Iterator[Client]:
    """A client on the test's store whose clock the workflow story moves."""
    c = Client.open(settings, clock=FakeClock())
    yield c
    c.close()


@pytest.fixture
def doubt_step(real_client: Client, tmp_path: Path) -> str:
    """A core run paused because a worker died inside a non-idempotent step (made before the
    workflows, so its real-clock worker runs none of theirs)."""
    flag = tmp_path / "flag"
    flag.touch()
    run = real_client.start(engine_jobs.charge_job, str(tmp_path / "charges"), str(flag), "none")
    with pytest.raises(engine_jobs.SimulatedCrash):
        real_client.worker(register=False, lease_seconds=0.5).run(until_idle=True)
    time.sleep(0.7)
    real_client.worker(register=False).run(until_idle=True)
    assert real_client.get(run.run_id).state_reason == StateReason.PAUSED_RECONCILIATION
    return run.run_id


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
    """A logged-in browser page on the inbox."""
    with logged_in(browser, site) as pg:
        pg.goto(f"{site}/inbox")
        yield pg


def _item(page: Any, item_id: str) -> Any:
    return page.locator(f"article[data-item='{item_id}']")


def _human_actions(client: Client, run_id: str) -> list[str]:
    """The human actions the dashboard's user recorded on a run."""
    return [
        e.payload["action"]
        for e in client.events(run_id)
        if e.kind is EventKind.HUMAN_ACTION and "(dashboard)" in str(e.payload.get("by"))
    ]


def test_the_inbox_lists_every_section_with_the_real_call_parameters(
    page: Any, wf_client: Client, story: WorkflowStory
) -> None:
    """The page shows exactly the items `runwright inbox` computes, by section; the write in
    doubt shows the call's real parameters, its idempotency key and the three decisions."""
    items = Inbox(wf_client).items()
    assert page.locator("[data-testid=inbox-count] .n").inner_text() == str(len(items))
    for item in items:
        assert _item(page, item.item_id).count() == 1, item
    mutation = wf_client.workflows.mutation(story.doubt_mutation)
    card = _item(page, story.doubt_mutation)
    text = card.inner_text()
    assert f'"item": "{mutation.params["item"]}"' in text
    assert mutation.idempotency_key in text
    assert "ext.write" in text
    buttons = card.locator("button").all_inner_texts()
    assert buttons == ["Try again", "It didn't happen", "Skip"]
    assert page.locator("[data-testid=section-stale_inputs]").inner_text().count("Ticket T-17")
    escalation = page.locator("[data-testid=section-escalations]").inner_text()
    assert "runwright workflow deploy workflows_cases:chain" in escalation


def test_try_again_hands_the_write_back_to_reconciliation(
    page: Any, wf_client: Client, story: WorkflowStory
) -> None:
    """Try again puts the mutation back to needs_reconcile with fresh attempts; the decision
    is recorded on its run with the dashboard's user, and it leaves the inbox."""
    _item(page, story.doubt_mutation).locator("button:has-text('Try again')").click()
    assert "try again" in page.locator("[data-testid=notice]").inner_text()
    m = wf_client.workflows.mutation(story.doubt_mutation)
    assert m.status is MutationStatus.NEEDS_RECONCILE
    assert m.reconcile_attempts == 0
    assert _human_actions(wf_client, story.doubt_run) == ["mutation:try-again"]
    assert _item(page, story.doubt_mutation).count() == 0


def test_it_didnt_happen_releases_the_events_for_a_fresh_run(
    page: Any, wf_client: Client, story: WorkflowStory
) -> None:
    """It didn't happen (confirmed) fails the mutation as asserted by a person and puts its
    event back to pending, so a fresh run makes the write again."""
    page.on("dialog", lambda d: d.accept())
    _item(page, story.doubt_mutation).locator("button:has-text('happen')").click()
    assert "did not happen" in page.locator("[data-testid=notice]").inner_text()
    m = wf_client.workflows.mutation(story.doubt_mutation)
    assert (m.status, m.resolved_by) == (MutationStatus.FAILED, ResolvedBy.USER_ASSERT_FAILED)
    assert wf_client.workflows.event(story.doubt_event).status is EventStatus.PENDING
    assert _human_actions(wf_client, story.doubt_run) == ["mutation:did-not-happen"]
    assert wf_client.workflows.get("cases").error == ""


def test_skip_gives_up_the_write_and_skips_its_event(
    page: Any, site: str, wf_client: Client, story: WorkflowStory
) -> None:
    """Skip (confirmed) settles the mutation as skipped by a person (its own status, not
    failed: the write may have happened) and skips its event; the input's page shows the
    write as skipped."""
    page.on("dialog", lambda d: d.accept())
    _item(page, story.doubt_mutation).locator("button.danger:has-text('Skip')").click()
    assert "skip → skipped" in page.locator("[data-testid=notice]").inner_text()
    m = wf_client.workflows.mutation(story.doubt_mutation)
    assert (m.status, m.resolved_by) == (MutationStatus.SKIPPED, ResolvedBy.USER_SKIP)
    event = wf_client.workflows.event(story.doubt_event)
    assert event.status is EventStatus.SKIPPED
    assert _human_actions(wf_client, story.doubt_run) == ["mutation:skip"]
    page.goto(f"{site}/inputs/{event.caused_by[0]}")
    story_text = page.locator("[data-testid=what-happened]").inner_text()
    assert "→ write ext.write skipped" in " ".join(story_text.split())


def test_a_stale_input_is_skipped_from_the_inbox(
    page: Any, wf_client: Client, story: WorkflowStory
) -> None:
    """Skip on the stale input skips it and its event; it leaves the inbox."""
    page.on("dialog", lambda d: d.accept())
    _item(page, story.stale_input).locator("button:has-text('Skip')").click()
    assert "is skipped" in page.locator("[data-testid=notice]").inner_text()
    detail = wf_client.workflows.input(story.stale_input)
    assert detail.input.status is InputStatus.SKIPPED
    assert [e.status for e in detail.events] == [EventStatus.SKIPPED]
    assert _item(page, story.stale_input).count() == 0
    page.click(f"article[data-item='{story.doubt_mutation}'] a:has-text('cases')")
    assert page.url.endswith("/workflows/cases")


def test_an_escalated_workflow_is_resumed_from_the_inbox(
    page: Any, wf_client: Client, story: WorkflowStory
) -> None:
    """Resume on the workflow waiting for a fix ends its maintenance, recorded on its run."""
    retry_run = wf_client.workflows.get("chain").pending_retry_run_id
    assert retry_run is not None
    _item(page, "chain").locator("button:has-text('Resume')").click()
    assert "resumed" in page.locator("[data-testid=notice]").inner_text()
    record = wf_client.workflows.get("chain")
    assert record.status is WorkflowStatus.ACTIVE
    assert not record.maintenance
    assert _human_actions(wf_client, retry_run) == ["workflow:active"]


def test_a_step_in_doubt_is_settled_from_the_inbox(
    doubt_step: str, page: Any, site: str, real_client: Client
) -> None:
    """A result that is not JSON is refused with the reason and changes nothing; 'It
    happened' with a JSON result completes the step (the run is ready to go on) and the item
    leaves the inbox."""
    (item,) = [i for i in Inbox(real_client).items() if i.section == "steps_in_doubt"]
    assert item.run_id == doubt_step
    card = _item(page, item.item_id)
    card.locator("input[name=result]").fill("{not json")
    card.locator("button:has-text('It happened')").click()
    assert "is not JSON" in page.locator("main").inner_text()
    assert real_client.get(doubt_step).state_reason == StateReason.PAUSED_RECONCILIATION
    page.goto(f"{site}/inbox")
    card = _item(page, item.item_id)
    card.locator("input[name=result]").fill('"charged by hand"')
    card.locator("button:has-text('It happened')").click()
    assert "resolved" in page.locator("[data-testid=notice]").inner_text()
    step_key = item.item_id.split(":", 1)[1]
    (attempt,) = [s for s in real_client.steps(doubt_step) if s.step_key == step_key]
    assert attempt.state is StepState.COMPLETED
    assert _human_actions(real_client, doubt_step) == ["resolve-step:mark-done"]
    assert _item(page, item.item_id).count() == 0


def test_actions_need_the_session_and_the_csrf_value(
    site: str, wf_client: Client, story: WorkflowStory
) -> None:
    """Every new action is refused without the session cookie (401), without or with a wrong
    CSRF value, or from another origin (403), and then nothing changed; with both it works."""
    good = csrf_value(TOKEN)
    actions = [
        ("/workflows/hourly/pause", {}),
        ("/workflows/chain/resume", {}),
        (f"/events/{story.pending_events[0]}/skip", {}),
        (f"/inputs/{story.pending_inputs[1]}/skip", {}),
        (
            "/inbox/act",
            {"section": "mutations", "item_id": story.doubt_mutation, "action": "Skip"},
        ),
    ]
    with httpx.Client(base_url=site) as anonymous:
        for url, form in actions:
            assert anonymous.post(url, data={**form, "csrf": good}).status_code == 401, url
    with httpx.Client(base_url=site) as http:
        http.get(f"/login?token={TOKEN}")
        evil = {"Origin": "http://evil.example"}
        for url, form in actions:
            assert http.post(url, data=form).status_code == 403, url
            assert http.post(url, data={**form, "csrf": "x" * 64}).status_code == 403, url
            refused = http.post(url, data={**form, "csrf": good}, headers=evil)
            assert refused.status_code == 403, url
        ws = wf_client.workflows
        assert ws.get("hourly").status is WorkflowStatus.ACTIVE
        assert ws.get("chain").maintenance
        assert ws.event(story.pending_events[0]).status is EventStatus.PENDING
        assert ws.input(story.pending_inputs[1]).input.status is InputStatus.PENDING
        assert ws.mutation(story.doubt_mutation).status is MutationStatus.INDETERMINATE
        done = http.post("/workflows/hourly/pause", data={"csrf": good})
        assert done.status_code == 303
        assert ws.get("hourly").status is WorkflowStatus.PAUSED


def test_a_section_added_by_another_part_shows_up_with_its_answer_form(
    browser: Any, tmp_path: Path
) -> None:
    """A section registered through register_section renders with no template work (title,
    detail, body fields, actions); its registered 'Answer' action shows a required text
    area and receives the answer and the dashboard's user; an action nobody registered shows
    its command; an empty answer posted anyway is refused."""
    settings = load_settings(
        env={},
        overrides={"home": tmp_path / ".runwright", "database_url": f"sqlite:///{tmp_path}/s.db"},
    )
    client = Client.open(settings)
    answers: list[tuple[str, str, str]] = []

    def questions(c: Client, opts: InboxOptions) -> list[InboxItem]:
        return [
            InboxItem(
                section="plan_questions",
                item_id="Q-1",
                title="Which database should the export stage target?",
                detail="stage 2 of plan export-fix waits for an answer",
                created_at=opts.now,
                params={"options": ["sqlite", "postgres"], "asked_by": "stage 2"},
                actions=[
                    InboxAction(name="Answer", command="runwright plan answer Q-1 TEXT"),
                    InboxAction(name="Later", command="runwright plan snooze Q-1"),
                ],
            )
        ]

    def answer(c: Client, item_id: str, values: Mapping[str, str], by: str) -> str:
        answers.append((item_id, values["answer"], by))
        return f"answered {item_id}"

    field = ActionField("answer", "Your answer", kind="textarea", required=True)
    inbox_api.register_section("plan_questions", questions)
    inbox_api.register_action("plan_questions", "Answer", ItemAction(answer, fields=(field,)))
    app = create_app(client, token=TOKEN, actor="tester (dashboard)")
    try:
        with serve_in_thread(app) as base, logged_in(browser, base) as page:
            page.goto(f"{base}/inbox")
            section = page.locator("[data-testid=section-plan_questions]")
            text = section.inner_text()
            assert "Plan questions" in text
            assert "Which database should the export stage target?" in text
            assert "stage 2 of plan export-fix waits" in text
            assert '"postgres"' in text
            assert "runwright plan snooze Q-1" in text
            assert section.locator("textarea[name=answer][required]").count() == 1
            section.locator("textarea[name=answer]").fill("postgres, schema export")
            section.locator("button:has-text('Answer')").click()
            assert "answered Q-1" in page.locator("[data-testid=notice]").inner_text()
            assert answers == [("Q-1", "postgres, schema export", "tester (dashboard)")]
            cookies = {SESSION_COOKIE: session_value(TOKEN)}
            form = {"csrf": csrf_value(TOKEN), "section": "plan_questions", "item_id": "Q-1"}
            with httpx.Client(base_url=base, cookies=cookies) as http:
                empty = http.post("/inbox/act", data={**form, "action": "Answer", "answer": " "})
                assert empty.status_code == 400
                assert "Your answer is required" in empty.text
                unknown = http.post("/inbox/act", data={**form, "action": "Later"})
                assert unknown.status_code == 404
            assert len(answers) == 1
    finally:
        inbox_api._extra.pop("plan_questions", None)
        inbox_api._actions.pop(("plan_questions", "Answer"), None)
        client.close()


def test_a_stale_input_counts_even_behind_many_newer_pending_ones(wf_client: Client) -> None:
    """The stale section (which the overview counts) finds an input pending for ten days
    although more than a page (200) of younger inputs are pending too."""
    import workflows_cases as wc

    clock: FakeClock = wf_client.clock  # type: ignore[assignment]
    clock.set(datetime.now(UTC) - timedelta(days=10))
    wf_client.workflows.deploy(wc.hourly)
    old = wf_client.workflows.publish(
        "hourly", "ticks", "old", None, input=("tracker", "ticket", "T-1", "old ticket")
    )
    clock.set(datetime.now(UTC) - timedelta(hours=1))
    for n in range(205):
        wf_client.workflows.publish(
            "hourly", "ticks", f"new-{n}", None, input=("tracker", "ticket", f"N-{n}", "")
        )
    stale = [i for i in Inbox(wf_client).items() if i.section == "stale_inputs"]
    assert [i.item_id for i in stale] == old.caused_by

"""The dashboard's plan pages in a real headless Chromium, over real plan runs of the example
repository (real git, the scripted agent as a real program) on SQLite and PostgreSQL: the
plans list, a complete plan and one waiting on an escalation (stage flow, gates, rounds,
corrections, the contract, the validation report), answering the escalation from the page, the
protections of that action, and the links from run pages and the overview."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from runwright.api.client import Client
from runwright.api.inbox import Inbox
from runwright.domain.events import EventKind
from runwright.domain.plan_records import EscalationStatus, PlanStatus
from runwright.domain.runs import RunKind
from runwright.web.security import csrf_value
from tests import pg
from tests.web import (
    TOKEN,
    dashboard,
    logged_in,
    run_example_plan,
    save_screenshot,
)

pytestmark = pytest.mark.slow
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "dashboard-plan.png"


@dataclass
class PlanStory:
    """Two plan runs in one store, each in its own example repository (project ``greet``)."""

    db_url: str
    home: Path
    complete: str
    escalated: str


def _database(request: pytest.FixtureRequest, root: Path) -> Iterator[str]:
    """A fresh SQLite file or PostgreSQL schema for ``request.param``."""
    if request.param == "sqlite":
        yield f"sqlite:///{root / 'state.db'}"
        return
    base: str = request.getfixturevalue("pg_base_url")
    schema = pg.create_schema(base)
    try:
        yield pg.schema_url(base, schema)
    finally:
        pg.drop_schema(base, schema)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """greet.yaml run to its contract, then greet-escalates.yaml left waiting on a decision."""
    root = tmp_path_factory.mktemp(f"plans-{request.param}")
    for db_url in _database(request, root):
        complete = run_example_plan(root / "complete", "greet", db_url)
        escalated = run_example_plan(root / "escalates", "greet-escalates", db_url)
        # the dashboard runs in the second repository: evidence files live in a project's home
        yield PlanStory(db_url, root / "escalates" / "greet" / ".runwright", complete, escalated)


@pytest.fixture(scope="module")
def site(story: PlanStory) -> Iterator[str]:
    """The dashboard serving the story's store, as project greet."""
    with dashboard(story.home, story.db_url) as base:
        yield base


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    """A logged-in browser page."""
    with logged_in(browser, site) as pg_:
        yield pg_


@pytest.fixture
def client(story: PlanStory) -> Iterator[Client]:
    """A client on the story's store (project greet)."""
    from plans_support import open_client

    c = open_client(story.home.parent, story.db_url)
    yield c
    c.close()


def _gate_statuses(page: Any) -> dict[str, str]:
    flow = page.locator("[data-testid=plan-flow]")
    return {
        g.get_attribute("data-gate"): g.get_attribute("data-status")
        for g in flow.locator("li.fgate").all()
    }


def test_the_plans_list_shows_each_plan_with_status_stage_gates_and_contract(
    page: Any, site: str, story: PlanStory
) -> None:
    """/plans (in the nav) lists both plan runs newest first with plan id, title, coloured
    status, where each stands, its four gates at a glance and a link to its contract."""
    page.goto(site)
    page.get_by_role("link", name="Plans", exact=True).click()
    page.wait_for_url(f"{site}/plans")
    rows = page.locator("[data-testid=plans-table] tbody tr")
    assert [r.get_attribute("data-plan-run") for r in rows.all()] == [
        story.escalated,
        story.complete,
    ]
    waiting = page.locator(f"tr[data-plan-run='{story.escalated}']")
    assert "greet-escalates" in waiting.inner_text()
    assert "never gets it right" in waiting.inner_text()
    badge = waiting.locator(".badge")
    assert badge.inner_text() == "waiting_decision"
    assert "st-waiting" in (badge.get_attribute("class") or "")
    assert "implementation gate" in waiting.inner_text()
    marks = waiting.locator(".mini-gates .mg")
    assert [m.get_attribute("class") for m in marks.all()] == [
        "mg g-passed",
        "mg g-passed",
        "mg g-escalated",
        "mg g-pending",
    ]
    done = page.locator(f"tr[data-plan-run='{story.complete}']")
    assert done.locator(".badge").inner_text() == "complete"
    assert "st-ok" in (done.locator(".badge").get_attribute("class") or "")
    assert done.locator(".mini-gates .g-passed").count() == 4
    done.get_by_role("link", name="contract", exact=True).click()
    page.wait_for_url(f"{site}/plans/{story.complete}#contract")
    assert page.locator("[data-testid=plan-contract]").is_visible()
    page.goto(f"{site}/plans")
    save_screenshot(page, "plans-list.png")


def test_a_complete_plan_shows_its_flow_rounds_commits_and_contract(
    page: Any, site: str, story: PlanStory, client: Client
) -> None:
    """Every gate passed with no correction; each phase's first try shows its commit, its
    patch (a link to the patch page) and its child run; the contract reads as a table with
    `none` shown as such; the raw JSON and the validation report (per requirement, per phase)
    are one click away; a finished plan's page does not poll."""
    view = client.plans.get(story.complete)
    contract = client.plans.completion(story.complete)
    page.goto(f"{site}/plans/{story.complete}")
    assert page.locator("[data-testid=plan-status] .badge").inner_text() == "complete"
    assert _gate_statuses(page) == {
        "preflight": "passed",
        "test": "passed",
        "implementation": "passed",
        "validation": "passed",
    }
    assert page.locator("[data-testid=plan-flow] [data-testid=corrections]").count() == 0
    assert page.locator("main").get_attribute("data-poll") == "0"
    assert "T1 ∥ T2" in page.locator("[data-testid=schedule-tests]").inner_text()
    assert "I1 ∥ I2" in page.locator("[data-testid=schedule-implementation]").inner_text()
    for d in view.phases:
        card = page.locator(f"article[data-phase='{d.phase_id}']")
        text = card.inner_text()
        assert view.plan.phase(d.phase_id).owner_role in text
        round_ = card.locator("li.round[data-round='0']")
        assert "first try" in round_.inner_text()
        assert "committed" in round_.inner_text()
        (commit,) = d.outcome["commits"]  # type: ignore[misc]
        assert round_.locator(f"code.sha[title='{commit}']").count() == 1
        (patch_id,) = d.outcome["patch_ids"]  # type: ignore[misc]
        assert round_.locator(f"a[href='/patches/{patch_id}']").count() == 1
        assert round_.locator(f"a[href='/runs/{d.child_run_id}']").count() == 1
    assert page.locator("[data-testid=correction]").count() == 0
    gates = page.locator("[data-testid=plan-gates]")
    assert gates.locator(".gate-eval.g-passed").count() == 4
    assert "tests parse" in gates.inner_text()
    table = page.locator("[data-testid=plan-contract]")
    row = table.locator("tr[data-field='open_issues']")
    assert row.locator(".none").inner_text() == "none"
    assert table.locator("tr[data-field='execution_status'] .badge").inner_text() == "complete"
    for sha in contract["test_commit_hashes"] + contract["implementation_commit_hashes"]:
        assert table.locator(f"code.sha[title='{sha}']").count() == 1
    sessions = table.locator("tr[data-field='member_delegations']")
    for member in contract["member_delegations"]:
        for run_id in member["session_ids"]:
            assert sessions.locator(f"a[href='/runs/{run_id}']").count() == 1
    save_screenshot(page, "plan-complete.png")

    raw = httpx.get(
        f"{site}/plans/{story.complete}/contract.json",
        cookies={c["name"]: c["value"] for c in page.context.cookies()},
    )
    assert raw.status_code == 200
    assert raw.json() == json.loads(json.dumps(contract))

    page.locator("[data-testid=validation-link]").click()
    page.wait_for_url(f"{site}/plans/{story.complete}/validation")
    report = client.plans.validation_report(story.complete)
    assert report is not None
    traces = page.locator("[data-testid=trace-table]")
    for t in report.requirements:
        assert t.status.value == "traced"
        assert "traced" in traces.locator(f"tr[data-requirement='{t.requirement_id}']").inner_text()
    phases = page.locator("[data-testid=phase-table]")
    for p in report.phases:
        assert "committed" in phases.locator(f"tr[data-phase='{p.phase_id}']").inner_text()
    assert "2/2" in page.locator("[data-testid=validation-summary]").inner_text()


def test_an_escalated_plan_shows_its_corrections_defects_and_the_decision(
    page: Any, site: str, story: PlanStory, client: Client
) -> None:
    """The implementation gate shows escalated after 2 corrections; I1 has three rounds, the
    two corrections carrying their request (failed gate, defect, required correction,
    unchanged acceptance criteria); the gate results list each failure's defects with class,
    severity and evidence linked to runs, patches and logs; the open escalation shows its
    payload, both options with the preferred one, and the answer form; the page polls.
    (Writes docs/images/dashboard-plan.png when RUNWRIGHT_WRITE_DOCS_SCREENSHOT=1, on SQLite.)"""
    esc = client.plans.get(story.escalated).open_escalation()
    assert esc is not None
    page.goto(f"{site}/plans/{story.escalated}")
    statuses = _gate_statuses(page)
    assert statuses == {
        "preflight": "passed",
        "test": "passed",
        "implementation": "escalated",
        "validation": "pending",
    }
    impl = page.locator("[data-testid=plan-flow] li.fgate[data-gate='implementation']")
    assert impl.locator("[data-testid=corrections]").inner_text() == "2 corrections"
    assert page.locator("[data-testid=plan-current]").inner_text() == "implementation gate"
    assert page.locator("main").get_attribute("data-poll") == "2000"
    i1 = page.locator("article[data-phase='I1']")
    assert [r.get_attribute("data-round") for r in i1.locator("li.round").all()] == ["0", "1", "2"]
    assert "correction 2" in i1.locator("li.round[data-round='2'] .rlabel").inner_text()
    corrections = i1.locator("[data-testid=correction]")
    assert corrections.count() == 2
    first = corrections.nth(0).inner_text()
    assert "Correction request 1 of 2 — the implementation gate failed" in first
    assert "phase I1 did not commit" in first
    assert "required correction" in first
    assert "requirement R1" in first  # the unchanged acceptance criteria
    assert "Correction request 2 of 2" in corrections.nth(1).inner_text()
    failed = page.locator("[data-testid=plan-gates] .gate-eval.g-failed")
    assert failed.count() == 3
    defects = failed.nth(0).locator("[data-testid=defects]")
    assert "implementation-defect" in defects.inner_text()
    assert "critical" in defects.inner_text()
    assert defects.locator("a[href^='/runs/']").count() >= 1
    assert defects.locator("a[href^='/patches/']").count() >= 1
    log = defects.locator("a[href*='/evidence/']").first
    body = httpx.get(
        site + str(log.get_attribute("href")),
        cookies={c["name"]: c["value"] for c in page.context.cookies()},
    )
    assert body.status_code == 200
    assert "FAIL" in body.text or "Error" in body.text

    card = page.locator("[data-testid=escalation-open]")
    text = card.inner_text()
    assert "the implementation gate is blocked" in text
    assert "implementation-defect" in text
    assert "member" in text
    assert esc.schedule_impact in text
    preferred = card.locator(".option.preferred")
    assert preferred.get_attribute("data-option") == esc.preferred == "B"
    assert "★ preferred" in preferred.inner_text()
    assert card.locator(f"a[href='#gate-implementation-{esc.round}']").count() == 1
    assert card.locator("textarea[name=note]").count() == 1
    assert card.get_by_role("button", name="Choose A").count() == 1
    assert card.get_by_role("button", name="Choose B").count() == 1
    history = page.locator("[data-testid=plan-escalations]").inner_text()
    assert "open" in history
    contract = page.locator("[data-testid=plan-contract]")
    assert contract.locator("tr[data-field='execution_status'] .badge").inner_text() == (
        "escalated"
    )
    assert contract.locator("tr[data-field='implementation_commit_hashes'] .none").count() == 1
    save_screenshot(page, "plan-escalated.png")
    if os.environ.get("RUNWRIGHT_WRITE_DOCS_SCREENSHOT") == "1" and "sqlite" in story.db_url:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(DOCS_SCREENSHOT), full_page=False)


def test_the_overview_and_run_pages_lead_to_the_plan(
    page: Any, site: str, story: PlanStory, client: Client
) -> None:
    """The overview's "needs attention" lists the plan waiting on a decision (counted like
    `runwright inbox`, and not as stranded) with a link to its plan page; a plan run's page
    and a phase run's page link to the plan page."""
    items = Inbox(client).items()
    assert any(i.section == "plan_escalations" and i.run_id == story.escalated for i in items)
    stranded = client.stranded()
    assert all(s.run_id != story.escalated for s in stranded)
    page.goto(site)
    count = page.locator("[data-testid=needs-attention] .n").inner_text()
    assert int(count) == len(items) + len(stranded)
    attention = page.locator("#attention")
    assert "Plan escalations" in attention.inner_text()
    attention.locator(f"a[href='/plans/{story.escalated}#escalation']").click()
    page.wait_for_url(f"{site}/plans/{story.escalated}#escalation")
    assert page.locator("[data-testid=escalation-open]").is_visible()

    page.goto(f"{site}/runs/{story.escalated}")
    link = page.locator("[data-testid=plan-link] a")
    assert "plan greet-escalates" in link.inner_text()
    link.click()
    page.wait_for_url(f"{site}/plans/{story.escalated}")
    phase_runs = [r for r in client.children(story.complete) if r.kind is RunKind.PLAN_PHASE]
    delegation = client.plans.get(story.complete).phases[0]
    assert delegation.child_run_id in {r.run_id for r in phase_runs}
    page.goto(f"{site}/runs/{delegation.child_run_id}")
    words = page.locator("[data-testid=plan-link]").inner_text()
    assert f"phase {delegation.phase_id} (first try) of plan greet" in words
    page.get_by_role("link", name="Plan page").click()
    page.wait_for_url(f"{site}/plans/{story.complete}")


def test_answering_is_refused_without_the_session_or_with_a_bad_csrf_value(
    site: str, story: PlanStory, client: Client
) -> None:
    """The answer posted without the session cookie answers 401; with the session but no, or
    a wrong, CSRF value, or from another origin, 403; each time the escalation stays open.
    An unknown plan run's page answers 404 and says what to do."""
    esc = client.plans.get(story.escalated).open_escalation()
    assert esc is not None
    form = {
        "section": "plan_escalations",
        "item_id": esc.escalation_id,
        "action": "Answer B",
        "note": "stop here",
        "next": f"/plans/{story.escalated}",
    }
    with httpx.Client(base_url=site) as anonymous:
        assert (
            anonymous.post("/inbox/act", data={**form, "csrf": csrf_value(TOKEN)}).status_code
            == 401
        )
    with httpx.Client(base_url=site) as http:
        http.get(f"/login?token={TOKEN}")
        assert http.post("/inbox/act", data=form).status_code == 403
        assert http.post("/inbox/act", data={**form, "csrf": "0" * 64}).status_code == 403
        evil = http.post(
            "/inbox/act",
            data={**form, "csrf": csrf_value(TOKEN)},
            headers={"Origin": "http://evil.example"},
        )
        assert evil.status_code == 403
        missing = http.get("/plans/01ZZZZZZZZZZZZZZZZZZZZZZZZ")
        assert missing.status_code == 404
        assert "plan list" in missing.text
    again = client.plans.store.get_escalation(esc.escalation_id)
    assert again.status is EscalationStatus.OPEN
    assert again.answer is None


def test_answering_b_from_the_page_is_recorded_and_the_plan_ends_blocked(
    browser: Any, tmp_path: Path, db_url: str
) -> None:
    """On a fresh store: the person writes a note and chooses B on the plan page; the client
    API shows the escalation answered B with that note by the dashboard's user (and a
    human_action event on the plan run); once a worker drives the run it ends blocked, and
    the open page updates itself (no reload) to blocked with the answer shown."""
    from plans_support import open_client

    run_id = run_example_plan(tmp_path, "greet-escalates", db_url)
    home = tmp_path / "greet" / ".runwright"
    client = open_client(home.parent, db_url)
    note = "the greeting needs a comma; stop and send it back"
    try:
        with dashboard(home, db_url) as base, logged_in(browser, base) as page:
            page.goto(f"{base}/plans/{run_id}")
            card = page.locator("[data-testid=escalation-open]")
            card.locator("textarea[name=note]").fill(note)
            card.get_by_role("button", name="Choose B").click()
            page.wait_for_url(re.compile(rf".*/plans/{run_id}\?notice=.*"))
            assert "answered B" in page.locator("[data-testid=notice]").inner_text()
            (esc,) = client.plans.get(run_id).escalations
            assert esc.status is EscalationStatus.ANSWERED
            assert esc.answer is not None
            assert esc.answer.option == "B"
            assert esc.answer.note == note
            assert esc.answer.by.endswith("(dashboard)")
            actions = [e.payload for e in client.events(run_id) if e.kind is EventKind.HUMAN_ACTION]
            assert actions == [{"action": "answer-escalation:B", "by": esc.answer.by}]
            assert page.locator("[data-testid=escalation-open]").count() == 0

            view = client.plans.drive(run_id, timeout=300)
            assert view.record.status is PlanStatus.BLOCKED
            page.wait_for_function(
                "document.querySelector('[data-testid=plan-status]').innerText.includes('blocked')",
                timeout=20_000,
            )
            answer = page.locator("[data-testid=plan-escalations] [data-testid=answer]")
            assert "Answered B by" in answer.inner_text()
            assert "(dashboard)" in answer.inner_text()
            assert note in answer.inner_text()
            contract = page.locator("[data-testid=plan-contract]")
            status = contract.locator("tr[data-field='execution_status'] .badge")
            assert status.inner_text() == "blocked"
            assert (
                page.locator("[data-testid=plan-flow] .fend").get_attribute("data-status")
                == "blocked"
            )
            save_screenshot(page, "plan-blocked.png")
    finally:
        client.close()

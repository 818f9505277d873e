"""Budgets on the dashboard, over real HTTP to `runwright ui` on a real plan run (SQLite and
PostgreSQL): the plan's page shows its Spend card and a budget escalation with a field for
the new limits; a bad raise is refused with the reason and the escalation stays open; a good
one is recorded with the answer, and the plan then completes with every call on the page."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import httpx
import pytest
from budget_support import calls_plan
from plans_support import make_repo, open_client

from runwright.domain.plan_records import EscalationStatus, PlanStatus
from runwright.web.security import csrf_value
from tests.web import TOKEN, dashboard

pytestmark = pytest.mark.slow


def _text(html: str) -> str:
    """The page's text, tags removed and spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_plan_page_shows_spend_and_raises_a_budget_from_its_form(
    tmp_path: Path, db_url: str
) -> None:
    """Spend card (plan totals against the budget, one row per call); the budget escalation
    names the limit and the spend and has a budget field; answering A with too small a limit is
    refused (400, the reason shown); with max_agent_calls=10 it is recorded and the plan
    completes."""
    repo = make_repo(tmp_path / "greet")
    path = calls_plan(repo)
    client = open_client(repo, db_url)
    try:
        view = client.plans.run(path, timeout=300)
        esc = view.open_escalation()
        assert esc is not None
        with dashboard(repo / ".runwright", db_url) as base, httpx.Client(base_url=base) as http:
            http.get(f"/login?token={TOKEN}")
            page = http.get(f"/plans/{view.run_id}")
            assert page.status_code == 200
            html = page.text
            assert 'data-testid="plan-spend"' in html
            assert 'data-testid="budget-field"' in html
            text = _text(html)
            assert "the plan spent 2 agent calls of its max_agent_calls budget of 2" in text
            assert "2 / 2 (100%)" in text
            assert "1,000" in text
            assert "session-1" in text
            form = {
                "section": "plan_escalations",
                "item_id": esc.escalation_id,
                "action": "Answer A",
                "note": "worth two more calls",
                "next": f"/plans/{view.run_id}",
                "csrf": csrf_value(TOKEN),
            }
            refused = http.post("/inbox/act", data={**form, "budget": "max_agent_calls=1"})
            assert refused.status_code == 400
            assert "is not above the 2 already spent" in _text(refused.text)
            still = client.plans.store.get_escalation(esc.escalation_id)
            assert still.status is EscalationStatus.OPEN

            done = http.post("/inbox/act", data={**form, "budget": "max_agent_calls=10"})
            assert done.status_code == 303
            answered = client.plans.store.get_escalation(esc.escalation_id)
            assert answered.answer is not None
            assert answered.answer.budget is not None
            assert answered.answer.budget.max_agent_calls == 10
            assert answered.answer.by.endswith("(dashboard)")

            final = client.plans.drive(view.run_id, timeout=300)
            assert final.record.status is PlanStatus.COMPLETE
            text = _text(http.get(f"/plans/{view.run_id}").text)
            assert "budget raised: max_agent_calls=10" in text
            assert "4 / 10 (40%)" in text
            assert "4 agent call(s)" in text
    finally:
        client.close()

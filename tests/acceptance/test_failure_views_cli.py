"""What a user sees of a plan whose implementation keeps failing its tests, through the CLI as a
subprocess in the example repository, on SQLite and PostgreSQL: `plan show` and `patch show`
print the end of the failing test output, `run list` says what each run is about, the failed
runs say why, and `inbox` and the escalation speak plain English."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from plans_support import make_repo, variant, write_plan

from runwright.web.security import SESSION_COOKIE, session_value
from tests import pg
from tests.acceptance.test_cli import rw
from tests.web import TOKEN, dashboard

pytestmark = pytest.mark.slow
PLAN = "no-retry"


@dataclass
class Story:
    """A plan run waiting on an escalation after I1 failed its tests once (no retry)."""

    home: Path
    db_url: str
    plan: dict[str, Any]

    def rw(self, *args: str, check: bool = True) -> str:
        proc = rw(self.home, *args, db_url=self.db_url, check=check)
        return proc.stdout

    def i1(self) -> dict[str, Any]:
        (found,) = [p for p in self.plan["phases"] if p["phase_id"] == "I1"]
        return dict(found)


def _database(request: pytest.FixtureRequest, root: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{root / 'state.db'}"
        return
    base: str = request.getfixturevalue("pg_base_url")
    schema = pg.create_schema(base)
    try:
        yield pg.schema_url(base, schema)
    finally:
        pg.drop_schema(base, schema)


def _no_retry(data: dict[str, Any]) -> None:
    data["retry_budget"] = 0


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`plan run` of greet-escalates without correction rounds, left waiting on a decision."""
    root = tmp_path_factory.mktemp(f"failures-{request.param}")
    for db_url in _database(request, root):
        repo = make_repo(root / "repo")
        write_plan(repo, PLAN, variant("greet-escalates", PLAN, _no_retry))
        home = repo / ".runwright"
        out = rw(home, "plan", "run", f"plans/{PLAN}.yaml", "--json", db_url=db_url).stdout
        yield Story(home, db_url, json.loads(out))


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide terminal, so that tables are not folded."""
    monkeypatch.setenv("COLUMNS", "250")


def test_plan_show_prints_the_end_of_the_failing_test_output(story: Story) -> None:
    """The failing gate's test output tail is shown, in the view and in --json."""
    run_id = story.plan["run_id"]
    shown = story.rw("plan", "show", run_id)
    assert "output behind the failing implementation gate, round 0" in shown
    assert "No module named 'greet.hello'" in shown  # I1 never committed its module
    data = json.loads(story.rw("plan", "show", run_id, "--json"))
    (failing,) = data["failing_output"]
    assert (failing["gate"], failing["round"], failing["code"]) == (
        "implementation",
        0,
        "tests_fail",
    )
    assert failing["evidence"].startswith("sha256:")
    assert "FAILED (errors=1)" in failing["output_tail"]
    assert len(failing["output_tail"].splitlines()) <= 30
    log = story.rw("evidence", "show", run_id, failing["evidence"].removeprefix("sha256:"))
    assert log.rstrip().endswith(failing["output_tail"].splitlines()[-1])


def test_patch_show_prints_the_end_of_its_failed_verification(story: Story) -> None:
    """The quarantined patch of I1 shows its verification output, in the view and --json."""
    (patch_id,) = story.i1()["outcome"]["patch_ids"]
    shown = story.rw("patch", "show", patch_id)
    assert "verification failed" in shown
    assert "test output (last" in shown
    assert "AssertionError: 'Hello Ada' != 'Hello, Ada!'" in shown
    data = json.loads(story.rw("patch", "show", patch_id, "--json"))
    assert data["entry"]["state"] == "quarantined"
    assert "AssertionError: 'Hello Ada' != 'Hello, Ada!'" in data["test_output_tail"]


def test_run_list_says_what_each_run_is_about_and_why_it_failed(story: Story) -> None:
    """Plan, phase and agent-tool runs have a subject; failed ones a reason, in both views."""
    runs = json.loads(story.rw("run", "list", "--json"))
    subjects = {r["subject"]: r for r in runs}
    assert subjects[PLAN]["job_name"] == "runwright.plans.plan"
    assert subjects[f"{PLAN}/T1"]["state"] == "succeeded"
    assert subjects[f"{PLAN}/I1"]["state"] == "failed"
    assert subjects[f"{PLAN}/I1"]["state_reason"] == "patch quarantined"
    assert subjects[f"tests-writer on {PLAN}.T1"]["state"] == "succeeded"
    agent = subjects[f"coder-stubborn on {PLAN}.I1"]
    assert (agent["state"], agent["state_reason"]) == ("failed", "patch quarantined")
    table = story.rw("run", "list")
    assert "subject" in table
    for subject in (f"{PLAN}/I1", f"coder-stubborn on {PLAN}.I1", "failed (patch quarantined)"):
        assert subject in table


def test_the_dashboard_lists_runs_with_their_subject(story: Story) -> None:
    """The dashboard's runs list and overview show the subject of plan, phase and tool runs."""
    cookies = {SESSION_COOKIE: session_value(TOKEN)}
    with dashboard(story.home, story.db_url) as base:
        runs = httpx.get(f"{base}/runs", cookies=cookies, timeout=30)
        overview = httpx.get(f"{base}/", cookies=cookies, timeout=30)
    assert runs.status_code == 200
    assert "<th>subject</th>" in runs.text
    for subject in (f">{PLAN}<", f">{PLAN}/I1<", f">coder-stubborn on {PLAN}.I1<"):
        assert subject in runs.text
    assert f">{PLAN}/I1<" in overview.text


def test_the_escalation_and_the_inbox_speak_plain_english(story: Story) -> None:
    """No table names, Python lists or 'none' placeholders reach the user."""
    inbox = story.rw("inbox")
    assert "Plan escalations" in inbox
    for text in (inbox, story.rw("plan", "show", story.plan["run_id"])):
        assert "plan_escalations" not in text
        assert "phases none" not in text
        assert "['" not in text

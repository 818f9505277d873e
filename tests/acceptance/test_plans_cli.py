"""`runwright plan …` as a user runs it, as a subprocess in the example repository: validate,
run, status, show, list, decide, and the escalation in `runwright inbox`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plans_support import make_repo

from tests.acceptance.test_cli import rw

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The home of a fresh example repository."""
    return make_repo(tmp_path / "repo") / ".runwright"


def test_validate_prints_the_schedule_of_a_valid_plan(home: Path) -> None:
    """A valid plan: exit 0, its batches shown; --json gives the plan and schedule."""
    out = rw(home, "plan", "validate", "plans/greet.yaml").stdout
    assert "is a valid plan" in out
    assert "T1, T2" in out
    data = json.loads(rw(home, "plan", "validate", "plans/greet.yaml", "--json").stdout)
    assert data["valid"] is True
    assert data["schedule"]["tests"]["batches"] == [{"phase_ids": ["T1", "T2"]}]


def test_validate_names_the_file_and_every_bad_field(home: Path) -> None:
    """An invalid plan: exit 1, each problem with its field; --json lists them."""
    bad = home.parent / "plans" / "bad.yaml"
    text = (home.parent / "plans" / "greet.yaml").read_text()
    bad.write_text(text.replace("owner_role: implement-plan", "owner_role: nobody", 1))
    proc = rw(home, "plan", "validate", "plans/bad.yaml", check=False)
    assert proc.returncode == 1
    assert "plans/bad.yaml is not a valid plan" in proc.stdout
    assert "owner_role: unknown role 'nobody'" in proc.stdout
    data = json.loads(rw(home, "plan", "validate", "plans/bad.yaml", "--json", check=False).stdout)
    assert data["valid"] is False
    assert any("owner_role" in p for p in data["problems"])


def test_validate_warns_about_a_role_the_router_cannot_take(home: Path) -> None:
    """A structurally valid plan whose role names an app router.yaml lacks: exit 0, a warning
    naming the role and the app; --json lists it under warnings."""
    plan = home.parent / "plans" / "unrouted.yaml"
    text = (home.parent / "plans" / "greet.yaml").read_text()
    plan.write_text(
        text.replace("implement-plan: {tools: [coder]}", "implement-plan: {tools: [ghost]}")
    )
    out = rw(home, "plan", "validate", "plans/unrouted.yaml").stdout
    assert "is a valid plan" in out
    assert "role implement-plan names router apps ghost" in " ".join(out.split())
    data = json.loads(rw(home, "plan", "validate", "plans/unrouted.yaml", "--json").stdout)
    assert any("ghost" in w for w in data["warnings"])
    clean = json.loads(rw(home, "plan", "validate", "plans/greet.yaml", "--json").stdout)
    assert clean["warnings"] == []


def test_run_a_plan_to_its_completion_contract(home: Path) -> None:
    """`plan run` completes the example; status, show --contract and list agree."""
    data = json.loads(rw(home, "plan", "run", "plans/greet.yaml", "--json").stdout)
    assert data["status"] == "complete"
    run_id = data["run_id"]
    status = json.loads(rw(home, "plan", "status", "--json").stdout)
    assert status["run_id"] == run_id
    assert [g["passed"] for g in status["gates"]] == [True, True, True, True]
    contract = json.loads(rw(home, "plan", "show", run_id, "--contract").stdout)
    assert contract["execution_status"] == "complete"
    listed = json.loads(rw(home, "plan", "list", "--json").stdout)
    assert [r["run_id"] for r in listed] == [run_id]
    shown = rw(home, "plan", "show", run_id).stdout
    assert "implementation" in shown
    assert "complete" in shown


def test_an_escalation_is_in_the_inbox_and_decide_resumes_the_plan(home: Path) -> None:
    """The third gate failure escalates; the inbox shows it; `plan decide B` blocks the plan."""
    data = json.loads(rw(home, "plan", "run", "plans/greet-escalates.yaml", "--json").stdout)
    assert data["status"] == "waiting_decision"
    esc = data["open_escalation"]
    assert esc["blocker_class"] == "implementation-defect"
    inbox = json.loads(rw(home, "inbox", "--json").stdout)
    items = inbox["items"] if isinstance(inbox, dict) else inbox
    assert esc["escalation_id"] in [i["item_id"] for i in items]
    proc = rw(home, "plan", "decide", data["run_id"], "--option", "B", "--json", check=False)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["status"] == "blocked"


def test_decide_without_a_waiting_plan_is_a_clear_error(home: Path) -> None:
    """Deciding on something that is not an escalation: exit 1 and one line saying what to do."""
    proc = rw(home, "plan", "decide", "01M8XE0000000000000000000", "--option", "A", check=False)
    assert proc.returncode == 1
    assert "runwright inbox" in proc.stderr

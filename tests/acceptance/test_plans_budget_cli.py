"""Budgets through `runwright plan …` as a user runs it, as a subprocess in the example
repository: a plan whose budget of agent calls runs out waits on a budget escalation, `plan
show` has its Spend section (and `--json` its spend), `plan decide --budget` refuses a missing
or too small value in one line, and a valid raise lets the plan complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from budget_support import calls_plan
from plans_support import make_repo

from tests.acceptance.test_cli import rw

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The home of a fresh example repository with the reporting agents."""
    repo = make_repo(tmp_path / "repo")
    calls_plan(repo)
    return repo / ".runwright"


def test_a_budget_escalation_is_shown_refused_when_badly_raised_and_raised(home: Path) -> None:
    """Two agent calls use the plan's budget: the run waits; show lists the spend; decide with
    a missing value, no --budget, or a limit not above the spend is one clear line; a good
    raise completes the plan."""
    data = json.loads(rw(home, "plan", "run", "plans/calls.yaml", "--json").stdout)
    assert data["status"] == "waiting_decision"
    run_id = data["run_id"]
    esc = data["open_escalation"]
    assert esc["blocker_class"] == "decision-needed"
    assert esc["budget"]["limit"] == "max_agent_calls"
    assert data["spend"]["totals"]["calls"] == 2
    assert [r["input_tokens"] for r in data["spend"]["rows"]] == [1000, 1000]

    shown = rw(home, "plan", "show", run_id).stdout
    assert "Spend" in shown
    assert "calls 2 / 2" in shown
    assert "tokens 2,200" in shown
    assert "decide" in shown
    assert "--budget max_agent_calls=NEW" in shown

    for args, words in [
        (("--budget", "max_agent_calls"), "--budget max_agent_calls: give a value"),
        ((), "give --budget max_agent_calls=NEW"),
        (("--budget", "max_agent_calls=2"), "is not above the 2 already spent"),
        (("--budget", "max_agent_calls=ten"), "max_agent_calls must be a whole number"),
    ]:
        proc = rw(home, "plan", "decide", run_id, "--option", "A", *args, check=False)
        assert proc.returncode == 1
        assert words in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr

    out = rw(
        home, "plan", "decide", run_id, "--option", "A", "--budget", "max_agent_calls=10", "--json"
    ).stdout
    done = json.loads(out)
    assert done["status"] == "complete"
    assert done["spend"]["totals"]["calls"] == 4
    assert done["escalations"][0]["answer"]["budget"] == {
        "max_tokens": None,
        "max_cost_usd": None,
        "max_wall_seconds": None,
        "max_agent_calls": 10,
    }
    contract = json.loads(rw(home, "plan", "show", run_id, "--contract").stdout)
    assert contract["spend"]["budget"]["max_agent_calls"] == 10
    assert len(contract["spend"]["rows"]) == 4

"""The workflow commands as a user runs them: subprocesses, --json, one-line errors, exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.workers import worker_env


def rw(
    home: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `python -m runwright` against ``home``."""
    full = worker_env(home, f"sqlite:///{home / 'state.db'}")
    full.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        check=False,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home.parent,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"runwright {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def js(home: Path, *args: str) -> Any:
    """A command's --json output."""
    return json.loads(rw(home, *args, "--json").stdout)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project where 'clidemo' was deployed and a worker processed 'a' and 'unsure-b'."""
    home = tmp_path_factory.mktemp("cli") / ".runwright"
    out = rw(home, "workflow", "deploy", "workflows_cli:wf").stdout
    assert "deployed clidemo v1" in out
    rw(home, "worker", "--until-idle", "--quiet", env={"RW_CLI_ITEMS": "a,unsure-b"})
    return home


def test_deploy_and_list(home: Path) -> None:
    """`workflow list --json` shows the deployed workflow with its label and version."""
    (wf,) = js(home, "workflow", "list")
    assert (wf["name"], wf["version"], wf["label"]) == ("clidemo", 1, "Needs attention")


def test_deploy_of_a_bad_reference_is_one_line_exit_1(tmp_path: Path) -> None:
    """A reference that is not MODULE:ATTR, or names no Workflow, fails in one line."""
    home = tmp_path / ".runwright"
    for ref, message in (
        ("nocolon", "not MODULE:ATTR"),
        ("workflows_cli:hook", "no Workflow named"),
    ):
        proc = rw(home, "workflow", "deploy", ref, check=False)
        assert proc.returncode == 1
        assert message in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_topics_events_and_inputs(home: Path) -> None:
    """topic list/events/show and input list/show, as JSON."""
    (topic,) = js(home, "topic", "list")
    assert (topic["topic"], topic["subscribers"], topic["counts"]) == (
        "in",
        ["Send"],
        {"consumed": 1, "reserved": 1},
    )
    events = js(home, "topic", "events", "clidemo:in")
    assert {e["message_id"]: e["status"] for e in events} == {
        "item:a": "consumed",
        "item:unsure-b": "reserved",
    }
    shown = js(home, "topic", "show", events[0]["event_id"])
    assert shown["event_id"] == events[0]["event_id"]
    inputs = js(home, "input", "list")
    assert {i["id"]: i["status"] for i in inputs} == {"a": "done", "unsure-b": "pending"}
    done = next(i for i in inputs if i["id"] == "a")
    detail = js(home, "input", "show", done["input_id"])
    assert detail["mutations"][0]["result"] == {"sent": "a"}


def test_inbox_shows_the_write_in_doubt_with_its_parameters(home: Path) -> None:
    """`inbox --json` lists the indeterminate mutation with the real call parameters and the
    two actions a webhook allows (no try again without reconcile)."""
    items = [i for i in js(home, "inbox") if i["section"] == "mutations"]
    assert len(items) == 1
    item = items[0]
    assert item["params"]["params"] == {"item": "unsure-b"}
    assert [a["name"] for a in item["actions"]] == ["It didn't happen", "Skip"]
    text = rw(home, "inbox").stdout
    assert "ACTION REQUIRED" in text
    assert "Item unsure-b" in text


def test_mutation_resolve_needs_an_action_and_only_once(home: Path) -> None:
    """`mutation resolve` without an action, or twice, fails in one line with exit 1; --skip
    settles it and the next worker commits the run with 'skipped'."""
    (item,) = [i for i in js(home, "inbox") if i["section"] == "mutations"]
    mid = item["item_id"]
    bare = rw(home, "mutation", "resolve", mid, check=False)
    assert bare.returncode == 1
    assert "--try-again" in bare.stderr
    done = js(home, "mutation", "resolve", mid, "--skip")
    assert (done["status"], done["resolved_by"]) == ("skipped", "user_skip")
    assert "— skipped" in rw(home, "mutation", "show", mid).stdout
    listed = js(home, "mutation", "list", "--status", "skipped")
    assert [m["mutation_id"] for m in listed] == [mid]
    again = rw(home, "mutation", "resolve", mid, "--skip", check=False)
    assert again.returncode == 1
    assert "not indeterminate" in again.stderr
    rw(home, "worker", "--until-idle", "--quiet")
    (wf,) = js(home, "workflow", "list")
    assert wf["label"] == "Idle"
    runs = js(home, "workflow", "runs", "clidemo")
    assert {"last": "skipped"} in [r["output_state"] for r in runs]
    assert [i for i in js(home, "inbox") if i["section"] == "mutations"] == []


def test_pause_resume_run_now_and_event_skip(tmp_path: Path) -> None:
    """pause refuses run-now; resume allows it; `event skip` skips a pending event."""
    home = tmp_path / ".runwright"
    rw(home, "workflow", "deploy", "workflows_cli:wf")
    assert js(home, "workflow", "pause", "clidemo")["label"] == "Stopped"
    refused = rw(home, "workflow", "run-now", "clidemo", check=False)
    assert refused.returncode == 1
    assert "cannot run now" in refused.stderr
    rw(home, "workflow", "resume", "clidemo")
    rw(home, "workflow", "run-now", "clidemo")
    rw(home, "workflow", "pause", "clidemo")
    rw(home, "worker", "--until-idle", "--quiet", env={"RW_CLI_ITEMS": "x"})
    assert js(home, "topic", "events", "in") == []
    rw(home, "workflow", "resume", "clidemo")
    rw(home, "worker", "--until-idle", "--quiet", "--max-runs", "1", env={"RW_CLI_ITEMS": "x"})
    (event,) = js(home, "topic", "events", "in", "--status", "pending")
    skipped = js(home, "event", "skip", event["event_id"])
    assert skipped["status"] == "skipped"
    again = rw(home, "event", "skip", event["event_id"], check=False)
    assert again.returncode == 1
    assert "already skipped" in again.stderr

"""`runwright event publish` from outside a run, and the shape of `runwright inbox --json`,
as a user runs them (subprocesses, one-line errors, exit 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.workers import worker_env


def rw(
    home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m runwright` against ``home`` (a fresh SQLite store)."""
    full = worker_env(home, f"sqlite:///{home / 'state.db'}")
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        check=False,
        env=full,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home.parent,
    )


def ok(home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Any:
    """A command's --json output; it must exit 0."""
    proc = rw(home, *args, "--json", stdin=stdin, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_event_publish_from_outside_is_consumed_and_replaces_by_message_id(
    tmp_path: Path,
) -> None:
    """`event publish W:TOPIC ID --payload JSON --input S T ID --title T` writes a pending
    event with its input; the same message id again (payload from stdin) replaces the
    payload and keeps the event; a worker's consumer then writes it once."""
    home = tmp_path / ".runwright"
    assert rw(home, "workflow", "deploy", "workflows_cli:wf").returncode == 0
    first = ok(
        home,
        "event",
        "publish",
        "clidemo:in",
        "item:z",
        "--payload",
        '{"name": "z"}',
        "--input",
        "shop",
        "order",
        "42",
        "--title",
        "Order 42",
    )
    assert (first["topic"], first["message_id"], first["status"]) == ("in", "item:z", "pending")
    assert first["payload"] == {"name": "z"}
    again = ok(
        home, "event", "publish", "in", "item:z", "--payload-file", "-", stdin='{"name": "zz"}'
    )
    assert again["event_id"] == first["event_id"]
    assert again["payload"] == {"name": "zz"}
    (item,) = ok(home, "input", "list")
    assert (item["source"], item["type"], item["id"], item["title"]) == (
        "shop",
        "order",
        "42",
        "Order 42",
    )
    text = rw(home, "event", "publish", "in", "item:y", "--payload", '{"name": "y"}').stdout
    assert "published clidemo/in item:y as event" in text
    assert rw(home, "worker", "--until-idle", "--quiet").returncode == 0
    events = {e["message_id"]: e["status"] for e in ok(home, "topic", "events", "in")}
    assert events == {"item:z": "consumed", "item:y": "consumed"}


def test_event_publish_errors_are_one_line_exit_1(tmp_path: Path) -> None:
    """An unknown topic, a payload that is not JSON, --title without --input and an empty
    message id each fail in one line on stderr naming what is wrong, exit 1."""
    home = tmp_path / ".runwright"
    assert rw(home, "workflow", "deploy", "workflows_cli:wf").returncode == 0
    cases = [
        (("nope", "m1"), "no topic 'nope'"),
        (("in", "m1", "--payload", "{bad"), "--payload: the payload is not JSON"),
        (("in", "m1", "--title", "T"), "--title names an input"),
        (("in", " "), "MESSAGE_ID is empty"),
        (("in", "m1", "--payload-file", str(tmp_path / "missing.json")), "cannot read"),
    ]
    for args, message in cases:
        proc = rw(home, "event", "publish", *args)
        assert proc.returncode == 1, args
        assert message in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert ok(home, "topic", "events", "in") == []


def test_inbox_json_is_a_list_of_items_with_their_actions(tmp_path: Path) -> None:
    """`inbox --json` prints a JSON list; each item has section, item_id, title, detail,
    workflow, run_id, created_at, params and actions ({name, command}); a write in doubt
    carries its tool, real parameters, idempotency key and reconcile attempts."""
    home = tmp_path / ".runwright"
    assert rw(home, "workflow", "deploy", "workflows_cli:wf").returncode == 0
    assert (
        rw(home, "worker", "--until-idle", "--quiet", env={"RW_CLI_ITEMS": "unsure-q"}).returncode
        == 0
    )
    items = ok(home, "inbox")
    assert isinstance(items, list)
    (item,) = [i for i in items if i["section"] == "mutations"]
    assert set(item) == {
        "section",
        "item_id",
        "title",
        "detail",
        "workflow",
        "run_id",
        "created_at",
        "params",
        "actions",
    }
    assert set(item["params"]) == {"tool", "params", "idempotency_key", "reconcile_attempts"}
    assert item["params"]["params"] == {"item": "unsure-q"}
    assert item["actions"] == [
        {
            "name": "It didn't happen",
            "command": f"runwright mutation resolve {item['item_id']} --did-not-happen",
        },
        {"name": "Skip", "command": f"runwright mutation resolve {item['item_id']} --skip"},
    ]

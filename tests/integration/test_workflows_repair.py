"""Maintenance with a repair command (any program, here a Python script acting as the agent):
it gets the debug packet as JSON, edits the module, and the workflow is redeployed and retried."""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.api.inbox import Inbox
from runwright.domain.events import EventKind
from runwright.domain.workflows import EventStatus, RunStatus

MODULE = """
import runwright
from runwright import Prepared

BROKEN = True
wf = runwright.Workflow("repairable", topics=["in"], repair=REPAIR)


@wf.producer(publishes=["in"], every="1d")
def feed(ctx, state):
    return state


@wf.consumer(subscribe=["in"])
class Work:
    def prepare(self, ctx, state):
        events = ctx.peek("in", limit=1)
        if BROKEN and events:
            raise KeyError("total")
        return Prepared.reserve(events)
"""

FIXER = """
import json, os, sys
packet = json.loads(sys.stdin.read())
json.dump(packet, open(sys.argv[1], "w"))
assert os.environ["RUNWRIGHT_DEBUG_PACKET"]
path = packet["module_file"]
source = open(path).read()
if sys.argv[2] == "fix":
    open(path, "w").write(source.replace("BROKEN = True", "BROKEN = False"))
    sys.exit(0)
sys.exit(3)
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A fresh module name on sys.path, and where the fixer writes the packet it got."""
    name = f"repairable_{uuid.uuid4().hex[:8]}"
    sys.path.insert(0, str(tmp_path))
    yield name, tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop(name, None)


def _write(tmp_path: Path, name: str, mode: str) -> None:
    fixer = tmp_path / "fixer.py"
    fixer.write_text(textwrap.dedent(FIXER))
    repair = [sys.executable, str(fixer), str(tmp_path / "packet.json"), mode]
    (tmp_path / f"{name}.py").write_text(MODULE.replace("REPAIR", repr(repair)))


def test_a_repair_command_fixes_the_module_and_the_run_is_retried(
    client: Client, project: tuple[str, Path]
) -> None:
    """A logic failure starts maintenance; the repair command gets the debug packet on stdin,
    edits the module and exits 0; the workflow is redeployed (version 2), maintenance ends,
    and the retried run commits."""
    name, tmp = project
    _write(tmp, name, "fix")
    h = Harness(client)
    record = h.wf.deploy(f"{name}:wf")
    h.run()
    h.publish("a", workflow="repairable")
    h.run()
    after = h.wf.get("repairable")
    assert after.version == record.version + 1
    assert not after.maintenance
    runs = h.runs("repairable", "Work")
    failed = next(r for r in runs if r.status is RunStatus.FAILED_LOGIC)
    retry = next(r for r in runs if r.retry_of == failed.run_id)
    assert retry.status is RunStatus.COMMITTED
    assert h.events("repairable")["item:a"].status is EventStatus.CONSUMED
    packet = json.loads((tmp / "packet.json").read_text())
    assert packet["failed_run"]["run_id"] == failed.run_id
    assert "KeyError" in packet["failed_run"]["error"]
    assert "raise KeyError" in packet["stack"]
    assert packet["fix_attempt"] == 1
    assert packet["phase_rules"]["publish"] == ["next", "producer"]
    kinds = [e.kind for e in client.events(failed.run_id)]
    assert EventKind.MAINTENANCE_STARTED in kinds
    assert EventKind.REPAIR_ATTEMPTED in kinds


def test_a_repair_that_gives_up_escalates_to_the_inbox(
    client: Client, project: tuple[str, Path]
) -> None:
    """A repair command that exits non-zero escalates: error set, maintenance off, and the
    workflow is in the inbox's escalations."""
    name, tmp = project
    _write(tmp, name, "give-up")
    h = Harness(client)
    h.wf.deploy(f"{name}:wf")
    h.run()
    h.publish("a", workflow="repairable")
    h.run()
    record = h.wf.get("repairable")
    assert record.error_kind == "escalated"
    assert not record.maintenance
    assert "exit code 3" in record.error
    items = [i for i in Inbox(client).items() if i.section == "escalations"]
    assert [i.workflow for i in items] == ["repairable"]

"""The timebox, enforced with the system clock on a real subprocess tree (behaviour 10)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from execmodel_ops import PY, operator, write_op

from runwright.api.client import Client
from runwright.domain.events import EventKind
from runwright.domain.execmodel.checks import CheckStatus
from runwright.domain.states import RunState, StateReason
from runwright.errors import ValidationError

SPAWN = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "open(sys.argv[1], 'w').write(str(child.pid))\n"
    "print('started', child.pid, flush=True)\n"
    "time.sleep(120)\n"
)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] == "Z"


def test_past_the_timebox_the_process_group_is_stopped_and_a_next_pointer_is_needed(
    real_client: Client, tmp_path: Path
) -> None:
    """Behaviour 10: the step's whole process group (a grandchild too) is stopped at the
    timebox; the run fails over_timebox with TIMEBOX_EXCEEDED and the universal stop rule;
    its output is kept as evidence; it needs a next pointer that reschedules or re-scopes."""
    pidfile = tmp_path / "child.pid"
    spec = operator(
        op_id="SleepPastTimebox",
        steps=[{"id": "spawn", "run": [PY, "-c", SPAWN, str(pidfile)]}],
        outputs=[],
        timebox_minutes=0.05,
    )
    source = write_op(real_client.settings.project_root / "ops", spec)
    op = real_client.ops.operator("SleepPastTimebox", source).operator
    [view] = real_client.ops.run_operator(op, {})
    assert view.run.state == RunState.FAILED
    assert view.run.state_reason == StateReason.OVER_TIMEBOX
    child = int(pidfile.read_text())
    assert _gone(child), "the grandchild outlived the timebox"
    assert view.op_run is not None
    assert view.op_run.over_timebox
    assert view.op_run.result == CheckStatus.FAIL
    step = next(r for r in view.op_run.acceptance_results if r.check_id == "step:spawn")
    assert "timed out" in step.message
    assert step.evidence_links
    assert next(f.rule_id for f in view.op_run.stop_rules_fired) == "universal.timebox"
    kinds = [e.kind for e in real_client.events(view.run.run_id)]
    assert EventKind.TIMEBOX_EXCEEDED in kinds
    assert EventKind.STOP_RULE_FIRED in kinds
    assert real_client.ops.suggested_next_pointer(view.run.run_id) is None
    assert view.counting is not None
    assert any("reschedule or re-scope" in r for r in view.counting.reasons)
    with pytest.raises(ValidationError, match="reschedule or re-scope"):
        real_client.ops.set_next_pointer(view.run.run_id, "try again")
    real_client.ops.set_next_pointer(view.run.run_id, "re-scope: split the import in two")
    assert real_client.get(view.run.run_id).next_pointer == "re-scope: split the import in two"

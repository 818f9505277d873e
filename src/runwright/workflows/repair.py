"""Maintenance: a repair command (any program, e.g. an agent CLI) gets a debug packet.

The command is an argv list (never a shell). It receives the packet as JSON on stdin and its
path in ``RUNWRIGHT_DEBUG_PACKET``; it may edit the workflow's module. Exit 0 means "fixed":
the module is re-imported, validated and redeployed (a new version, maintenance ends) and the
failed run is retried. Anything else, or a module that no longer validates, escalates.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from runwright.domain.events import EventKind
from runwright.domain.workflows.rules import MAX_FIX_ATTEMPTS, PHASE_RULES
from runwright.engine.context import JobContext
from runwright.store.workflows import WorkflowStore
from runwright.workflows.loader import reload_ref, split_ref

CONSTRAINTS = [
    "keep how message ids are built, which events a consumer reserves, and its topics",
    "add no new side effects; keep the change backward compatible",
    "a producer publishes with input_id; next publishes without; mutate makes at most one call",
]


def debug_packet(
    ws: WorkflowStore, workflow: str, failed_run_id: str, jctx: JobContext
) -> dict[str, Any]:
    """Everything a fixer needs: intent, the code's location, the failure, earlier attempts."""
    record = ws.get_workflow(workflow)
    run = ws.handler_run(failed_run_id)
    stack = ""
    for event in reversed(jctx.store.list_events(failed_run_id)):
        if event.kind is EventKind.HANDLER_PHASE_CHANGED and "stack" in event.payload:
            stack = str(event.payload["stack"])
            break
    module, _ = split_ref(record.ref)
    earlier = [
        {"run_id": r.run_id, "handler": r.handler, "phase": r.phase, "error": r.error[:1000]}
        for r in ws.list_handler_runs(workflow=workflow, statuses=("failed:logic",), limit=6)
        if r.run_id != failed_run_id
    ]
    mod = importlib.import_module(module)
    return {
        "kind": "runwright.workflow_debug_packet",
        "workflow": workflow,
        "version": record.version,
        "ref": record.ref,
        "module_file": getattr(mod, "__file__", None),
        "fix_attempt": record.maintenance_fix_count,
        "max_fix_attempts": MAX_FIX_ATTEMPTS,
        "spec": record.spec.model_dump(mode="json"),
        "failed_run": run.model_dump(mode="json"),
        "stack": stack,
        "earlier_attempts": earlier,
        "phase_rules": {
            op.value: sorted(s.value for s in steps) for op, steps in PHASE_RULES.items()
        },
        "constraints": CONSTRAINTS,
        "instructions": "Fix the workflow module in place. Exit 0 when fixed; any other exit "
        "code gives up and escalates to a person.",
    }


def _run_command(
    argv: list[str], packet: dict[str, Any], timeout: float, cwd: str
) -> dict[str, Any]:
    text = json.dumps(packet, indent=2, default=str)
    with tempfile.NamedTemporaryFile(
        "w", suffix=".json", prefix="debug-packet-", delete=False
    ) as fh:
        fh.write(text)
        path = fh.name
    env = dict(os.environ, RUNWRIGHT_DEBUG_PACKET=path, RUNWRIGHT_WORKFLOW=str(packet["workflow"]))
    try:
        proc = subprocess.run(
            argv,
            input=text,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return {
            "exit_code": None,
            "error": f"timed out after {timeout:g}s",
            "stdout": str(exc.stdout or "")[-4000:],
        }
    except OSError as exc:
        return {"exit_code": None, "error": f"cannot start {argv[0]!r}: {exc.strerror}"}
    finally:
        Path(path).unlink(missing_ok=True)
    return {
        "exit_code": proc.returncode,
        "stdout": proc.stdout[-4000:],
        "stderr": proc.stderr[-4000:],
    }


def run_repair(
    jctx: JobContext, ws: WorkflowStore, workflow: str, failed_run_id: str
) -> dict[str, Any]:
    """Run the repair command once (memoized), then redeploy or escalate."""
    record = ws.get_workflow(workflow)
    if not record.maintenance or not record.spec.repair_command:
        return {"skipped": "the workflow is not waiting for a repair"}
    argv = list(record.spec.repair_command)
    packet = debug_packet(ws, workflow, failed_run_id, jctx)
    jctx.attach(
        "debug-packet", json.dumps(packet, indent=2, default=str).encode(), name="debug-packet.json"
    )
    cwd = str(Path.cwd())
    outcome = jctx.step(
        "repair-command",
        _run_command,
        argv,
        packet,
        record.spec.repair_timeout_seconds,
        cwd,
        idempotent=True,
    )
    jctx.attach("repair-output", json.dumps(outcome, indent=2).encode(), name="repair-output.json")
    now = jctx.now()
    if outcome.get("exit_code") != 0:
        note = (
            outcome.get("error")
            or f"exit code {outcome.get('exit_code')}: {outcome.get('stderr', '')[-500:]}"
        )
        ws.finish_repair(workflow, now, ok=False, note=str(note), run_id=failed_run_id)
        return {"fixed": False, "note": note}
    try:
        wf, digest = reload_ref(record.ref)
        spec = wf.validate()
        if spec.name != workflow:
            raise ValueError(f"the module now defines workflow {spec.name!r}, not {workflow!r}")
        if not spec.repair_command:
            spec = spec.model_copy(update={"repair_command": record.spec.repair_command})
        ws.deploy_workflow(
            spec,
            ref=record.ref,
            config_hash=wf.config_hash(),
            code_hash=digest,
            project_id=jctx.run.project_id,
            now=now,
        )
    except Exception as exc:
        note = f"the repaired workflow does not validate: {exc}"
        ws.finish_repair(workflow, now, ok=False, note=note, run_id=failed_run_id)
        return {"fixed": False, "note": note}
    ws.finish_repair(workflow, now, ok=True, note="redeployed", run_id=failed_run_id)
    return {"fixed": True, "version": ws.get_workflow(workflow).version}

"""The durable steps of an op run: a procedure step, an acceptance check, the outputs.

Each function here runs inside ``ctx.step`` (so evidence it attaches commits with the step)
and returns a JSON record that the engine memoizes.
"""

from __future__ import annotations

import importlib
import json
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runwright.domain.execmodel.checks import ResultOrigin, combine
from runwright.domain.execmodel.operators import OperatorOutput, OperatorStep
from runwright.domain.execmodel.probes import CheckSpec
from runwright.domain.execmodel.templating import render, render_value
from runwright.engine.evidence import attach_evidence
from runwright.engine.steps import current_step
from runwright.errors import ValidationError
from runwright.execmodel.probing import ProbeEnv, run_probe
from runwright.execmodel.procs import run_command
from runwright.execmodel.runtime import RunContext
from runwright.store.blobs import BlobStore

#: Probe fields that are not templates (regular expressions and inline schemas).
UNTEMPLATED = frozenset({"probe", "pattern", "body_regex", "json_schema", "schema"})


def within_timebox(remaining: float) -> float:
    """Seconds a command may take of the ``remaining`` timebox: it is stopped (and its output
    kept as evidence) a little before the engine's own interrupt would fire."""
    return max(remaining - min(2.0, remaining / 2), 0.05)


def resolve_callable(spec: str, *, field: str) -> Callable[..., Any]:
    """Import ``module:function``; a failure names the field."""
    module_name, _, attr = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ValidationError(
            f"{field}: cannot import {spec!r} ({exc})",
            hint="use module:function of an importable module (on PYTHONPATH)",
            field=field,
        ) from None
    if not callable(target):
        raise ValidationError(f"{field}: {spec!r} is not callable", field=field)
    return target  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)[:2000]
    return value


def _links_in_step() -> list[dict[str, Any]]:
    step = current_step()
    return [link.model_dump(mode="json") for link in (step.evidence if step else [])]


def execute_step(
    step: Mapping[str, Any],
    values: Mapping[str, Any],
    context: Mapping[str, Any],
    run_id: str,
    remaining: float | None,
) -> dict[str, Any]:
    """Run one operator step; return its record (never raises for a failing command)."""
    spec = OperatorStep.model_validate(step)
    ctx = RunContext.model_validate(context)
    field = f"steps.{spec.id}"
    started = time.monotonic()
    timeout, by_timebox = spec.timeout_seconds, False
    if remaining is not None:
        left = within_timebox(remaining)
        by_timebox = timeout is None or left <= timeout
        timeout = left if by_timebox else timeout
    if spec.run is not None:
        record = _run(spec, values, ctx, run_id, timeout, started, field)
        record["timebox_exceeded"] = bool(record["timed_out"] and by_timebox)
        return record
    fn = resolve_callable(spec.call or "", field=f"{field}.call")
    kwargs = render_value(spec.args, values, field=f"{field}.args")
    error = None
    result: Any = None
    for _ in range(spec.retries + 1):
        try:
            result = fn(**kwargs)
            error = None
            break
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
    return {
        "id": spec.id,
        "kind": "call",
        "ok": error is None,
        "value": _jsonable(result),
        "error": error,
        "message": error or f"{spec.call} returned",
        "evidence": _links_in_step(),
        "seconds": time.monotonic() - started,
    }


def _run(
    spec: OperatorStep,
    values: Mapping[str, Any],
    ctx: RunContext,
    run_id: str,
    timeout: float | None,
    started: float,
    field: str,
) -> dict[str, Any]:
    argv = [render(a, values, field=f"{field}.run[{i}]") for i, a in enumerate(spec.run or [])]
    cwd = (
        ctx.confine(render(spec.cwd, values, field=f"{field}.cwd"), field=f"{field}.cwd")
        if (spec.cwd)
        else Path(ctx.project_root)
    )
    env = ctx.child_env(
        run_id, {k: render(v, values, field=f"{field}.env") for k, v in spec.env.items()}
    )
    base = Path(ctx.workdir) / "steps" / spec.id
    for _ in range(spec.retries + 1):
        left = None if timeout is None else max(timeout - (time.monotonic() - started), 0.01)
        outcome = run_command(
            argv,
            cwd=cwd,
            env=env,
            timeout=left,
            stdout_path=base.with_suffix(".stdout.txt"),
            stderr_path=base.with_suffix(".stderr.txt"),
        )
        if outcome.exited_with(spec.expect_exit) or outcome.timed_out:
            break
    ok = outcome.exited_with(spec.expect_exit)
    for stream, path in (("stdout", outcome.stdout_path), ("stderr", outcome.stderr_path)):
        if path.stat().st_size:
            attach_evidence(path, name=f"steps/{spec.id}.{stream}.txt", label=stream)
    if spec.stdout_to:
        target = ctx.confine(
            render(spec.stdout_to, values, field=f"{field}.stdout_to"), field=f"{field}.stdout_to"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(outcome.stdout_path, target)
    if outcome.timed_out:
        message = f"timed out after {outcome.seconds:.1f}s; its process group was stopped"
    elif outcome.error:
        message = outcome.error
    else:
        message = f"exited {outcome.exit_code}" + ("" if ok else f" (expected {spec.expect_exit})")
    return {
        "id": spec.id,
        "kind": "run",
        "ok": ok,
        "argv": outcome.argv,
        "exit_code": outcome.exit_code,
        "timed_out": outcome.timed_out,
        "message": message,
        "evidence": _links_in_step(),
        "seconds": outcome.seconds,
    }


def _render_probe(raw: Mapping[str, Any], values: Mapping[str, Any], field: str) -> dict[str, Any]:
    return {
        k: (v if k in UNTEMPLATED else render_value(v, values, field=f"{field}.{k}"))
        for k, v in raw.items()
    }


def execute_check(
    check: Mapping[str, Any],
    values: Mapping[str, Any],
    context: Mapping[str, Any],
    run_id: str,
    steps: Mapping[str, Mapping[str, Any]],
    remaining: float | None,
) -> dict[str, Any]:
    """Run one acceptance check (all its probes); return its CheckResult as JSON."""
    raw = dict(check)
    spec = CheckSpec.model_validate(raw)
    ctx = RunContext.model_validate(context)
    budget = spec.timeout_seconds
    if remaining is not None:
        budget = min(budget, within_timebox(remaining))
    deadline = time.monotonic() + budget
    results = []
    for i, probe_raw in enumerate(raw["probes"]):
        rendered = _render_probe(probe_raw, values, f"acceptance_checks.{spec.id}.probes[{i}]")
        probe = CheckSpec.model_validate({**raw, "probes": [rendered]}).probes[0]
        env = ProbeEnv(
            ctx=ctx,
            run_id=run_id,
            check_id=spec.id,
            index=i,
            steps=steps,
            deadline=deadline,
            blobs=BlobStore(Path(ctx.evidence_dir)),
        )
        results.append(run_probe(probe, env))
    result = combine(spec.id, spec.check_type, results, origin=ResultOrigin.CHECK)
    return result.model_dump(mode="json")


def collect_outputs(
    outputs: list[Mapping[str, Any]], values: Mapping[str, Any], context: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Store every declared output that exists as evidence; report the missing ones."""
    ctx = RunContext.model_validate(context)
    records = []
    for i, raw in enumerate(outputs):
        spec = OperatorOutput.model_validate(raw)
        field = f"outputs[{i}].path"
        shown = render(spec.path, values, field=field)
        target = ctx.confine(shown, field=field)
        root = Path(ctx.project_root).resolve()
        display = str(target.relative_to(root)) if target.is_relative_to(root) else str(target)
        record: dict[str, Any] = {"path": display, "exists": target.is_file(), "size": 0}
        if target.is_file():
            link = attach_evidence(target, name=display, label="output")
            record.update(size=link.size, evidence=link.model_dump(mode="json"))
        records.append(record)
    return records

"""Op runs end to end on the core engine, on SQLite and PostgreSQL, with real subprocesses."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from execmodel_ops import PY, operator, write_op

from runwright.api.client import Client
from runwright.domain.events import EventKind
from runwright.domain.execmodel.checks import CheckStatus
from runwright.domain.states import RunState
from runwright.errors import ValidationError
from runwright.execmodel.finalize import finalize
from runwright.execmodel.opruns import OpRunView


def run_op(
    client: Client, spec: dict[str, Any], inputs: dict[str, Any] | None = None, **kw: Any
) -> list[OpRunView]:
    """Write ``spec`` as an operator file, load it back and run it; the chain of runs."""
    source = write_op(client.settings.project_root / "ops", spec)
    op = client.ops.operator(spec["op_id"], source).operator
    return client.ops.run_operator(op, inputs or {}, **kw)


def kinds(client: Client, run_id: str) -> list[str]:
    """The event kinds of a run, in order."""
    return [e.kind.value for e in client.events(run_id)]


def one_check(check_type: str, *probes: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    """An acceptance_checks list with one check."""
    return [{"id": "c", "check_type": check_type, "probes": list(probes), **extra}]


def test_an_op_run_passes_and_counts_once_it_has_a_next_pointer(client: Client) -> None:
    """The steps run, the checks pass with evidence, the pattern is met; the run counts only
    after its next pointer is set (behaviour 6), here from the operator's rule."""
    [view] = run_op(client, operator(), {"rows": "4"})
    assert view.run.state == RunState.SUCCEEDED
    assert view.op_run is not None
    assert view.op_run.result == CheckStatus.PASS
    assert view.op_run.mode_id == "PIPELINE"
    assert view.op_run.project_id == client.settings.project_id
    assert view.op_run.inputs_used == {"rows": 4}
    assert view.op_run.evidence_pattern is not None
    assert view.op_run.evidence_pattern.complete
    assert view.counting is not None
    assert view.counting.reasons == ["no next pointer"]
    labels = {link.label for link in view.op_run.evidence_links}
    assert {"stdout", "output", "file"} <= labels
    assert view.op_run.acceptance_results[0].evidence_links
    suggestion = client.ops.suggested_next_pointer(view.run.run_id)
    assert suggestion == "file rows.csv (PASS)"
    client.ops.set_next_pointer(view.run.run_id, suggestion)
    again = client.ops.op_run(view.run.run_id)
    assert again.counting is not None
    assert again.counting.counts is True
    seen = kinds(client, view.run.run_id)
    for kind in (
        "mode_selected",
        "check_completed",
        "evidence_pattern_checked",
        "next_pointer_set",
    ):
        assert kind in seen


def test_an_operator_is_refused_in_a_mode_outside_its_mode_ids(client: Client) -> None:
    """Behaviour 5: a PIPELINE-only operator cannot run in CONTRACT; nothing is created."""
    with pytest.raises(ValidationError, match="not legal in CONTRACT"):
        run_op(client, operator(), mode="CONTRACT")
    assert client.list_runs() == []


def test_an_operator_legal_in_several_modes_needs_one(client: Client) -> None:
    """With two legal modes and no block, an op run needs --mode; with it, the run is in it."""
    spec = operator(mode_ids=["PIPELINE", "CONTRACT"])
    with pytest.raises(ValidationError, match="needs one mode"):
        run_op(client, spec)
    [view] = run_op(client, spec, mode="contract")
    assert view.record.mode_id == "CONTRACT"
    assert view.record.mode_source == "override"


def test_exit_0_without_linkable_evidence_is_a_warning(client: Client) -> None:
    """Behaviour 9: a command that exits 0 and leaves nothing to link is WARN, not PASS."""
    checks = one_check("smoke", {"probe": "command", "argv": [PY, "-c", "pass"]})
    [view] = run_op(client, operator(acceptance_checks=checks))
    assert view.record.result == CheckStatus.WARN
    assert "no evidence" in view.record.acceptance_results[0].message
    assert view.run.state == RunState.SUCCEEDED


def test_a_probe_that_times_out_fails(client: Client) -> None:
    """Behaviour 9: a timeout is FAIL; the probe's command is stopped."""
    probe = {
        "probe": "command",
        "argv": [PY, "-c", "import time; time.sleep(30)"],
        "timeout_seconds": 0.5,
    }
    [view] = run_op(client, operator(acceptance_checks=one_check("smoke", probe)))
    assert view.record.result == CheckStatus.FAIL
    assert "timed out" in view.record.acceptance_results[0].message
    assert view.run.state == RunState.FAILED


def test_a_failing_step_skips_the_rest_and_fails_the_run(client: Client, tmp_path: Path) -> None:
    """A step with an unexpected exit code fails the procedure: later steps do not run, the
    checks still run, and the result is FAIL with the step's output as evidence."""
    marker = tmp_path / "second-ran"
    steps = [
        {"id": "first", "run": [PY, "-c", "import sys; print('bad'); sys.exit(3)"]},
        {"id": "second", "run": [PY, "-c", f"open({str(marker)!r}, 'w')"]},
    ]
    checks = one_check("smoke", {"probe": "exit_code", "step": "first"})
    [view] = run_op(client, operator(steps=steps, outputs=[], acceptance_checks=checks))
    assert not marker.exists()
    results = {r.check_id: r for r in view.record.acceptance_results}
    assert results["step:first"].status == CheckStatus.FAIL
    assert "exited 3" in results["step:first"].message
    assert results["step:first"].evidence_links
    assert results["c"].status == CheckStatus.FAIL
    assert view.run.state == RunState.FAILED


def test_template_values_never_reach_a_shell(client: Client, tmp_path: Path) -> None:
    """An input full of shell syntax arrives as one literal argument."""
    hostile = "$(touch pwned); echo hi > also-pwned"
    steps = [
        {
            "id": "echo",
            "run": [
                PY,
                "-c",
                "import sys; open(sys.argv[2], 'w').write(sys.argv[1])",
                "{text}",
                "{workdir}/out.txt",
            ],
        }
    ]
    spec = operator(
        inputs={"text": {"type": "string", "required": True}},
        steps=steps,
        outputs=[{"path": "{workdir}/out.txt"}],
        acceptance_checks=one_check(
            "content_validation", {"probe": "file", "path": "{workdir}/out.txt", "non_empty": True}
        ),
    )
    [view] = run_op(client, spec, {"text": hostile})
    out = Path(view.run.kwargs["context"]["workdir"]) / "out.txt"
    assert out.read_text() == hostile
    assert not list(tmp_path.rglob("pwned"))
    assert not list(tmp_path.rglob("also-pwned"))


@pytest.mark.parametrize(
    ("changes", "inputs", "field"),
    [
        (
            {"inputs": {"rows": {"type": "int", "default": 1}, "where": {"type": "path"}}},
            {"where": "../../etc"},
            "inputs.where",
        ),
        ({"outputs": [{"path": "/etc/passwd"}]}, {}, "outputs[0].path"),
        (
            {
                "acceptance_checks": one_check(
                    "content_validation", {"probe": "file", "path": "../x"}
                )
            },
            {},
            "acceptance_checks[0].probes[0].path",
        ),
        ({"steps": [{"id": "s", "run": ["true"], "cwd": "/"}]}, {}, "steps[0].cwd"),
    ],
)
def test_paths_that_leave_the_project_are_refused_naming_the_field(
    client: Client, changes: dict[str, Any], inputs: dict[str, Any], field: str
) -> None:
    """Inputs, outputs, probe paths and step folders must stay inside the project (or the
    runwright home); an escape is refused before anything runs."""
    with pytest.raises(ValidationError) as err:
        run_op(client, operator(**changes), inputs)
    assert err.value.fields["field"] == field
    assert "escapes the project" in str(err.value)
    assert client.list_runs() == []


def test_a_symlink_out_of_the_project_is_an_escape(client: Client, tmp_path: Path) -> None:
    """A path through a symlink that points outside the project is refused."""
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (client.settings.project_root / "link").symlink_to(outside)
    spec = operator(outputs=[{"path": "link/rows.csv"}])
    with pytest.raises(ValidationError, match="escapes the project"):
        run_op(client, spec)


def test_a_call_step_runs_a_python_callable_whose_evidence_satisfies_items(client: Client) -> None:
    """A `call` step imports module:function, passes templated arguments, and the evidence it
    attaches lets its `satisfies` items count."""
    steps = [
        {
            "id": "note",
            "call": "execmodel_ops:note",
            "args": {"path": "{workdir}/manifest.json", "text": "{op_id} rows"},
            "satisfies": ["manifest"],
        },
        *operator()["steps"],
    ]
    [view] = run_op(client, operator(steps=steps, evidence_pattern=["manifest"]))
    assert view.op_run is not None
    assert view.op_run.evidence_pattern is not None
    manifest = next(i for i in view.op_run.evidence_pattern.items if i.id == "manifest")
    assert manifest.required
    assert manifest.met
    assert manifest.sources == ["step:note"]
    assert any(link.label == "note" for link in view.op_run.evidence_links)


def test_a_failing_callable_fails_its_step(client: Client) -> None:
    """A callable that raises fails the step with the exception's message."""
    steps = [{"id": "b", "call": "execmodel_ops:boom", "args": {"message": "no disk"}}]
    [view] = run_op(client, operator(steps=steps))
    step = next(r for r in view.record.acceptance_results if r.check_id == "step:b")
    assert "RuntimeError: no disk" in step.message


def test_retry_then_debug_packet_failure_paths(client: Client) -> None:
    """A failed run is retried once (a new linked run), then the next path opens a debug
    packet about it with a minimal repro."""
    spec = operator(
        inputs={"rows": {"type": "int", "default": 0}},
        failure_paths=[
            {"when": "fail", "action": "retry", "max_retries": 1},
            {"when": "fail", "action": "open_debug_packet"},
        ],
    )
    chain = run_op(client, spec)
    assert [v.record.result for v in chain] == [CheckStatus.FAIL, CheckStatus.FAIL]
    first, second = chain
    assert first.record.failure_path is not None
    assert first.record.failure_path.retry_run_id == second.run.run_id
    assert second.record.retry_of == first.run.run_id
    assert second.record.failure_path is not None
    packet_id = second.record.failure_path.debug_packet_id
    assert packet_id is not None
    packet = client.ops.packet(packet_id)
    assert packet.source_run_id == second.run.run_id
    assert packet.minimal_repro is not None
    assert "op run WriteRows --mode PIPELINE" in packet.minimal_repro.commands[0]
    assert "failure_path_taken" in kinds(client, first.run.run_id)
    assert "debug_packet_opened" in kinds(client, second.run.run_id)


def test_switch_mode_and_escalate_failure_paths(client: Client) -> None:
    """switch_mode suggests the next pointer to the other mode; escalate raises an escalation
    event carrying the failing checks."""
    spec = operator(
        inputs={"rows": {"type": "int", "default": 0}},
        failure_paths=[
            {
                "when": "check_failed",
                "check": "rows",
                "action": "switch_mode",
                "to_mode": "CONTRACT",
                "note": "repro the empty export",
            }
        ],
    )
    [view] = run_op(client, spec)
    assert client.ops.suggested_next_pointer(view.run.run_id) == (
        "switch to CONTRACT mode: repro the empty export"
    )
    spec = operator(
        op_id="WriteRowsEsc",
        inputs={"rows": {"type": "int", "default": 0}},
        failure_paths=[{"when": "fail", "action": "escalate", "note": "ask the data owner"}],
    )
    [view] = run_op(client, spec)
    event = next(e for e in client.events(view.run.run_id) if e.kind == EventKind.ESCALATION_RAISED)
    assert event.payload["failing"] == ["rows"]
    assert event.payload["note"] == "ask the data owner"


def test_finalizing_twice_changes_nothing(client: Client) -> None:
    """Finalization is stored once: a second call returns the same record, adds no events."""
    [view] = run_op(client, operator())
    before = kinds(client, view.run.run_id)
    again = finalize(client.ops.env, view.run.run_id)
    assert again == view.record
    assert kinds(client, view.run.run_id) == before


def test_op_runs_executed_by_any_worker_are_finalized_on_read(client: Client) -> None:
    """A run executed by a plain worker (not through ops) is finalized when listed."""
    source = write_op(client.settings.project_root / "ops", operator())
    op = client.ops.operator("WriteRows", source).operator
    run = client.ops.start_op_run(op, {})
    assert client.worker(register=False, tickers=[]).run(until_idle=True).claimed >= 1
    [record] = client.ops.op_runs()
    assert record.run_id == run.run_id
    assert record.finalized
    assert record.result == "PASS"


def test_json_schema_regex_and_sha256_probes(client: Client) -> None:
    """JSON Schema (inline and from a file), regex (match and no_match) and sha256 probes
    pass on good content and fail, with the reason, on bad content."""
    root = client.settings.project_root
    (root / "doc.json").write_text(json.dumps({"name": "x", "n": 3}))
    (root / "schema.json").write_text(json.dumps({"type": "object", "required": ["name"]}))
    (root / "log.txt").write_text("ok\nok\n")
    digest = __import__("hashlib").sha256((root / "log.txt").read_bytes()).hexdigest()
    good = one_check(
        "contract_test",
        {"probe": "json_schema", "path": "doc.json", "schema_path": "schema.json"},
        {
            "probe": "json_schema",
            "path": "doc.json",
            "schema": {"properties": {"n": {"type": "integer"}}},
        },
        {"probe": "regex", "path": "log.txt", "pattern": "^ok$", "min_matches": 2},
        {"probe": "regex", "path": "log.txt", "pattern": "ERROR", "expect": "no_match"},
        {"probe": "sha256", "path": "log.txt", "equals": digest},
    )
    [view] = run_op(client, operator(acceptance_checks=good))
    assert view.record.result == CheckStatus.PASS
    bad = one_check(
        "contract_test",
        {"probe": "json_schema", "path": "doc.json", "schema": {"required": ["missing"]}},
        {"probe": "regex", "path": "log.txt", "pattern": "ok", "expect": "no_match"},
        {"probe": "sha256", "path": "log.txt", "equals": "0" * 64},
    )
    [view] = run_op(client, operator(op_id="WriteRowsBad", acceptance_checks=bad))
    probes = view.record.acceptance_results[0].probes
    assert [p.status for p in probes] == [CheckStatus.FAIL] * 3
    assert "'missing' is a required property" in probes[0].message


def test_a_stale_file_is_a_warning(client: Client) -> None:
    """A file older than max_age_minutes is WARN (stale evidence)."""
    root = client.settings.project_root
    old = root / "old.csv"
    old.write_text("a\n1\n")
    os.utime(old, (1_600_000_000, 1_600_000_000))
    check = one_check(
        "content_validation", {"probe": "file", "path": "old.csv", "max_age_minutes": 5}
    )
    [view] = run_op(client, operator(acceptance_checks=check))
    assert view.record.result == CheckStatus.WARN
    assert "stale" in view.record.acceptance_results[0].message


def test_a_step_whose_callable_cannot_be_imported_fails_that_step(client: Client) -> None:
    """The broken step is a FAIL result naming the field; the checks still run."""
    steps = [{"id": "ghost", "call": "execmodel_ops:no_such_function"}]
    [view] = run_op(client, operator(steps=steps))
    results = {r.check_id: r for r in view.record.acceptance_results}
    assert "steps.ghost.call: cannot import" in results["step:ghost"].message
    assert "rows" in results
    assert view.record.result == CheckStatus.FAIL


@pytest.mark.parametrize("project", ["alpha,beta", " ", "a\nb"])
def test_an_op_run_needs_exactly_one_project(client: Client, project: str) -> None:
    """Behaviour 7: two projects (or none) for one op run are refused before it starts."""
    with pytest.raises(ValidationError, match="exactly one project"):
        run_op(client, operator(), project_id=project)
    assert client.list_runs() == []


def test_a_worker_finalizes_ended_op_runs_with_no_ticker(client: Client) -> None:
    """An op run's end queues its finalize run in the same transaction; a worker with no
    tickers runs it like any run, and the record is finalized exactly once."""
    source = write_op(client.settings.project_root / "ops", operator())
    op = client.ops.operator("WriteRows", source).operator
    run = client.ops.start_op_run(op, {})
    worker = client.worker(register=False, tickers=[])
    assert worker.run(max_runs=1).claimed == 1
    assert client.ops.env.em.get_op_run(run.run_id).finalized is False
    follow_up = client.ops.env.em.finalize_run_of(run.project_id, run.run_id)
    assert follow_up is not None
    assert client.get(follow_up).state.value == "pending"
    assert client.worker(register=False, tickers=[]).run(until_idle=True).claimed == 1
    assert client.get(follow_up).state.value == "succeeded"
    assert client.ops.env.em.get_op_run(run.run_id).finalized is True

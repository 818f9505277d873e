"""Readable text about runs, without I/O: test output marked once in defects and corrections,
the subject a list of runs shows for each kind of run, and naming one evidence artifact."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runwright.api.artifacts import find_artifact
from runwright.api.subjects import run_subject
from runwright.domain.evidence import EvidenceLink
from runwright.domain.ids import new_id
from runwright.domain.plan_records import CorrectionRequest, split_output, with_output
from runwright.domain.runs import Origin, Run
from runwright.domain.states import RunState
from runwright.errors import NotFound, ValidationError
from runwright.plans.contract import load_plan
from runwright.plans.escalation import schedule_impact

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
TAIL = ["FAIL: test_greets_by_name", "AssertionError: 'Hello Ada' != 'Hello, Ada!'"]


def test_test_output_is_marked_and_split_back_out() -> None:
    """with_output marks the lines; split_output returns the text without them, and them."""
    text = with_output("patch P quarantined: verification failed", TAIL) + "; tests fail at HEAD"
    rest, blocks = split_output(text)
    assert rest == "patch P quarantined: verification failed; tests fail at HEAD"
    assert blocks == ["\n".join(TAIL)]
    assert with_output("no output", []) == "no output"


def test_an_unterminated_block_of_an_older_record_runs_to_the_end() -> None:
    """A block without its end marker (records written before it existed) is still split."""
    text = "patch P quarantined\n--- last lines of the test output ---\nline 1\nline 2"
    assert split_output(text) == ("patch P quarantined", ["line 1\nline 2"])


def test_a_correction_shows_the_test_output_once() -> None:
    """Output cited by both the defect and the required correction appears once, in plain
    words (no Python quoting of the gate)."""
    error = with_output("patch P quarantined: verification failed", TAIL)
    c = CorrectionRequest(
        gate="implementation",
        round=1,
        budget=2,
        phase_id="I1",
        defect=f"phase I1 did not commit: {error}; tests fail at HEAD",
        required_correction=f"Implement greet — and fix: {error}; make the tests pass",
        acceptance_criteria=["requirement R1: greet(name) returns 'Hello, NAME!'"],
    )
    text = c.as_text()
    assert text.count(TAIL[1]) == 1
    assert text.count("Test output (last lines):") == 1
    assert "— the implementation gate failed." in text
    assert (
        "Defect observed: phase I1 did not commit: patch P quarantined: verification failed; "
        in (text)
    )
    assert "Required correction: Implement greet — and fix: patch P quarantined: " in text
    assert "make the tests pass" in text
    assert "---" not in text


def _run(job: str, args: list[Any] | None = None, **kw: Any) -> Run:
    return Run(
        run_id=new_id(),
        project_id="p",
        state=RunState.SUCCEEDED,
        created_at=NOW,
        job_name=job,
        args=args or [],
        **kw,
    )


PLAN = {"plan": {"plan_id": "greet"}}


@pytest.mark.parametrize(
    ("run", "subject"),
    [
        (_run("runwright.plans.plan", [PLAN]), "greet"),
        (
            _run("runwright.plans.phase", [{**PLAN, "delegation": {"phase_id": "I1", "round": 0}}]),
            "greet/I1",
        ),
        (
            _run("runwright.plans.phase", [{**PLAN, "delegation": {"phase_id": "I1", "round": 2}}]),
            "greet/I1 (correction 2)",
        ),
        (_run("runwright.plans.validate", [PLAN]), "greet/validate"),
        (
            _run(
                "runwright.patches.agent_tool",
                [{"decision": {"selected": "coder"}, "request": {"phase_id": "greet.I1"}}],
            ),
            "coder on greet.I1",
        ),
        (
            _run(
                "runwright.operator",
                kwargs={"operator": {"op_id": "WriteTable"}},
                mode_id="PIPELINE",
            ),
            "WriteTable (PIPELINE)",
        ),
        (
            _run("runwright.operator", origin=Origin(trigger_ref="WriteTable")),
            "WriteTable",
        ),
        (_run("runwright.workflows.consumer", ["cases", "Relay"]), "cases/Relay"),
        (_run("tests.jobs.add", [1, 2]), ""),
        (_run("runwright.plans.phase", [{"unexpected": True}], workstream_id="greet"), "greet"),
    ],
)
def test_each_kind_of_run_has_a_readable_subject(run: Run, subject: str) -> None:
    """Op runs show their operator, plan runs their plan, phase runs plan/phase, agent-tool
    runs the tool and phase, handler runs workflow/handler; odd arguments fall back."""
    assert run_subject(run) == subject


def _link(path: str, sha: str, label: str | None = None) -> EvidenceLink:
    return EvidenceLink(
        artifact_path=path,
        created_at=NOW,
        evidence_id=new_id(),
        run_id="01M8XE0000000000000000000A",
        sha256=sha,
        size=1,
        label=label,
    )


LINKS = [
    _link("artifacts/suite-0.log", "abcd" + "1" * 60, "suite-0"),
    _link("artifacts/verify-I1-0.log", "abcd" + "2" * 60, "verify-I1-0"),
    _link("prompt.md", "b3" * 32, "prompt"),
    _link("copy/prompt.md", "b3" * 32),
]


def test_an_artifact_is_found_by_path_file_name_label_or_hash_prefix() -> None:
    """Each way of naming an artifact finds it; the same content twice is not ambiguous."""
    run = "01M8XE0000000000000000000A"
    assert find_artifact(run, LINKS, "artifacts/suite-0.log") is LINKS[0]
    assert find_artifact(run, LINKS, "verify-I1-0.log") is LINKS[1]
    assert find_artifact(run, LINKS, "verify-I1-0") is LINKS[1]
    assert find_artifact(run, LINKS, "abcd2") is LINKS[1]
    assert find_artifact(run, LINKS, "sha256:ABCD1") is LINKS[0]
    assert find_artifact(run, LINKS, "prompt.md").sha256 == "b3" * 32


def test_an_ambiguous_or_unknown_name_is_a_clear_error() -> None:
    """A prefix matching different contents lists the candidates; an unknown name lists all."""
    run = "01M8XE0000000000000000000A"
    with pytest.raises(ValidationError, match="names 2 artifacts") as many:
        find_artifact(run, LINKS, "sha256:abcd")
    assert "artifacts/suite-0.log" in many.value.message
    assert "artifacts/verify-I1-0.log" in many.value.message
    with pytest.raises(NotFound, match="no evidence named 'nope'"):
        find_artifact(run, LINKS, "nope")
    with pytest.raises(NotFound):
        find_artifact(run, LINKS, "abc")  # under four hex digits is no prefix


def test_the_schedule_impact_of_an_escalation_is_plain_english() -> None:
    """It names the phases that cannot start (no Python list, no 'none') and the gates waiting."""
    plan = load_plan(Path(__file__).resolve().parents[2] / "examples/plans/plans/greet.yaml")
    test_gate = schedule_impact(plan, "test", 0)
    assert test_gate.startswith("the test gate is blocked; phases I1, I2 cannot start and the ")
    assert "the implementation, validation gates wait;" in test_gate
    impl = schedule_impact(plan, "implementation", 2)
    assert "no later phase waits on it and the validation gate waits" in impl
    assert "after 2 correction rounds" in impl or "after 2 correction round(s)" in impl
    for text in (test_gate, impl, schedule_impact(plan, "validation", 0)):
        assert "none" not in text
        assert "[" not in text
        assert "(s)" not in text.replace("round(s)", "")

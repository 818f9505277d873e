"""From the memoized step, check and output records to acceptance results and pattern facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runwright.domain.evidence import EvidenceLink
from runwright.domain.execmodel.checks import (
    CheckResult,
    CheckStatus,
    CheckType,
    ProbeResult,
    ResultOrigin,
)
from runwright.domain.execmodel.operators import Operator
from runwright.domain.execmodel.opruns import grounded_result
from runwright.domain.execmodel.patterns import PatternFacts

STEP_PREFIX, CHECK_PREFIX, OUTPUTS_KEY = "step:", "check:", "outputs"


@dataclass
class Summary:
    """What an op run's records add up to."""

    acceptance_results: list[CheckResult]
    outputs_written: list[str]
    facts: PatternFacts
    result: CheckStatus
    skipped_steps: list[str] = field(default_factory=list)


def synthetic(
    check_id: str,
    check_type: CheckType,
    message: str,
    origin: ResultOrigin,
    links: list[EvidenceLink] | None = None,
) -> CheckResult:
    """A FAIL acceptance result that does not come from a declared check."""
    probe = ProbeResult(probe=str(origin), status=CheckStatus.FAIL, message=message)
    return CheckResult(
        check_id=check_id,
        check_type=check_type,
        status=CheckStatus.FAIL,
        evidence_links=links or [],
        message=message,
        probes=[probe],
        origin=origin,
    )


def _steps(
    op: Operator,
    steps: Mapping[str, Mapping[str, Any]],
    results: list[CheckResult],
    provided: dict[str, list[str]],
) -> None:
    for s in op.steps:
        record = steps.get(s.id)
        if record is None:
            continue
        links = [EvidenceLink.model_validate(e) for e in record.get("evidence", [])]
        if not record.get("ok"):
            message = f"step {s.id} failed: {record.get('message', 'error')}"
            results.append(
                synthetic(f"step:{s.id}", CheckType.SMOKE, message, ResultOrigin.STEP, links)
            )
        elif links:
            for item in s.satisfies:
                provided.setdefault(item, []).append(f"step:{s.id}")


def _outputs(
    op: Operator,
    outputs: list[Mapping[str, Any]],
    results: list[CheckResult],
    provided: dict[str, list[str]],
) -> tuple[list[str], list[str]]:
    written: list[str] = []
    nonempty: list[str] = []
    for spec, record in zip(op.outputs, outputs, strict=False):
        path = str(record["path"])
        if record.get("exists"):
            written.append(path)
            if record.get("size", 0) > 0:
                nonempty.append(path)
                for item in spec.satisfies:
                    provided.setdefault(item, []).append(f"output:{path}")
        elif spec.required:
            message = f"required output {path} was not written"
            results.append(
                synthetic(
                    f"output:{path}", CheckType.CONTENT_VALIDATION, message, ResultOrigin.STEP
                )
            )
    return written, nonempty


def summarize(
    op: Operator,
    steps: Mapping[str, Mapping[str, Any]],
    checks: Mapping[str, CheckResult],
    outputs: list[Mapping[str, Any]] | None,
    *,
    over_timebox: bool = False,
    extra: list[CheckResult] | None = None,
) -> Summary:
    """Acceptance results (declared checks, failed steps, missing outputs), outputs and facts."""
    results: list[CheckResult] = []
    provided: dict[str, list[str]] = {}
    _steps(op, steps, results, provided)
    for c in op.acceptance_checks:
        found = checks.get(c.id)
        if found is None:
            continue
        results.append(found)
        if found.status == CheckStatus.PASS:
            for item in c.satisfies:
                provided.setdefault(item, []).append(f"check:{c.id}")
    written, nonempty = _outputs(op, outputs or [], results, provided)
    results.extend(extra or [])
    passed = sorted(
        {r.check_type for r in results if r.status == CheckStatus.PASS and r.origin == "check"}
    )
    facts = PatternFacts(provided=provided, passed_check_types=passed, nonempty_outputs=nonempty)
    return Summary(
        acceptance_results=results,
        outputs_written=written,
        facts=facts,
        result=grounded_result(results, over_timebox=over_timebox),
        skipped_steps=[s.id for s in op.steps if s.id not in steps],
    )

"""Check types, check statuses and check results (the Execution Model's acceptance checks)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.evidence import EvidenceLink


class CheckType(StrEnum):
    """The five check types of the Execution Model's checks and runbooks."""

    SMOKE = "smoke"
    RUN_LIVE_BOUNDED = "run_live_bounded"
    CONTRACT_TEST = "contract_test"
    HEALTH_CHECK = "health_check"
    CONTENT_VALIDATION = "content_validation"


class CheckStatus(StrEnum):
    """PASS = exit OK, evidence exists, gates pass; WARN = weak, stale or unlinkable evidence;
    FAIL = failed, timed out, or critical evidence missing."""

    PASS = "PASS"  # noqa: S105 - a status, not a password
    WARN = "WARN"
    FAIL = "FAIL"


SEVERITY: dict[CheckStatus, int] = {CheckStatus.PASS: 0, CheckStatus.WARN: 1, CheckStatus.FAIL: 2}


def worst(statuses: Iterable[CheckStatus | str]) -> CheckStatus | None:
    """The worst of ``statuses`` (FAIL > WARN > PASS), or None when there are none."""
    found = [CheckStatus(s) for s in statuses]
    if not found:
        return None
    return max(found, key=SEVERITY.__getitem__)


class ResultOrigin(StrEnum):
    """Where an acceptance result comes from."""

    CHECK = "check"  # a declared acceptance check
    STEP = "step"  # a step that failed: the procedure itself did not complete


class ProbeResult(BaseModel):
    """What one probe of a check found."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    probe: str = Field(description="The probe kind: command, exit_code, file, json_schema…")
    status: CheckStatus
    message: str = Field(description="One line: what was checked and what was found.")
    evidence_links: list[EvidenceLink] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)


class CheckResult(BaseModel):
    """One acceptance result of an op run: ``{check_type, status, evidence_links}`` and more."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check_id: str = Field(min_length=1)
    check_type: CheckType
    status: CheckStatus
    evidence_links: list[EvidenceLink] = Field(default_factory=list)
    message: str = ""
    probes: list[ProbeResult] = Field(default_factory=list)
    origin: ResultOrigin = ResultOrigin.CHECK


def combine(
    check_id: str, check_type: CheckType, probes: list[ProbeResult], *, origin: ResultOrigin
) -> CheckResult:
    """A check's result from its probes: the worst status, every probe's evidence."""
    status = worst(p.status for p in probes) or CheckStatus.FAIL
    links: list[EvidenceLink] = []
    seen: set[str] = set()
    for p in probes:
        for link in p.evidence_links:
            if link.evidence_id not in seen:
                seen.add(link.evidence_id)
                links.append(link)
    bad = [p.message for p in probes if p.status == status and status != CheckStatus.PASS]
    message = "; ".join(bad) if bad else f"{len(probes)} probe(s) passed"
    return CheckResult(
        check_id=check_id,
        check_type=check_type,
        status=status,
        evidence_links=links,
        message=message[:1000],
        probes=probes,
        origin=origin,
    )

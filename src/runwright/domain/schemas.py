"""The core's artifacts, by kind name, for JSON Schema export."""

from __future__ import annotations

from pydantic import BaseModel

from runwright.domain.events import RunEvent
from runwright.domain.evidence import EvidenceLink, Manifest
from runwright.domain.failures import Failure
from runwright.domain.retry import RetryPolicy
from runwright.domain.runs import Run, RunListing, StepAttempt, StepResult

SCHEMAS: dict[str, type[BaseModel]] = {
    "run_record": Run,
    "run_listing": RunListing,
    "step_attempt": StepAttempt,
    "step_result": StepResult,
    "run_event": RunEvent,
    "evidence_link": EvidenceLink,
    "manifest": Manifest,
    "failure": Failure,
    "retry_policy": RetryPolicy,
}

"""Pure types and rules: no I/O, no clock, no database."""

from runwright.domain.events import EventKind, RunEvent, verify_chain
from runwright.domain.evidence import EvidenceCounts, EvidenceLink, Manifest, ManifestEntry
from runwright.domain.failures import Failure
from runwright.domain.ids import is_ulid, new_id
from runwright.domain.retry import RetryPolicy
from runwright.domain.runs import (
    Counters,
    Origin,
    Run,
    RunKind,
    StepAttempt,
    StepResult,
    TriggerType,
)
from runwright.domain.states import RunState, StateReason, StepState

__all__ = [
    "Counters",
    "EventKind",
    "EvidenceCounts",
    "EvidenceLink",
    "Failure",
    "Manifest",
    "ManifestEntry",
    "Origin",
    "RetryPolicy",
    "Run",
    "RunEvent",
    "RunKind",
    "RunState",
    "StateReason",
    "StepAttempt",
    "StepResult",
    "StepState",
    "TriggerType",
    "is_ulid",
    "new_id",
    "verify_chain",
]

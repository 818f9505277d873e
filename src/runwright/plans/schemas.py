"""The plan part's artifacts, by kind name, for JSON Schema export."""

from __future__ import annotations

from pydantic import BaseModel

from runwright.domain.plan_completion import CompletionContract, ValidationReport
from runwright.domain.plan_records import (
    Acknowledgment,
    CorrectionRequest,
    Escalation,
    GateResult,
    PhaseDelegation,
    PlanRunRecord,
)
from runwright.domain.plan_schedule import Schedule
from runwright.domain.plans import PlanSpec
from runwright.domain.workstreams import WorkstreamSpec
from runwright.plans.spec import PhaseRunSpec, PlanRunSpec

SCHEMAS: dict[str, type[BaseModel]] = {
    "plan": PlanSpec,
    "plan_acknowledgment": Acknowledgment,
    "plan_schedule": Schedule,
    "gate_result": GateResult,
    "correction_request": CorrectionRequest,
    "escalation": Escalation,
    "validation_report": ValidationReport,
    "completion_contract": CompletionContract,
    "phase_delegation": PhaseDelegation,
    "plan_run_record": PlanRunRecord,
    "plan_run_spec": PlanRunSpec,
    "phase_run_spec": PhaseRunSpec,
    "workstream_spec": WorkstreamSpec,
}

"""The patch part's artifacts, by kind name, for JSON Schema export."""

from __future__ import annotations

from pydantic import BaseModel

from runwright.domain.patches import PatchArtifact
from runwright.domain.patches_context import PatchContext, PatchRecord
from runwright.domain.patches_ledger import PatchLedgerEntry
from runwright.domain.patches_oscillation import OscillationVerdict
from runwright.domain.patches_prompts import PromptInstance
from runwright.domain.policy import EffectivePolicy, PatchPolicy
from runwright.domain.router import RouterConfig
from runwright.domain.router_decision import RouteDecision, ToolStats
from runwright.domain.router_specs import ExecutionRequest, PhaseSpec, TaskSpec
from runwright.patches.adapters import AgentAdapter
from runwright.patches.agent import AgentRunSpec, AgentToolResult
from runwright.patches.config_files import PolicyFile

SCHEMAS: dict[str, type[BaseModel]] = {
    "patch_artifact": PatchArtifact,
    "patch_ledger_entry": PatchLedgerEntry,
    "patch_record": PatchRecord,
    "patch_context": PatchContext,
    "patch_policy": PatchPolicy,
    "patch_policy_file": PolicyFile,
    "effective_patch_policy": EffectivePolicy,
    "oscillation_verdict": OscillationVerdict,
    "router_config": RouterConfig,
    "execution_request": ExecutionRequest,
    "prompt_instance": PromptInstance,
    "phase_spec": PhaseSpec,
    "task_spec": TaskSpec,
    "route_decision": RouteDecision,
    "tool_stats": ToolStats,
    "agent_adapter": AgentAdapter,
    "agent_run_spec": AgentRunSpec,
    "agent_tool_result": AgentToolResult,
}

"""runwright: a durable, evidence-first execution runtime.

``import runwright`` gives the authoring API (``@job``, ``@step``), the client and the
testing helpers; everything else is internal. Names are loaded when first used, so importing
the package (and starting the CLI) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from runwright.version import __version__

if TYPE_CHECKING:
    from runwright import testing
    from runwright.api.client import Client
    from runwright.config import Settings, load_settings
    from runwright.domain.commit_policy import GroupCommit
    from runwright.domain.reconcile import ReconcileResult, Reconciliation
    from runwright.domain.retry import RetryPolicy
    from runwright.domain.runs import Run
    from runwright.domain.states import RunState, StepState
    from runwright.engine.clock import FakeClock
    from runwright.engine.context import ChildFailed, ChildSpec, JobContext
    from runwright.engine.evidence import attach_evidence
    from runwright.engine.registry import job
    from runwright.engine.steps import step
    from runwright.errors import Cancelled, NonRetryableError, RunwrightError, StepFailed
    from runwright.workflows.authoring import Workflow
    from runwright.workflows.errors import (
        AuthError,
        InternalError,
        LogicError,
        PermissionDenied,
        PhaseViolation,
        ToolError,
        TransientError,
        UncertainError,
    )
    from runwright.workflows.prepared import MutationResult, Prepared
    from runwright.workflows.tools import MutationCall, Tool, mutation, read

#: Where each public name lives.
_HOMES = {
    "Client": "runwright.api.client",
    "Settings": "runwright.config",
    "load_settings": "runwright.config",
    "GroupCommit": "runwright.domain.commit_policy",
    "ReconcileResult": "runwright.domain.reconcile",
    "Reconciliation": "runwright.domain.reconcile",
    "RetryPolicy": "runwright.domain.retry",
    "Run": "runwright.domain.runs",
    "RunState": "runwright.domain.states",
    "StepState": "runwright.domain.states",
    "FakeClock": "runwright.engine.clock",
    "ChildFailed": "runwright.engine.context",
    "ChildSpec": "runwright.engine.context",
    "JobContext": "runwright.engine.context",
    "attach_evidence": "runwright.engine.evidence",
    "job": "runwright.engine.registry",
    "step": "runwright.engine.steps",
    "Cancelled": "runwright.errors",
    "NonRetryableError": "runwright.errors",
    "RunwrightError": "runwright.errors",
    "StepFailed": "runwright.errors",
    "Workflow": "runwright.workflows.authoring",
    "AuthError": "runwright.workflows.errors",
    "InternalError": "runwright.workflows.errors",
    "LogicError": "runwright.workflows.errors",
    "PermissionDenied": "runwright.workflows.errors",
    "PhaseViolation": "runwright.workflows.errors",
    "ToolError": "runwright.workflows.errors",
    "TransientError": "runwright.workflows.errors",
    "UncertainError": "runwright.workflows.errors",
    "MutationResult": "runwright.workflows.prepared",
    "Prepared": "runwright.workflows.prepared",
    "MutationCall": "runwright.workflows.tools",
    "Tool": "runwright.workflows.tools",
    "mutation": "runwright.workflows.tools",
    "read": "runwright.workflows.tools",
}


def __getattr__(name: str) -> Any:
    """Load a public name on first use (PEP 562)."""
    if name == "testing":
        return importlib.import_module("runwright.testing")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'runwright' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES, "testing"])


__all__ = [
    "AuthError",
    "Cancelled",
    "ChildFailed",
    "ChildSpec",
    "Client",
    "FakeClock",
    "GroupCommit",
    "InternalError",
    "JobContext",
    "LogicError",
    "MutationCall",
    "MutationResult",
    "NonRetryableError",
    "PermissionDenied",
    "PhaseViolation",
    "Prepared",
    "ReconcileResult",
    "Reconciliation",
    "RetryPolicy",
    "Run",
    "RunState",
    "RunwrightError",
    "Settings",
    "StepFailed",
    "StepState",
    "Tool",
    "ToolError",
    "TransientError",
    "UncertainError",
    "Workflow",
    "__version__",
    "attach_evidence",
    "job",
    "load_settings",
    "mutation",
    "read",
    "step",
    "testing",
]

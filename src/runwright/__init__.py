"""runwright: a durable, evidence-first execution runtime.

``import runwright`` gives the authoring API (``@job``, ``@step``), the client and the
testing helpers; everything else is internal.
"""

from runwright import testing
from runwright.api.client import Client
from runwright.config import Settings, load_settings
from runwright.domain.retry import RetryPolicy
from runwright.domain.runs import Run
from runwright.domain.states import RunState, StepState
from runwright.engine.clock import FakeClock
from runwright.engine.context import ChildFailed, ChildSpec, JobContext
from runwright.engine.evidence import attach_evidence
from runwright.engine.registry import job
from runwright.engine.steps import ReconcileResult, step
from runwright.errors import (
    Cancelled,
    NonRetryableError,
    RunwrightError,
    StepFailed,
)
from runwright.version import __version__
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
from runwright.workflows.tools import MutationCall, Reconciliation, Tool, mutation, read

__all__ = [
    "AuthError",
    "Cancelled",
    "ChildFailed",
    "ChildSpec",
    "Client",
    "FakeClock",
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

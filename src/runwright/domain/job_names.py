"""The names of the jobs runwright itself defines, in one place.

A run records its job by name; lists of runs, the dashboard and the run-end hooks tell runwright's
own runs apart by these names without importing the parts that define the jobs.
"""

from __future__ import annotations

#: An op run: an operator's steps, checks and outputs (``runwright.execmodel.job``).
OPERATOR = "runwright.operator"
#: The durable follow-up run that finalizes an ended op run.
FINALIZE_OP_RUN = "runwright.execmodel.finalize_op_run"
#: One agent tool's attempt at a task, through the patch ledger.
AGENT_TOOL = "runwright.patches.agent_tool"
#: A plan run, one of its phases, and its validation.
PLAN = "runwright.plans.plan"
PLAN_PHASE = "runwright.plans.phase"
PLAN_VALIDATE = "runwright.plans.validate"
#: An event workflow's producer and consumer runs.
WORKFLOW_PRODUCER = "runwright.workflows.producer"
WORKFLOW_CONSUMER = "runwright.workflows.consumer"

"""The workflows' store: definitions, events, inputs, handler runs and the mutation ledger."""

from runwright.store.workflows.ending import Ending
from runwright.store.workflows.events import Publish
from runwright.store.workflows.inputs import NewInput
from runwright.store.workflows.mutations import NewMutation, RunAborted
from runwright.store.workflows.runs import CommitSpec, commit_in
from runwright.store.workflows.sched import CONSUMER_JOB, PRODUCER_JOB, REPAIR_JOB
from runwright.store.workflows.store import WorkflowStore

__all__ = [
    "CONSUMER_JOB",
    "PRODUCER_JOB",
    "REPAIR_JOB",
    "CommitSpec",
    "Ending",
    "NewInput",
    "NewMutation",
    "Publish",
    "RunAborted",
    "WorkflowStore",
    "commit_in",
]

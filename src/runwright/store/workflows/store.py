"""All of the workflow store's operations on one database."""

from __future__ import annotations

from runwright.store.database import Database
from runwright.store.workflows.defs import WorkflowDefs
from runwright.store.workflows.events import EventOps
from runwright.store.workflows.inputs import InputOps
from runwright.store.workflows.ledger import LedgerOps
from runwright.store.workflows.mutations import MutationOps
from runwright.store.workflows.runs import HandlerRunOps
from runwright.store.workflows.upkeep import UpkeepOps


class WorkflowStore(
    WorkflowDefs, EventOps, InputOps, HandlerRunOps, MutationOps, LedgerOps, UpkeepOps
):
    """Workflows, topics and events, inputs, handler runs, the mutation ledger, upkeep."""

    def __init__(self, db: Database):
        self.db = db

"""The client's event workflows: deploy, topics, events, inputs, mutations, the scheduler."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runwright.api.client import Client


class WorkflowsClient:
    """Operations on event workflows, through the shared client."""

    def __init__(self, client: Client):
        self.client = client

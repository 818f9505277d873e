"""The client's plans: run, status, decisions, the completion contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runwright.api.client import Client


class PlansClient:
    """Operations on plans, through the shared client."""

    def __init__(self, client: Client):
        self.client = client

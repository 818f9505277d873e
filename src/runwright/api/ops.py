"""The client's execution model: modes, blocks, operators, op runs and debug packets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runwright.api.client import Client


class OpsClient:
    """Operations on the execution model, through the shared client."""

    def __init__(self, client: Client):
        self.client = client

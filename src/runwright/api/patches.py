"""The client's patches, the patch ledger, routing and agent tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runwright.api.client import Client


class PatchesClient:
    """Operations on patches, the ledger, routing and agent tools, via the shared client."""

    def __init__(self, client: Client):
        self.client = client

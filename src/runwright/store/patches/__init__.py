"""The patch ledger's store: patches, their checks and routing decisions."""

from runwright.store.patches.ledger import PatchFilter, PatchLedgerStore
from runwright.store.patches.routing import RoutingStore

__all__ = [
    "PatchFilter",
    "PatchLedgerStore",
    "RoutingStore",
]

"""Tables of patches, the patch ledger and routing.

Declared on the shared ``metadata``; their migrations form the ``patches`` Alembic branch, whose
first revision has ``down_revision = "0001_core"`` and ``branch_labels = ("patches",)``.
"""

from __future__ import annotations

from runwright.store.metadata import metadata

__all__ = ["metadata"]

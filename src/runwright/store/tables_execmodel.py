"""Tables of the execution model (blocks, op runs, debug packets).

Declared on the shared ``metadata``; their migrations form the ``execmodel`` Alembic branch, whose
first revision has ``down_revision = "0001_core"`` and ``branch_labels = ("execmodel",)``.
"""

from __future__ import annotations

from runwright.store.metadata import metadata

__all__ = ["metadata"]

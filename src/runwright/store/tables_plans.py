"""Tables of plans (plan runs, gates, escalations, completion).

Declared on the shared ``metadata``; their migrations form the ``plans`` Alembic branch, whose
first revision has ``down_revision = "0001_core"`` and ``branch_labels = ("plans",)``.
"""

from __future__ import annotations

from runwright.store.metadata import metadata

__all__ = ["metadata"]

"""Tables of event workflows (topics, events, inputs, handler runs, mutations).

Declared on the shared ``metadata``; their migrations form the ``workflows`` Alembic branch, whose
first revision has ``down_revision = "0001_core"`` and ``branch_labels = ("workflows",)``.
"""

from __future__ import annotations

from runwright.store.metadata import metadata

__all__ = ["metadata"]

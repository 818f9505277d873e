"""Every table, declared once with SQLAlchemy Core on one ``metadata``; migrations must reach
exactly this.

The system database's tables are in ``core``; each part of the product declares its own in a
module named after it (``execmodel``, ``patches``, ``plans``, ``workflows``), imported here so
that ``schema.metadata`` always holds the whole schema. The core tables are re-exported:
``from runwright.store.schema import runs``.
"""

from runwright.store.schema import execmodel, patches, plans, workflows  # noqa: F401
from runwright.store.schema.core import (
    evidence,
    run_deps,
    run_events,
    runs,
    step_attempts,
    step_results,
    workers,
)
from runwright.store.schema.metadata import ID, metadata

__all__ = [
    "ID",
    "evidence",
    "metadata",
    "run_deps",
    "run_events",
    "runs",
    "step_attempts",
    "step_results",
    "workers",
]

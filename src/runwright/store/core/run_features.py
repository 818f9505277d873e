"""A run's fields that belong to a part of the product, each kept in that part's table.

``runs`` holds only the durable-run core. What a part gives a run lives in the part's table,
keyed by ``run_id``: the plan phase and workstream it works for (``phase_runs``), the mode and
block it was started in (``mode_runs``), its patch work (``patch_runs``: the execution request
it serves, the patches it created and applied). A run without such a field has no row there.

The rows are written in the transaction that creates the run, and joined back when a run is
read, so a ``Run`` shows them as before. A worker's claim reads ``runs`` alone: a claimed run
carries None for these fields, and a child run it starts without a mode or block of its own
inherits its parent's from ``mode_runs`` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select

from runwright.store.core.records import NewRun
from runwright.store.schema import runs
from runwright.store.schema.execmodel import mode_runs
from runwright.store.schema.patches import patch_runs
from runwright.store.schema.plans import phase_runs

#: The feature columns a ``Run`` shows, named as the fields of ``run_from_mapping``.
FEATURE_COLUMNS = (
    phase_runs.c.phase_id,
    phase_runs.c.workstream_id,
    mode_runs.c.mode_id,
    mode_runs.c.block_id,
    patch_runs.c.execution_request_id,
    patch_runs.c.patches_created,
    patch_runs.c.patches_applied,
)

#: ``runs`` with each part's row of the run (outer joins: most runs have none).
RUNS_WITH_FEATURES = (
    runs.outerjoin(phase_runs, phase_runs.c.run_id == runs.c.run_id)
    .outerjoin(mode_runs, mode_runs.c.run_id == runs.c.run_id)
    .outerjoin(patch_runs, patch_runs.c.run_id == runs.c.run_id)
)

#: Every column of a run, the core's and the parts': add ``.where(...)`` and read the rows
#: with ``run_from_row``.
SELECT_RUNS = select(runs, *FEATURE_COLUMNS).select_from(RUNS_WITH_FEATURES)

_INSERT_PHASE = phase_runs.insert()
_INSERT_MODE = mode_runs.insert()
_INSERT_PATCH = patch_runs.insert()
_PARENT_MODE = select(mode_runs.c.mode_id, mode_runs.c.block_id).where(
    mode_runs.c.run_id == bindparam("parent")
)


def insert_features(conn: Connection, specs: Sequence[NewRun]) -> None:
    """Write the parts' rows of new runs in the caller's transaction (the one creating them).

    A child run given no mode and no block takes its parent's; a run with none of a part's
    fields gets no row in that part's table (a plain job run: no statement at all).
    """
    phase: list[dict[str, Any]] = []
    mode: list[dict[str, Any]] = []
    patch: list[dict[str, Any]] = []
    inherit: dict[str, list[str]] = {}
    for spec in specs:
        if spec.phase_id is not None or spec.workstream_id is not None:
            phase.append(
                {
                    "run_id": spec.run_id,
                    "phase_id": spec.phase_id,
                    "workstream_id": spec.workstream_id,
                }
            )
        if spec.mode_id is not None or spec.block_id is not None:
            mode.append({"run_id": spec.run_id, "mode_id": spec.mode_id, "block_id": spec.block_id})
        elif spec.parent_run_id is not None:
            inherit.setdefault(spec.parent_run_id, []).append(spec.run_id)
        if spec.execution_request_id is not None:
            patch.append(
                {
                    "run_id": spec.run_id,
                    "execution_request_id": spec.execution_request_id,
                    "patches_created": 0,
                    "patches_applied": 0,
                }
            )
    for parent, children in inherit.items():
        row = conn.execute(_PARENT_MODE, {"parent": parent}).first()
        if row is not None:
            mode.extend(
                {"run_id": child, "mode_id": row.mode_id, "block_id": row.block_id}
                for child in children
            )
    if phase:
        conn.execute(_INSERT_PHASE, phase)
    if mode:
        conn.execute(_INSERT_MODE, mode)
    if patch:
        conn.execute(_INSERT_PATCH, patch)


def add_patch_counts(conn: Connection, run_id: str, *, created: int = 0, applied: int = 0) -> None:
    """Add to a run's patch counters in the caller's transaction (which holds the run's row
    lock, so no other writer races for the first row)."""
    if not created and not applied:
        return
    bumped = conn.execute(
        patch_runs.update()
        .where(patch_runs.c.run_id == run_id)
        .values(
            patches_created=patch_runs.c.patches_created + created,
            patches_applied=patch_runs.c.patches_applied + applied,
        )
    )
    if bumped.rowcount == 0:
        conn.execute(
            _INSERT_PATCH,
            [
                {
                    "run_id": run_id,
                    "execution_request_id": None,
                    "patches_created": created,
                    "patches_applied": applied,
                }
            ],
        )

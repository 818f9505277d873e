"""Store contract: a run's phase, mode, block and patch work live in the parts' tables, written
with the run and read back with it (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from runwright.domain.events import EventKind
from runwright.store.core.chain import NewEvent
from runwright.store.core.records import RunFilter
from runwright.store.core.run_features import add_patch_counts
from runwright.store.core.system_database import SystemDatabase
from runwright.store.patches.ledger import PatchLedgerStore
from runwright.store.schema.execmodel import mode_runs
from runwright.store.schema.patches import patch_runs
from runwright.store.schema.plans import phase_runs
from tests.contract.helpers import T0, at, claim, new_run

PARTS = (phase_runs, mode_runs, patch_runs)


def _rows(store: SystemDatabase) -> dict[str, int]:
    """How many rows each part's table holds."""

    def tx(conn: Connection) -> dict[str, int]:
        count = select(func.count())
        return {t.name: int(conn.execute(count.select_from(t)).scalar_one()) for t in PARTS}

    return store.db.run(tx, write=False)


def test_a_plain_run_writes_no_row_in_the_parts_tables(store: SystemDatabase) -> None:
    """A job run without phase, mode, block or execution request has no part row; it reads
    with those fields None and its patch counters 0."""
    run = store.create_run(new_run(), T0)
    assert _rows(store) == {"phase_runs": 0, "mode_runs": 0, "patch_runs": 0}
    assert (run.phase_id, run.workstream_id, run.mode_id, run.block_id) == (None,) * 4
    assert run.execution_request_id is None
    assert (run.counters.patches_created, run.counters.patches_applied) == (0, 0)


def test_the_parts_fields_are_written_with_the_run_and_read_back(store: SystemDatabase) -> None:
    """Phase, workstream, mode, block and execution request given at creation are read back
    by get_run, get_runs and list_runs; each part gets a row only for the runs that use it."""
    full = store.create_run(
        new_run(
            phase_id="PH-1",
            workstream_id="plan-1",
            mode_id="PIPELINE",
            block_id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
            execution_request_id="req-9",
        ),
        T0,
    )
    phase_only = store.create_run(new_run(phase_id="PH-2"), at(1))
    ids = store.create_runs([new_run(mode_id="CONTRACT"), new_run()], at(2))
    assert (full.phase_id, full.workstream_id, full.mode_id, full.block_id) == (
        "PH-1",
        "plan-1",
        "PIPELINE",
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    )
    assert full.execution_request_id == "req-9"
    assert (phase_only.phase_id, phase_only.mode_id) == ("PH-2", None)
    assert [r.mode_id for r in store.get_runs(ids)] == ["CONTRACT", None]
    listed = {r.run_id: r for r in store.list_runs(RunFilter())}
    assert listed[full.run_id].workstream_id == "plan-1"
    assert listed[phase_only.run_id].phase_id == "PH-2"
    assert _rows(store) == {"phase_runs": 2, "mode_runs": 2, "patch_runs": 1}


def test_a_child_run_inherits_its_parents_mode_and_block(store: SystemDatabase) -> None:
    """Children started by a run in a mode and block are in them too (a claimed run reads
    ``runs`` alone, so the store copies the parent's row); a child naming its own keeps it."""
    parent = store.create_run(
        new_run(mode_id="PIPELINE", block_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"), T0
    )
    lease = claim(store)
    ids = store.start_children(
        lease,
        "kids",
        [new_run(parent_run_id=parent.run_id), new_run(parent_run_id=parent.run_id, mode_id="X")],
        T0,
    )
    inherited, own = store.get_runs(ids)
    assert (inherited.mode_id, inherited.block_id) == ("PIPELINE", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert (own.mode_id, own.block_id) == ("X", None)


def test_a_child_of_a_run_without_mode_has_none(store: SystemDatabase) -> None:
    """A run with no mode row starts children with no mode row either."""
    parent = store.create_run(new_run(), T0)
    lease = claim(store)
    (child_id,) = store.start_children(lease, "k", [new_run(parent_run_id=parent.run_id)], T0)
    assert store.get_run(child_id).mode_id is None
    assert _rows(store)["mode_runs"] == 0


def test_patch_counters_add_up_in_patch_runs_with_the_runs_events(store: SystemDatabase) -> None:
    """Bumping a run's patch counters makes its patch_runs row on first use and adds to it
    after, in the transaction that appends the run's events; the errors counter stays on
    the run."""
    run = store.create_run(new_run(), T0)
    ledger = PatchLedgerStore(store.db)
    ledger.append_events(run.run_id, [], at(1), patches_created=1)
    ledger.append_events(run.run_id, [], at(2), patches_created=1, patches_applied=1, errors=1)
    ledger.append_events(run.run_id, [NewEvent(EventKind.NOTE, {"text": "x"})], at(3))
    after = store.get_run(run.run_id)
    assert (after.counters.patches_created, after.counters.patches_applied) == (2, 1)
    assert after.counters.errors == 1
    assert after.event_seq == run.event_seq + 1
    store.db.run(lambda conn: add_patch_counts(conn, run.run_id))  # nothing to add: no write
    assert _rows(store)["patch_runs"] == 1

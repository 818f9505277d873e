"""The patch ledger in the database: every change of a patch's state is one transaction.

A transition locks the entry, asks the domain for the next entry (``PatchLedgerEntry.moved``
raises on an illegal move), writes it, appends the events to the patch's run and bumps the
run's counters (kept in ``patch_runs``) — all or nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text

from runwright.domain.patches import PatchArtifact
from runwright.domain.patches_context import PatchContext, PatchRecord
from runwright.domain.patches_ledger import PatchLedgerEntry, PatchState
from runwright.errors import Conflict, NotFound
from runwright.store.core.chain import NewEvent, append_locked
from runwright.store.core.run_features import add_patch_counts
from runwright.store.database import Database
from runwright.store.patches.rows import (
    artifact_row,
    entry_from_row,
    entry_row,
    record_from_rows,
)
from runwright.store.schema import runs
from runwright.store.schema.patches import patch_ledger, patches

#: A transition: the locked entry in, the next entry and the events to append out.
Decide = Callable[[PatchLedgerEntry], tuple[PatchLedgerEntry, list[NewEvent]]]


@dataclass(frozen=True, slots=True)
class PatchFilter:
    """Which patches a listing wants."""

    project_id: str
    states: tuple[str, ...] = ()
    run_id: str | None = None
    before_patch_id: str | None = None
    limit: int = 50


def _next_position(conn: Connection, project_id: str) -> int:
    """The project's next patch position (1, 2, 3…), serialized per project."""
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(f"runwright.patches:{project_id}".encode())
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    last = conn.execute(
        select(func.max(patches.c.position)).where(patches.c.project_id == project_id)
    ).scalar()
    return int(last or 0) + 1


def _touch_run(
    conn: Connection,
    run_id: str | None,
    events: Sequence[NewEvent],
    now: datetime,
    counters: dict[str, int],
) -> None:
    if run_id is None or (not events and not counters):
        return
    errors = counters.get("errors", 0)
    extra: dict[str, Any] = {"errors": runs.c.errors + errors} if errors else {}
    append_locked(conn, run_id, list(events), now, **extra)
    add_patch_counts(
        conn,
        run_id,
        created=counters.get("patches_created", 0),
        applied=counters.get("patches_applied", 0),
    )


class PatchLedgerStore:
    """Patch artifacts and ledger entries on one database."""

    def __init__(self, db: Database):
        self.db = db

    def insert(
        self,
        artifact: PatchArtifact,
        entry: PatchLedgerEntry,
        *,
        context: PatchContext,
        diff_sha256: str,
        signature: str | None,
        events: Sequence[NewEvent],
        now: datetime,
    ) -> PatchRecord:
        """Record a new patch and its entry (idempotent on ``patch_id``)."""

        def tx(conn: Connection) -> None:
            exists = conn.execute(
                select(patches.c.patch_id).where(patches.c.patch_id == artifact.patch_id)
            ).first()
            if exists is not None:
                return
            position = _next_position(conn, entry.project_id)
            conn.execute(
                patches.insert().values(
                    position=position,
                    **artifact_row(
                        artifact,
                        project_id=entry.project_id,
                        run_id=entry.run_id,
                        diff_sha256=diff_sha256,
                        signature=signature,
                        context=context,
                    ),
                )
            )
            conn.execute(patch_ledger.insert().values(**entry_row(entry)))
            _touch_run(conn, entry.run_id, events, now, {"patches_created": 1})

        self.db.run(tx)
        return self.get(artifact.patch_id)

    def get(self, patch_id: str) -> PatchRecord:
        """One patch record, or NotFound."""

        def tx(conn: Connection) -> PatchRecord:
            p = conn.execute(select(patches).where(patches.c.patch_id == patch_id)).first()
            e = conn.execute(
                select(patch_ledger).where(patch_ledger.c.patch_id == patch_id)
            ).first()
            if p is None or e is None:
                raise NotFound(
                    f"patch {patch_id} not found",
                    hint="list patches with `runwright patch list`",
                    patch_id=patch_id,
                )
            return record_from_rows(p, e)

        return self.db.run(tx, write=False)

    def find(self, flt: PatchFilter) -> list[PatchRecord]:
        """Patches, newest first."""
        q = (
            select(patches, *[c.label(f"l_{c.name}") for c in patch_ledger.c])
            .join(patch_ledger, patch_ledger.c.patch_id == patches.c.patch_id)
            .where(patches.c.project_id == flt.project_id)
        )
        if flt.states:
            q = q.where(patch_ledger.c.state.in_(flt.states))
        if flt.run_id:
            q = q.where(patches.c.run_id == flt.run_id)
        if flt.before_patch_id:
            older = select(patches.c.position).where(patches.c.patch_id == flt.before_patch_id)
            q = q.where(patches.c.position < older.scalar_subquery())
        q = q.order_by(patches.c.position.desc()).limit(flt.limit)

        def tx(conn: Connection) -> list[PatchRecord]:
            out = []
            for row in conn.execute(q):
                ledger_values = {c.name: getattr(row, f"l_{c.name}") for c in patch_ledger.c}
                out.append(record_from_rows(row, _Row(ledger_values)))  # type: ignore[arg-type]
            return out

        return self.db.run(tx, write=False)

    def signatures_before(self, project_id: str, patch_id: str, limit: int) -> list[str | None]:
        """Change signatures of the project's last ``limit`` patches before ``patch_id``,
        oldest first."""
        mine = select(patches.c.position).where(patches.c.patch_id == patch_id)
        q = (
            select(patches.c.signature)
            .where(patches.c.project_id == project_id, patches.c.position < mine.scalar_subquery())
            .order_by(patches.c.position.desc())
            .limit(limit)
        )
        rows = self.db.run(lambda conn: list(conn.execute(q).scalars()), write=False)
        return list(reversed(rows))

    def transition(
        self,
        patch_id: str,
        decide: Decide,
        now: datetime,
        *,
        counters: dict[str, int] | None = None,
        expect: PatchState | None = None,
    ) -> PatchRecord:
        """Lock the entry, apply ``decide``, write the result with its events: one transaction.

        With ``expect``, the entry must still be in that state (else Conflict): a guard for
        decisions prepared outside the transaction.
        """

        def tx(conn: Connection) -> None:
            row = conn.execute(
                select(patch_ledger).where(patch_ledger.c.patch_id == patch_id).with_for_update()
            ).first()
            if row is None:
                raise NotFound(f"patch {patch_id} not found", patch_id=patch_id)
            current = entry_from_row(row)
            if expect is not None and current.state is not expect:
                raise Conflict(
                    f"patch {patch_id} is {current.state.value}, no longer {expect.value}",
                    hint="another process changed it; look at it with `runwright patch show`",
                    patch_id=patch_id,
                )
            nxt, events = decide(current)
            values = entry_row(nxt)
            conn.execute(
                patch_ledger.update().where(patch_ledger.c.patch_id == patch_id).values(**values)
            )
            _touch_run(conn, nxt.run_id, events, now, counters or {})

        self.db.run(tx)
        return self.get(patch_id)

    def entries_in(self, project_id: str, states: Sequence[PatchState]) -> list[PatchLedgerEntry]:
        """Ledger entries of a project in any of ``states``."""
        q = select(patch_ledger).where(
            patch_ledger.c.project_id == project_id,
            patch_ledger.c.state.in_([s.value for s in states]),
        )
        return self.db.run(lambda conn: [entry_from_row(r) for r in conn.execute(q)], write=False)

    def run_states(self, run_ids: Sequence[str]) -> dict[str, str]:
        """The state of each of ``run_ids`` that exists."""
        if not run_ids:
            return {}
        q = select(runs.c.run_id, runs.c.state).where(runs.c.run_id.in_(list(run_ids)))
        return self.db.run(lambda conn: {r.run_id: r.state for r in conn.execute(q)}, write=False)

    def append_events(
        self, run_id: str, events: Sequence[NewEvent], now: datetime, **counters: int
    ) -> None:
        """Append events to a run (and bump its counters) in one transaction."""
        self.db.run(lambda conn: _touch_run(conn, run_id, events, now, counters))


class _Row:
    """Attribute access over a dict, to reuse the row converters for a joined row."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)

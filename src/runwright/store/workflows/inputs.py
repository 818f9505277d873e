"""Inputs: registered by (workflow, source, type, id), with a status computed from their events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    case,
    func,
    or_,
    select,
)

import runwright.store.workflows.statements as st
from runwright.domain.workflows.models import Input
from runwright.domain.workflows.topics import OPEN_EVENT_STATUSES, EventStatus, InputStatus
from runwright.errors import NotFound
from runwright.store.database import Database
from runwright.store.schema.workflows import wf_event_inputs, wf_events, wf_inputs
from runwright.store.workflows.rows import input_from_row


@dataclass(frozen=True, slots=True)
class NewInput:
    """An input registered by a producer, written when its run commits."""

    input_id: str
    source: str
    type: str
    external_id: str
    title: str


def find_input_in(
    conn: Connection, workflow: str, source: str, type_: str, external_id: str
) -> str | None:
    """The id of an already registered input, if any."""
    row = st.FIND_INPUT.execute(
        conn, {"workflow": workflow, "source": source, "type": type_, "external_id": external_id}
    ).first()
    return None if row is None else str(row.input_id)


def insert_inputs_in(
    conn: Connection, workflow: str, items: list[NewInput], run_id: str | None, now: datetime
) -> list[str]:
    """Insert new inputs (one registered meanwhile under the same key keeps its id)."""
    written = []
    for item in items:
        if find_input_in(conn, workflow, item.source, item.type, item.external_id):
            continue
        st.INSERT_INPUT.execute(
            conn,
            {
                "input_id": item.input_id,
                "workflow": workflow,
                "source": item.source,
                "type": item.type,
                "external_id": item.external_id,
                "title": item.title,
                "created_by_run_id": run_id,
                "created_at": now,
            },
        )
        written.append(item.input_id)
    return written


_OPEN = tuple(sorted(s.value for s in OPEN_EVENT_STATUSES))
_SKIPPED = EventStatus.SKIPPED.value
_LINKED = wf_event_inputs.join(wf_events, wf_events.c.event_id == wf_event_inputs.c.event_id)


def _event_code() -> ColumnElement[Any]:
    """Per input row: 0 when it has an open event, else 1 when one was not skipped, else 2
    (every event skipped); NULL when it caused none. A correlated subquery, evaluated row by row
    as a newest-first page is read."""
    status = wf_events.c.status
    code = case((status.in_(_OPEN), 0), (status != _SKIPPED, 1), else_=2)
    return (
        select(func.min(code))
        .select_from(_LINKED)
        .where(wf_event_inputs.c.input_id == wf_inputs.c.input_id)
        .scalar_subquery()
    )


def status_condition(status: InputStatus) -> ColumnElement[bool]:
    """The SQL condition on a ``wf_inputs`` row equal to ``input_status`` being ``status``:
    pending while not skipped by a person and with no event yet or an open one; skipped by a
    person or when every event was skipped; else done.

    Written with ``<``, ``>`` and ``!=`` on purpose: PostgreSQL guesses a third of the rows (all
    but 0.5% for ``!=``) for each, where it would guess 0.5% for ``= 1`` or ``IS NULL`` on a
    subquery, cost the newest-first page as a scan of the whole table and compile it with JIT
    (hundreds of milliseconds)."""
    code = _event_code()
    if status is InputStatus.PENDING:
        return and_(wf_inputs.c.skipped_at.is_(None), func.coalesce(code, 0) < 1)
    if status is InputStatus.SKIPPED:
        return or_(wf_inputs.c.skipped_at.is_not(None), code > 1)
    return and_(wf_inputs.c.skipped_at.is_(None), func.coalesce(code, 0) > 0, code != 2)


def _tallies(conn: Connection, input_ids: list[str]) -> dict[str, tuple[int, int, int]]:
    """input_id → (events, open events, events not skipped), for inputs with events."""
    out: dict[str, tuple[int, int, int]] = {}
    status = wf_events.c.status
    for start in range(0, len(input_ids), 500):
        chunk = input_ids[start : start + 500]
        rows = conn.execute(
            select(
                wf_event_inputs.c.input_id,
                func.count(),
                func.sum(case((status.in_(_OPEN), 1), else_=0)),
                func.sum(case((status != _SKIPPED, 1), else_=0)),
            )
            .select_from(_LINKED)
            .where(wf_event_inputs.c.input_id.in_(chunk))
            .group_by(wf_event_inputs.c.input_id)
        )
        for input_id, n, n_open, n_unskipped in rows:
            out[input_id] = (int(n), int(n_open or 0), int(n_unskipped or 0))
    return out


def _status(skipped: bool, events: int, open_: int, unskipped: int) -> InputStatus:
    """``input_status`` from the counts (same rules, no list of statuses needed)."""
    if skipped:
        return InputStatus.SKIPPED
    if not events or open_:
        return InputStatus.PENDING
    return InputStatus.SKIPPED if not unskipped else InputStatus.DONE


def inputs_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[Input]:
    """Inputs with their computed status."""
    tallies = _tallies(conn, [r.input_id for r in rows])
    out = []
    for r in rows:
        n, n_open, n_unskipped = tallies.get(r.input_id, (0, 0, 0))
        out.append(input_from_row(r, _status(r.skipped_at is not None, n, n_open, n_unskipped), n))
    return out


def _event_count() -> ColumnElement[Any]:
    """Per input row: how many events it caused (a correlated count)."""
    return (
        select(func.count())
        .select_from(wf_event_inputs)
        .where(wf_event_inputs.c.input_id == wf_inputs.c.input_id)
        .scalar_subquery()
    )


#: A page of inputs read with each one's status code and event count (no second read).
_COUNTED = (wf_inputs, _event_code().label("status_code"), _event_count().label("event_count"))


def _counted_inputs(rows: Sequence[Row[Any]]) -> list[Input]:
    """Inputs from rows read with ``_COUNTED``."""
    out = []
    for r in rows:
        code = r.status_code
        if r.skipped_at is not None or code == 2:
            status = InputStatus.SKIPPED
        else:
            status = InputStatus.DONE if code == 1 else InputStatus.PENDING
        out.append(input_from_row(r, status, int(r.event_count)))
    return out


def _input_query(
    columns: Sequence[Any],
    workflow: str | None,
    statuses: tuple[str, ...],
    search: str | None,
    created_before: datetime | None,
    before: str | None,
) -> Select[Any]:
    """Inputs newest first, filtered by workflow, computed status, text, age and page cursor."""
    wanted = sorted({InputStatus(s) for s in statuses})
    q = select(*columns)
    if workflow:
        q = q.where(wf_inputs.c.workflow == workflow)
    if search:
        like = f"%{search}%"
        q = q.where(wf_inputs.c.title.like(like) | wf_inputs.c.external_id.like(like))
    if created_before is not None:
        q = q.where(wf_inputs.c.created_at < created_before)
    if before:
        q = q.where(wf_inputs.c.input_id < before)
    if wanted and len(wanted) < len(InputStatus):
        q = q.where(or_(*(status_condition(s) for s in wanted)))
    return q.order_by(wf_inputs.c.input_id.desc())


class InputOps:
    """Reading inputs."""

    db: Database

    def list_inputs(
        self,
        *,
        workflow: str | None = None,
        statuses: tuple[str, ...] = (),
        search: str | None = None,
        created_before: datetime | None = None,
        limit: int = 100,
        before: str | None = None,
    ) -> list[Input]:
        """Inputs, newest first, filtered by workflow, computed status, text and age."""
        q = _input_query(_COUNTED, workflow, statuses, search, created_before, before)
        rows = self.db.run(
            lambda c: c.execute(q.limit(limit)).all(), write=False, single_statement=True
        )
        return _counted_inputs(rows)

    def summarize_inputs(
        self,
        *,
        first: int,
        workflow: str | None = None,
        statuses: tuple[str, ...] = (),
        created_before: datetime | None = None,
        limit: int = 100,
    ) -> tuple[list[Input], int]:
        """What ``list_inputs`` with the same filters and limit returns, summed up in one read:
        the ``first`` of those inputs by creation time (oldest first; equal times in the list's
        order), and how many there are. Only those ``first`` are read in full."""
        q = _input_query(
            (wf_inputs.c.input_id, wf_inputs.c.created_at),
            workflow,
            statuses,
            None,
            created_before,
            None,
        ).limit(limit)

        def tx(conn: Connection) -> tuple[list[Input], int]:
            listed = conn.execute(q).all()
            chosen = [r.input_id for r in sorted(listed, key=lambda r: r.created_at)[:first]]
            rows = conn.execute(select(wf_inputs).where(wf_inputs.c.input_id.in_(chosen))).all()
            found = {i.input_id: i for i in inputs_from_rows(conn, rows)}
            return [found[i] for i in chosen], len(listed)

        return self.db.run(tx, write=False)

    def find_input(self, workflow: str, source: str, type_: str, external_id: str) -> str | None:
        """The id of a registered input, if any."""
        return self.db.run(
            lambda c: find_input_in(c, workflow, source, type_, external_id),
            write=False,
            single_statement=True,
        )

    def get_input(self, input_id: str) -> Input:
        """One input, or NotFound."""

        def tx(conn: Connection) -> Input:
            row = conn.execute(select(wf_inputs).where(wf_inputs.c.input_id == input_id)).first()
            if row is None:
                raise NotFound(
                    f"no input {input_id}",
                    hint="list inputs with `runwright input list`",
                    input_id=input_id,
                )
            return inputs_from_rows(conn, [row])[0]

        return self.db.run(tx, write=False)

    def input_event_ids(self, input_id: str) -> list[str]:
        """The events an input caused."""
        q = select(wf_event_inputs.c.event_id).where(wf_event_inputs.c.input_id == input_id)
        return self.db.run(lambda c: list(c.execute(q).scalars()), write=False)

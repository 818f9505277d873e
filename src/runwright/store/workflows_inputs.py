"""Inputs: registered by (workflow, source, type, id), with a status computed from their events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from runwright.domain.workflows.models import Input
from runwright.domain.workflows.topics import InputStatus, input_status
from runwright.errors import NotFound
from runwright.store.database import Database
from runwright.store.tables_workflows import wf_event_inputs, wf_events, wf_inputs
from runwright.store.workflows_rows import input_from_row

_BATCH = 200
_FIND_INPUT = select(wf_inputs.c.input_id).where(
    wf_inputs.c.workflow == bindparam("workflow"),
    wf_inputs.c.source == bindparam("source"),
    wf_inputs.c.type == bindparam("type"),
    wf_inputs.c.external_id == bindparam("external_id"),
)
_INSERT_INPUT = wf_inputs.insert()


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
    value = conn.execute(
        _FIND_INPUT,
        {"workflow": workflow, "source": source, "type": type_, "external_id": external_id},
    ).scalar()
    return None if value is None else str(value)


def insert_inputs_in(
    conn: Connection, workflow: str, items: list[NewInput], run_id: str | None, now: datetime
) -> list[str]:
    """Insert new inputs (one registered meanwhile under the same key keeps its id)."""
    written = []
    for item in items:
        if find_input_in(conn, workflow, item.source, item.type, item.external_id):
            continue
        conn.execute(
            _INSERT_INPUT,
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


def _statuses(conn: Connection, input_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in input_ids}
    for start in range(0, len(input_ids), 500):
        chunk = input_ids[start : start + 500]
        rows = conn.execute(
            select(wf_event_inputs.c.input_id, wf_events.c.status)
            .select_from(
                wf_event_inputs.join(wf_events, wf_events.c.event_id == wf_event_inputs.c.event_id)
            )
            .where(wf_event_inputs.c.input_id.in_(chunk))
        )
        for r in rows:
            out[r.input_id].append(r.status)
    return out


def inputs_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[Input]:
    """Inputs with their computed status."""
    statuses = _statuses(conn, [r.input_id for r in rows])
    return [
        input_from_row(
            r,
            input_status(statuses[r.input_id], skipped=r.skipped_at is not None),
            len(statuses[r.input_id]),
        )
        for r in rows
    ]


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
        wanted = {InputStatus(s) for s in statuses}

        def tx(conn: Connection) -> list[Input]:
            found: list[Input] = []
            cursor = before
            while len(found) < limit:
                q = select(wf_inputs)
                if workflow:
                    q = q.where(wf_inputs.c.workflow == workflow)
                if search:
                    like = f"%{search}%"
                    q = q.where(wf_inputs.c.title.like(like) | wf_inputs.c.external_id.like(like))
                if created_before is not None:
                    q = q.where(wf_inputs.c.created_at < created_before)
                if cursor:
                    q = q.where(wf_inputs.c.input_id < cursor)
                rows = conn.execute(q.order_by(wf_inputs.c.input_id.desc()).limit(_BATCH)).all()
                if not rows:
                    break
                for item in inputs_from_rows(conn, rows):
                    if not wanted or item.status in wanted:
                        found.append(item)
                cursor = rows[-1].input_id
                if len(rows) < _BATCH:
                    break
            return found[:limit]

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

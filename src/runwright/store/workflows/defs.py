"""Deployed workflows: deploy, read, pause/resume, run-now, and their handlers' state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, exists, select

import runwright.store.workflows.statements as st
from runwright.domain.events import EventKind
from runwright.domain.workflows.models import HandlerState, WorkflowRecord, WorkflowSpec
from runwright.domain.workflows.mutations import UNRESOLVED
from runwright.domain.workflows.phases import HandlerType
from runwright.domain.workflows.rules import WorkflowStatus, is_runnable
from runwright.errors import Conflict, NotFound
from runwright.store.core.chain import NewEvent
from runwright.store.database import Database
from runwright.store.schema.workflows import wf_handler_state, wf_mutations, wf_workflows
from runwright.store.types import dumps
from runwright.store.workflows.common import append_to, lock_workflow
from runwright.store.workflows.rows import parse_spec, state_from_row, workflow_from_row

_UNRESOLVED = [s.value for s in UNRESOLVED]


def _unresolved(conn: Connection, name: str) -> bool:
    return bool(
        conn.execute(
            select(
                exists().where(
                    wf_mutations.c.workflow == name, wf_mutations.c.status.in_(_UNRESOLVED)
                )
            )
        ).scalar()
    )


def read_workflow(conn: Connection, name: str, *, light: bool = False) -> WorkflowRecord:
    """One workflow, with its label computed (``light``: without the ledger check)."""
    row = st.READ_WORKFLOW.execute(conn, {"name": name}).first()
    if row is None:
        raise NotFound(
            f"no workflow named {name!r}",
            hint="list them with `runwright workflow list`",
            workflow=name,
        )
    return workflow_from_row(row, unresolved_mutation=not light and _unresolved(conn, name))


class WorkflowDefs:
    """Workflow records and handler state."""

    db: Database

    def deploy_workflow(
        self,
        spec: WorkflowSpec,
        *,
        ref: str,
        config_hash: str,
        code_hash: str,
        project_id: str,
        now: datetime,
    ) -> tuple[WorkflowRecord, bool]:
        """Record (or update) a workflow; return it and whether its version changed.

        Every producer becomes due now and every consumer dirty (each runs once after a
        deploy); a deploy also ends maintenance (it is the fix).
        """

        def tx(conn: Connection) -> bool:
            row = conn.execute(
                select(wf_workflows).where(wf_workflows.c.name == spec.name).with_for_update()
            ).first()
            values = {
                "ref": ref,
                "spec": dumps(spec.model_dump(mode="json"), what="workflow spec"),
                "config_hash": config_hash,
                "code_hash": code_hash,
                "project_id": project_id,
                "maintenance": False,
                "repair_run_id": None,
                "updated_at": now,
            }
            changed = row is None or (row.config_hash, row.code_hash) != (config_hash, code_hash)
            if row is None:
                conn.execute(
                    wf_workflows.insert().values(
                        name=spec.name,
                        status=WorkflowStatus.ACTIVE.value,
                        error="",
                        error_kind="",
                        maintenance_fix_count=0,
                        transient_failures=0,
                        version=1,
                        deployed_at=now,
                        **values,
                    )
                )
            else:
                if changed:
                    values.update(version=row.version + 1, deployed_at=now)
                conn.execute(
                    wf_workflows.update().where(wf_workflows.c.name == spec.name).values(**values)
                )
            _sync_handlers(conn, spec, now)
            return changed

        changed = self.db.run(tx)
        return self.db.run(lambda c: read_workflow(c, spec.name), write=False), changed

    def get_workflow(self, name: str) -> WorkflowRecord:
        """One workflow."""
        return self.db.run(lambda conn: read_workflow(conn, name), write=False)

    def list_workflows(self) -> list[WorkflowRecord]:
        """Every workflow, by name."""

        def tx(conn: Connection) -> list[WorkflowRecord]:
            rows = conn.execute(select(wf_workflows).order_by(wf_workflows.c.name)).all()
            busy = set(
                conn.execute(
                    select(wf_mutations.c.workflow)
                    .where(wf_mutations.c.status.in_(_UNRESOLVED))
                    .distinct()
                ).scalars()
            )
            return [workflow_from_row(r, unresolved_mutation=r.name in busy) for r in rows]

        return self.db.run(tx, write=False)

    def set_workflow_status(
        self, name: str, status: WorkflowStatus, now: datetime, *, by: str
    ) -> WorkflowRecord:
        """Pause (no new runs) or resume (active; clears the error and maintenance).

        An error that only a decision on a mutation can clear is kept: resolve it first.
        """

        def tx(conn: Connection) -> None:
            row = lock_workflow(conn, name)
            values: dict[str, object] = {"status": status.value, "updated_at": now}
            if status is WorkflowStatus.ACTIVE:
                if row.error_kind == "reconciliation":
                    raise Conflict(
                        f"workflow {name!r} waits on a mutation whose outcome is unknown",
                        hint="settle it with `runwright mutation resolve` (see `runwright inbox`)",
                        workflow=name,
                    )
                values.update(
                    error="",
                    error_kind="",
                    error_run_id=None,
                    maintenance=False,
                    transient_failures=0,
                    retry_at=None,
                )
            conn.execute(wf_workflows.update().where(wf_workflows.c.name == name).values(**values))
            run_id = row.active_run_id or row.error_run_id or row.pending_retry_run_id
            if run_id:
                append_to(
                    conn,
                    run_id,
                    [NewEvent(EventKind.HUMAN_ACTION, {"action": f"workflow:{status}", "by": by})],
                    now,
                )

        self.db.run(tx)
        return self.get_workflow(name)

    def run_now(self, name: str, now: datetime) -> WorkflowRecord:
        """Make every producer due now; refused while a run is active or the workflow cannot run."""

        def tx(conn: Connection) -> None:
            row = lock_workflow(conn, name)
            if not is_runnable(row.status, row.error, bool(row.maintenance)):
                why = (
                    f"it is {row.status}"
                    if row.status != WorkflowStatus.ACTIVE
                    else "it is in maintenance"
                    if row.maintenance
                    else f"it is blocked: {row.error}"
                )
                raise Conflict(
                    f"workflow {name!r} cannot run now: {why}",
                    hint="resume it first (`runwright workflow resume`)",
                    workflow=name,
                )
            if row.active_run_id:
                raise Conflict(
                    f"workflow {name!r} has a run in progress ({row.active_run_id})",
                    hint="wait for it to finish; triggers coalesce and run afterwards",
                    workflow=name,
                )
            conn.execute(
                wf_handler_state.update()
                .where(
                    wf_handler_state.c.workflow == name,
                    wf_handler_state.c.handler_type == HandlerType.PRODUCER.value,
                )
                .values(next_run_at=now, updated_at=now)
            )

        self.db.run(tx)
        return self.get_workflow(name)

    def handler_states(self, name: str) -> list[HandlerState]:
        """Each handler's saved state and schedule."""
        q = (
            select(wf_handler_state)
            .where(wf_handler_state.c.workflow == name)
            .order_by(wf_handler_state.c.handler)
        )
        return self.db.run(lambda c: [state_from_row(r) for r in c.execute(q)], write=False)


def _sync_handlers(conn: Connection, spec: WorkflowSpec, now: datetime) -> None:
    """One state row per handler; producers due now, consumers dirty; removed ones dropped."""
    names = [h.name for h in spec.handlers]
    conn.execute(
        delete(wf_handler_state).where(
            wf_handler_state.c.workflow == spec.name, wf_handler_state.c.handler.not_in(names)
        )
    )
    existing = {
        r.handler: r
        for r in conn.execute(
            select(wf_handler_state.c.handler, wf_handler_state.c.handler_type).where(
                wf_handler_state.c.workflow == spec.name
            )
        )
    }
    for h in spec.handlers:
        producer = h.type is HandlerType.PRODUCER
        values = {
            "handler_type": h.type.value,
            "next_run_at": now if producer else None,
            "dirty": not producer,
            "updated_at": now,
        }
        if h.name in existing:
            if existing[h.name].handler_type != h.type.value:
                values["state"] = None
            conn.execute(
                wf_handler_state.update()
                .where(
                    wf_handler_state.c.workflow == spec.name,
                    wf_handler_state.c.handler == h.name,
                )
                .values(**values)
            )
        else:
            conn.execute(
                wf_handler_state.insert().values(
                    workflow=spec.name, handler=h.name, state=None, **values
                )
            )


def spec_of(row: object) -> WorkflowSpec:
    """The spec stored on a workflow row."""
    return parse_spec(row.spec)  # type: ignore[attr-defined]

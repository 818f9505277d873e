"""Plan pages: the plan runs list, a plan run's page (stage flow, gates, phases and their rounds,
corrections, escalations with the answer form, the completion contract) and its validation
report. Answers post to the inbox's action route (section ``plan_escalations``), so they pass
the same session, CSRF and origin checks and are recorded with who gave them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runwright.api.plan_inbox import SECTION
from runwright.api.plans import PlanView
from runwright.domain.plan_records import Escalation, OptionEffect, PlanRunRecord
from runwright.domain.plans import Gate
from runwright.domain.runs import Run, RunKind
from runwright.domain.states import TERMINAL_RUN_STATES
from runwright.errors import NotFound
from runwright.web import plan_flow, plan_spend
from runwright.web.pages import Pages

PAGE_SIZE = 50
GATE_ORDER = {g.value: i for i, g in enumerate(Gate)}
EFFECTS = {
    OptionEffect.RETRY: "the gate is checked again after one more correction round (or your fix)",
    OptionEffect.ACCEPT: "the open decision or exception is accepted and the plan goes on",
    OptionEffect.BLOCK: "the plan stops and ends blocked",
    OptionEffect.RAISE_BUDGET: "the budget is raised to the limits you give and the plan goes on "
    "where it stopped",
}


@dataclass(frozen=True)
class PlanRow:
    """One line of the plans list."""

    record: PlanRunRecord
    run: Run | None
    status: str
    current: str
    gates: list[plan_flow.GateNode]
    escalation: Escalation | None


def plan_link(client: Any, run: Run) -> tuple[str, str] | None:
    """(URL, words) of the plan page a plan run or a phase run belongs to, or None."""
    if run.kind is RunKind.PLAN:
        try:
            record = client.plans.store.get(run.run_id)
        except NotFound:
            return None
        return f"/plans/{run.run_id}", f"plan {record.plan_id}: its stage flow, gates and contract"
    if run.kind is RunKind.PLAN_PHASE and run.parent_run_id:
        words = "its plan"
        try:
            record = client.plans.store.get(run.parent_run_id)
        except NotFound:
            return None
        for d in client.plans.store.phases(run.parent_run_id):
            if d.child_run_id == run.run_id:
                which = "first try" if d.round == 0 else f"correction {d.round}"
                words = f"phase {d.phase_id} ({which}) of plan {record.plan_id}"
                break
        else:
            words = f"the validation of plan {record.plan_id}"
        return f"/plans/{run.parent_run_id}", words
    return None


class PlanViews:
    """The plans list, a plan run's page, its contract and its validation report."""

    def __init__(self, pages: Pages):
        self.p = pages

    def plans(self, request: Request) -> Response:
        """Plan runs of this project, newest first, paged by run id."""
        client = self.p.client
        before = request.query_params.get("before") or None
        records = client.plans.list(before=before, limit=PAGE_SIZE)
        runs = {r.run_id: r for r in client.store.get_runs([r.run_id for r in records])}
        waiting = {e.run_id: e for e in client.plans.escalations()}
        gates_of = client.plans.store.gates_of([r.run_id for r in records])
        rows = []
        for record in records:
            run = runs.get(record.run_id)
            gates = gates_of[record.run_id]
            esc = waiting.get(record.run_id)
            live = run is not None and run.state not in TERMINAL_RUN_STATES and esc is None
            rows.append(
                PlanRow(
                    record=record,
                    run=run,
                    status=plan_flow.display_status(record, run) if run else record.status.value,
                    current=plan_flow.current_stage(record, run, gates, esc) if run else "—",
                    gates=[plan_flow.gate_node(g, gates, esc, live) for g in Gate],
                    escalation=esc,
                )
            )
        more = records[-1].run_id if len(records) == PAGE_SIZE else None
        return self.p.render(
            request, "plans.html", rows=rows, more=more, query=request.query_params
        )

    def _view(self, request: Request) -> PlanView | Response:
        try:
            return self.p.client.plans.get(request.path_params["run_id"])
        except NotFound as exc:
            return self.p.error(request, exc, 404)

    def plan(self, request: Request) -> Response:
        """Everything a plan run did, drawn as its stage flow."""
        view = self._view(request)
        if isinstance(view, Response):
            return view
        client = self.p.client
        esc = view.open_escalation()
        validation_runs = client.plans.validation_runs(view.run_id)
        flow = plan_flow.build_flow(
            record=view.record,
            run=view.run,
            plan=view.plan,
            phases=view.phases,
            gates=view.gates,
            escalation=esc,
            validation_runs=validation_runs,
        )
        logs = {
            link.sha256: f"/runs/{rid}/evidence/{link.evidence_id}"
            for rid in [view.run_id, *(r.run_id for r in validation_runs)]
            for link in client.evidence(rid)
        }
        report = client.plans.validation_report(view.run_id)
        traces = {t.requirement_id: t for t in report.requirements} if report else {}
        return self.p.render(
            request,
            "plan.html",
            v=view,
            flow=flow,
            esc=esc,
            plan_status=plan_flow.display_status(view.record, view.run),
            link_of=lambda r: plan_flow.ref_link(r, logs),
            traces=traces,
            has_report=report is not None,
            contract=plan_flow.contract_rows(view.record.completion or {}),
            value_kind=plan_flow.value_kind,
            effects=EFFECTS,
            section=SECTION,
            gate_results=sorted(view.gates, key=lambda g: (GATE_ORDER.get(g.gate, 9), g.round)),
            terminal=view.run.state in TERMINAL_RUN_STATES,
            spend_scopes=plan_spend.scopes(view.spend),
            spend_fmt=plan_spend,
        )

    def contract(self, request: Request) -> Response:
        """The completion contract as the plan run wrote it (JSON)."""
        try:
            body = self.p.client.plans.completion(request.path_params["run_id"])
        except NotFound as exc:
            return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=404)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def validation(self, request: Request) -> Response:
        """The validation report: per requirement, per phase, and its deviations."""
        view = self._view(request)
        if isinstance(view, Response):
            return view
        report = self.p.client.plans.validation_report(view.run_id)
        return self.p.render(
            request,
            "plan_validation.html",
            v=view,
            report=report,
            plan_status=plan_flow.display_status(view.record, view.run),
            link_of=lambda r: plan_flow.ref_link(r, {}),
            terminal=view.run.state in TERMINAL_RUN_STATES,
        )

    def validation_json(self, request: Request) -> Response:
        """The validation report as JSON."""
        run_id = request.path_params["run_id"]
        try:
            report = self.p.client.plans.validation_report(run_id)
        except NotFound as exc:
            return JSONResponse({"error": exc.message}, status_code=404)
        if report is None:
            return JSONResponse(
                {"error": f"plan run {run_id} has no validation report yet"}, status_code=404
            )
        return JSONResponse(report.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

    def routes(self) -> list[Route]:
        """The routes of these pages."""
        return [
            Route("/plans", self.plans),
            Route("/plans/{run_id}", self.plan),
            Route("/plans/{run_id}/contract.json", self.contract),
            Route("/plans/{run_id}/validation", self.validation),
            Route("/plans/{run_id}/validation.json", self.validation_json),
        ]

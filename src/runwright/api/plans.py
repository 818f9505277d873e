"""The client's plans: validate, run, status, decisions, the completion contract.

``client.plans`` is what the CLI and the dashboard use::

    plan = client.plans.validate("plans/greet.yaml")           # PlanSpec, or PlanInvalid
    view = client.plans.run("plans/greet.yaml")                 # runs here until it ends or waits
    client.plans.decide(view.run_id, option="A", note="…")      # answer its escalation
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from runwright.api.outputs import TAIL_LINES, FailingOutput, failing_outputs
from runwright.domain.budgets import Budget, PlanSpend
from runwright.domain.plan_completion import ValidationReport
from runwright.domain.plan_records import (
    Escalation,
    EscalationAnswer,
    EscalationStatus,
    GateResult,
    PhaseDelegation,
    PlanRunRecord,
)
from runwright.domain.plans import Handoff, PlanSpec
from runwright.domain.runs import Origin, Run, RunKind, TriggerType
from runwright.domain.states import TERMINAL_RUN_STATES, RunState, StateReason
from runwright.errors import Conflict, NotFound, RunwrightError, ValidationError
from runwright.plans.contract import load_plan_text, plan_digest, read_plan_text
from runwright.plans.spec import PLAN_JOB, PlanRunSpec, Project
from runwright.store.core import NewRun, RunFilter
from runwright.store.plans import PlanStore

if TYPE_CHECKING:
    from runwright.api.client import Client


class PlanView(BaseModel):
    """A plan run with everything it did: phases, gates, escalations and its run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record: PlanRunRecord
    run: Run
    plan: PlanSpec
    phases: list[PhaseDelegation] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    spend: PlanSpend = Field(default_factory=PlanSpend)

    @property
    def run_id(self) -> str:
        """The plan run's id."""
        return self.record.run_id

    def open_escalation(self) -> Escalation | None:
        """The escalation the run waits on, if any."""
        return next((e for e in self.escalations if e.status is EscalationStatus.OPEN), None)

    def waiting_for_decision(self) -> bool:
        """True while the run is parked on an escalation."""
        return self.run.state is RunState.WAITING and (self.run.state_reason or "").startswith(
            StateReason.ESCALATED
        )


class PlansClient:
    """Operations on plans, through the shared client."""

    def __init__(self, client: Client):
        self.client = client

    @cached_property
    def store(self) -> PlanStore:
        """The plan tables."""
        return PlanStore(self.client.store.db)

    # ---- plan files ---------------------------------------------------------------------
    def _path(self, path: Path | str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else Path.cwd() / p

    def validate(self, path: Path | str) -> PlanSpec:
        """The plan in ``path``, or PlanInvalid listing every problem."""
        p = self._path(path)
        return load_plan_text(read_plan_text(p), source=str(path))

    def _shown(self, path: Path) -> str:
        root = self.client.settings.project_root.resolve()
        try:
            return str(path.resolve().relative_to(root))
        except ValueError:
            return str(path.resolve())

    # ---- running --------------------------------------------------------------------------
    def start(
        self,
        path: Path | str,
        *,
        acknowledge: Sequence[str] = (),
        requested_by: str | None = None,
    ) -> Run:
        """Start a plan run (a worker executes it); returns the pending run."""
        from runwright.api.client import whoami
        from runwright.plans import plan_job  # noqa: F401 - registers the jobs

        p = self._path(path)
        text = read_plan_text(p)
        plan = load_plan_text(text, source=str(path))
        unknown = [a for a in acknowledge if a not in {ph.phase_id for ph in plan.phases}]
        if unknown:
            raise ValidationError(
                f"--acknowledge names no phase of {plan.plan_id}: {', '.join(unknown)}",
                hint="name test_not_applicable phases by their phase_id",
                field="acknowledge",
            )
        settings = self.client.settings
        root = settings.project_root.resolve()
        handoff = plan.handoff or Handoff(
            issuer="tech-lead",
            item_workspace_path=str(root),
            package_directory_path=str(p.parent.resolve()),
            execution_worktree_path=str(root),
        )
        by = requested_by or whoami()
        spec = PlanRunSpec(
            project=Project(
                project_id=settings.project_id, project_root=str(root), home=str(settings.home)
            ),
            plan=plan,
            plan_path=self._shown(p),
            plan_sha256=plan_digest(text),
            handoff=handoff,
            acknowledged=list(acknowledge),
            requested_by=by,
        )
        now = self.client.clock.now()
        run = self.client.store.create_run(
            NewRun(
                job_name=PLAN_JOB,
                job_module="runwright.plans.plan_job",
                kind=RunKind.PLAN,
                args=[spec.model_dump(mode="json")],
                project_id=settings.project_id,
                workstream_id=plan.plan_id,
                max_parallel=plan.max_parallel,
                origin=Origin(
                    trigger_type=TriggerType.MANUAL, trigger_ref=spec.plan_path, requested_by=by
                ),
            ),
            now,
        )
        self.store.open_plan_run(
            run_id=run.run_id,
            plan_id=plan.plan_id,
            project_id=settings.project_id,
            title=plan.title,
            plan_path=spec.plan_path,
            plan_sha256=spec.plan_sha256,
            spec=plan.model_dump(mode="json"),
            now=now,
        )
        return run

    def drive(
        self,
        run_id: str,
        *,
        timeout: float = 3600.0,
        on_progress: Callable[[PlanView], None] | None = None,
    ) -> PlanView:
        """Execute the plan run's work in this process until it ends or waits on a human."""
        deadline = time.monotonic() + timeout
        worker = self.client.worker(register=False)
        last = 0.0
        while True:
            did = worker.run_once(prefetch=False)
            view = self.get(run_id)
            now = time.monotonic()
            if on_progress is not None and (did or now - last > 1.0):
                on_progress(view)
                last = now
            if view.run.state in TERMINAL_RUN_STATES or (view.waiting_for_decision() and not did):
                return view
            if now > deadline:
                raise RunwrightError(
                    f"plan run {run_id} is still {view.run.state.value} after {timeout:.0f}s",
                    hint="run `runwright worker` to let it go on, or look at `runwright plan "
                    "status`",
                    run_id=run_id,
                )
            if not did:
                time.sleep(min(self.client.settings.poll_seconds, 0.2))

    def run(
        self,
        path: Path | str,
        *,
        acknowledge: Sequence[str] = (),
        timeout: float = 3600.0,
        on_progress: Callable[[PlanView], None] | None = None,
    ) -> PlanView:
        """Start a plan run and execute it here until it ends or waits on a decision."""
        run = self.start(path, acknowledge=acknowledge)
        return self.drive(run.run_id, timeout=timeout, on_progress=on_progress)

    # ---- reading ---------------------------------------------------------------------------
    def get(self, run_id: str) -> PlanView:
        """One plan run with its phases, gates and escalations."""
        from runwright.plans.spend import raises_from, spend_of

        record = self.store.get(run_id)
        plan = PlanSpec.model_validate(self.store.spec_of(run_id))
        escalations = self.store.escalations(run_id=run_id)
        return PlanView(
            record=record,
            run=self.client.get(run_id),
            plan=plan,
            phases=self.store.phases(run_id),
            gates=self.store.gates(run_id),
            escalations=escalations,
            spend=spend_of(self.client.store.db, run_id, plan, raises_from(escalations)),
        )

    def list(self, *, before: str | None = None, limit: int = 50) -> builtins.list[PlanRunRecord]:
        """Plan runs of this project, newest first."""
        return self.store.runs(
            project_id=self.client.settings.project_id, before=before, limit=limit
        )

    def latest(self) -> PlanRunRecord:
        """The newest plan run, or NotFound."""
        runs = self.list(limit=1)
        if not runs:
            raise NotFound("no plan has run yet", hint="start one with `runwright plan run PLAN`")
        return runs[0]

    def escalations(self, *, open_only: bool = True) -> builtins.list[Escalation]:
        """Escalations of this project (open ones by default), oldest first."""
        return self.store.escalations(
            status=EscalationStatus.OPEN if open_only else None,
            project_id=self.client.settings.project_id,
        )

    def completion(self, run_id: str) -> dict[str, Any]:
        """The completion contract a plan run wrote, or NotFound."""
        record = self.store.get(run_id)
        if record.completion is None:
            raise NotFound(
                f"plan run {run_id} has no completion contract yet",
                hint="it is written when the plan completes, blocks or escalates",
                run_id=run_id,
            )
        return dict(record.completion)

    # ---- decisions -------------------------------------------------------------------------
    def decide(
        self,
        target: str,
        *,
        option: str,
        note: str | None = None,
        by: str | None = None,
        budget: Budget | None = None,
    ) -> Escalation:
        """Answer an escalation (by its id, or the open one of a plan run) and resume the run.

        Option A of a budget escalation raises the budget: ``budget`` gives the new limits
        (the one that ran out above what was spent)."""
        from runwright.api.client import whoami

        if option not in {"A", "B"}:
            raise ValidationError(
                f"unknown option {option!r}", hint="answer A or B", field="option"
            )
        escalation_id = target
        try:
            self.store.get_escalation(target)
        except NotFound:
            open_ = [e for e in self.store.escalations(run_id=target) if e.answer is None]
            if not open_:
                raise NotFound(
                    f"{target} is neither an escalation nor a plan run waiting on one",
                    hint="`runwright inbox` lists the open escalations",
                    field="target",
                ) from None
            if len(open_) > 1:  # pragma: no cover - a run waits on one at a time
                raise Conflict(
                    f"plan run {target} has several open escalations; name one"
                ) from None
            escalation_id = open_[0].escalation_id
        check_raise(self.store.get_escalation(escalation_id), option, budget)
        answer = EscalationAnswer(
            option=option,
            note=note,
            by=by or whoami(),
            at=self.client.clock.now(),
            budget=budget if budget is not None and budget.limits() else None,
        )
        return self.store.answer_escalation(escalation_id, answer, self.client.clock.now())

    def failing_output(
        self, view: PlanView, *, lines: int = TAIL_LINES
    ) -> builtins.list[FailingOutput]:
        """The last ``lines`` lines of each command log behind a gate that fails now: what
        "tests fail" or "exited 1" refers to."""
        return failing_outputs(self.client, view, lines)

    # ---- for the dashboard -----------------------------------------------------------------
    def validation_runs(self, run_id: str) -> builtins.list[Run]:
        """The plan run's validate-plan runs (one per validation round), oldest first."""
        from runwright.plans.spec import VALIDATE_JOB

        children = self.client.store.list_runs(
            RunFilter(parent_run_id=run_id, job_name=VALIDATE_JOB, limit=100)
        )
        return sorted(children, key=lambda r: r.run_id)

    def validation_report(self, run_id: str) -> ValidationReport | None:
        """The report of the plan run's latest validate-plan run that produced one, or None
        (the validation stage has not run, or its run failed)."""
        for child in reversed(self.validation_runs(run_id)):
            result = child.result if child.state is RunState.SUCCEEDED else None
            if isinstance(result, dict) and isinstance(result.get("report"), dict):
                return ValidationReport.model_validate(result["report"])
        return None


def check_raise(escalation: Escalation, option: str, budget: Budget | None) -> None:
    """An answer's budget must raise what ran out, and only answer A of a budget escalation."""
    breach = escalation.budget
    given = budget.limits() if budget is not None else {}
    if breach is None or option != "A":
        if given:
            raise ValidationError(
                "--budget only answers option A of a budget escalation",
                hint="leave --budget out",
                field="budget",
            )
        return
    example = f"--budget {breach.limit}=NEW (spent {breach.spent:g} of {breach.limit_value:g})"
    if breach.limit not in given:
        raise ValidationError(
            f"option A raises {breach.whose()}'s budget: give {example}",
            hint="or answer B to stop",
            field="budget",
        )
    if given[breach.limit] <= breach.spent:
        raise ValidationError(
            f"--budget {breach.limit}={given[breach.limit]:g} is not above the {breach.spent:g} "
            "already spent; give more",
            field="budget",
        )

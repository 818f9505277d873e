"""The durable run of one phase delegation: route → tool in a worktree → patch through the
ledger → verify → the phase's checks → commit with its ``commit_intent``.

The tool runs as a child agent-tool run (its own memoized steps) that also **judges** its
patch by this phase's rules once it is applied: verification (tests parse, for a test phase;
the phase's tests pass, for an implementation phase), the acceptance checks and the
proof-artifact check in the patch's worktree. A patch rejected there fails the agent-tool run
with the reason. This run then commits what was accepted. A crash anywhere resumes at the
first unfinished step; a commit already made is found by its trailer and never made twice.
Every step of this run is safe to repeat (routing again only records another decision), so a
step cut off by a crash runs again instead of waiting for a person to reconcile it.

A phase that does not commit **fails** this run, with the reason; its outcome (the same dict a
committed phase returns) is recorded first in the ``outcome`` step, where the plan run reads
it (``recorded_outcome``) to go on to corrections or escalation.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from runwright.domain.execmodel.checks import CheckStatus
from runwright.domain.patches_ledger import PatchState
from runwright.domain.plan_records import split_output, with_output
from runwright.domain.plans import PhaseType, PlanPhase, PlanSpec
from runwright.domain.runs import Run, RunKind
from runwright.domain.states import RunState
from runwright.engine.clock import Clock
from runwright.engine.context import ChildFailed, JobContext
from runwright.engine.evidence import attach_evidence
from runwright.engine.registry import job
from runwright.errors import Conflict, NonRetryableError, RunwrightError
from runwright.execmodel.runtime import RunContext
from runwright.execmodel.stepping import execute_check
from runwright.patches import agent_job  # noqa: F401 - registers the agent-tool job
from runwright.patches.agent import AGENT_JOB
from runwright.patches.agent_job import JudgeCall
from runwright.patches.diffs import parse_diff
from runwright.patches.env import PatchEnv
from runwright.patches.ledger import PatchLedger
from runwright.patches.worktrees import patch_worktree_name
from runwright.plans import delegation, landing
from runwright.plans.commands import is_test_file, parse_argv, verify_argv
from runwright.plans.delegation import Delegation, task_units
from runwright.plans.spec import PHASE_JOB, PhaseRunSpec
from runwright.plans.workspace import Workspace
from runwright.store.core import SystemDatabase
from runwright.store.database import Database

LOG_TAIL = 30
#: The step whose result is a failed phase's outcome.
OUTCOME_STEP = "outcome"
#: The judge the agent-tool run calls on the applied patch.
JUDGE = f"{__name__}:judge_patch"

#: A test file's presence check, for tests no parse command covers.
EXISTS = (
    "import pathlib, sys; "
    "sys.exit(0 if all(pathlib.Path(p).is_file() for p in sys.argv[1:]) else 1)"
)


class PhaseFailed(NonRetryableError):
    """The phase did not commit; its outcome is recorded in the run's ``outcome`` step."""

    code = "phase_failed"

    def __init__(self, message: str, *, reason: str, **fields: Any):
        super().__init__(message, **fields)
        #: The run's state reason, in a few words ("patch quarantined", "route rejected").
        self.state_reason = reason


def _database(store: SystemDatabase) -> Database:
    return store.db


class PhaseWork:
    """The step functions of one phase delegation."""

    def __init__(self, db: Database, clock: Clock, spec: PhaseRunSpec, run_id: str):
        self.spec = spec
        self.plan: PlanSpec = spec.plan
        self.phase: PlanPhase = spec.plan.phase(spec.delegation.phase_id)
        self.db = db
        p = spec.project
        self.env: PatchEnv = delegation.project_env(p.project_id, p.project_root, p.home, clock)
        self.ledger = PatchLedger(self.db, self.env)
        self.workspace = Workspace(self.env, run_id)

    # ---- prepare and delegate ----------------------------------------------------------
    def prepare(self, d: dict[str, Any]) -> dict[str, Any]:
        """Route the delegation and render its prompt: the agent-tool run's argument."""
        agent, decision = delegation.prepare(
            self.db, self.env, self.plan, Delegation.model_validate(d)
        )
        if agent is None:
            return {"error": f"route rejected ({decision.rejection_code}): {decision.message}"}
        return {"spec": agent.model_dump(mode="json"), "tool": decision.selected}

    def failure(self, agent_run_id: str, error: str) -> dict[str, Any]:
        """Why the tool run failed, with the patch it left (if any) and its test output."""
        patches = self.ledger.find(run_id=agent_run_id, limit=1)
        error = error.removeprefix(f"child run {agent_run_id} ({AGENT_JOB}) ended failed: ")
        out: dict[str, Any] = {"agent_run_id": agent_run_id, "error": error, "why": "tool failed"}
        if patches:
            rec = patches[0]
            files = self._files(rec.patch_id)
            out.update(
                patch_id=rec.patch_id,
                state=rec.entry.state.value,
                why=f"patch {rec.entry.state.value.replace('_', ' ')}",
                files=files,
                test_files=[f for f in files if is_test_file(self.plan, f)],
            )
            if rec.entry.state_history:
                out["error"] = self._why(rec.patch_id)
        return out

    # ---- judge the patch in its worktree -----------------------------------------------
    def _files(self, patch_id: str) -> list[str]:
        diff = self.ledger.get(patch_id).artifact.diff_text
        return sorted({f.path for f in parse_diff(diff).files if not f.is_deleted})

    def verify(self, patch_id: str) -> dict[str, Any]:
        """Verify an applied patch: tests parse (test phase) or the phase's tests pass."""
        record = self.ledger.get(patch_id)
        files = self._files(patch_id)
        tests = [f for f in files if is_test_file(self.plan, f)]
        if record.entry.state is PatchState.APPLIED:
            if self.phase.phase_type is PhaseType.TEST:
                if not tests:
                    record = self.ledger.quarantine(
                        patch_id,
                        f"test phase {self.phase.phase_id} wrote no test file "
                        f"(test_paths: {', '.join(self.plan.test_paths)})",
                    )
                    return self._state(record.entry.state.value, files, tests, patch_id)
                argv = parse_argv(self.plan, tests) or [sys.executable, "-c", EXISTS, *tests]
            else:
                argv = verify_argv(self.plan, self.phase, self.spec.delegation.test_files)
            record = self.ledger.verify(
                patch_id, test_commands=[argv], timeout_seconds=self.phase.timeout_seconds
            )
        return self._state(record.entry.state.value, files, tests, patch_id)

    def _state(
        self, state: str, files: list[str], tests: list[str], patch_id: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"state": state, "files": files, "test_files": tests}
        if state not in {"verified", "committed"}:
            out["error"] = self._why(patch_id)
        return out

    def _why(self, patch_id: str) -> str:
        entry = self.ledger.get(patch_id).entry
        reason = entry.state_history[-1].reason if entry.state_history else None
        text = f"patch {patch_id} {entry.state.value}: {reason or 'no reason recorded'}"
        log = entry.validation.test_log_sha256
        if log and entry.validation.tests_passed is False:
            try:
                tail = self.env.blobs.read(log).decode("utf-8", "replace").strip().splitlines()
            except (OSError, RunwrightError):
                tail = []
            text = with_output(text, tail[-LOG_TAIL:])
        return text

    def checks(self, patch_id: str, run_id: str) -> dict[str, Any]:
        """The phase's acceptance checks and proof artifact, in the patch's worktree."""
        tree = self.env.worktrees.path(patch_worktree_name(patch_id))
        if self.ledger.get(patch_id).entry.state is not PatchState.VERIFIED or not tree.is_dir():
            return {"checks": {}, "failed": []}
        results: dict[str, str] = {}
        failed: list[str] = []
        p = self.spec.project
        context = RunContext(
            op_id=self.phase.phase_id,
            mode_id="plan",
            project_id=p.project_id,
            project_root=str(tree),
            home=p.home,
            workdir=str(tree),
            evidence_dir=str(Path(p.home) / "evidence"),
        )
        values = context.values({}, run_id)
        for check in self.phase.acceptance_checks:
            raw = check.model_dump(mode="json", by_alias=True, exclude_none=True)
            result = execute_check(raw, values, context.model_dump(), run_id, {}, None)
            results[check.id] = result["status"]
            if result["status"] == CheckStatus.FAIL.value:
                failed.append(f"check {check.id} FAIL: {result.get('message', '')}".strip())
        if self.phase.proof_artifact:
            proof = tree / self.phase.proof_artifact
            ok = proof.is_file() and proof.resolve().is_relative_to(tree.resolve())
            results["proof_artifact"] = "PASS" if ok else "FAIL"
            if ok:
                attach_evidence(proof, name=self.phase.proof_artifact, label="proof artifact")
            else:
                failed.append(f"proof artifact {self.phase.proof_artifact} is missing")
        if failed:
            self.ledger.quarantine(patch_id, "; ".join(failed))
        return {"checks": results, "failed": failed}

    def commit(self, patch_id: str, message: str) -> dict[str, Any]:
        """Commit a verified patch to the checkout (one commit at a time)."""
        record = self.ledger.get(patch_id)
        if record.entry.state is PatchState.VERIFIED:
            with self.workspace.commit_lock():
                try:
                    record = self.ledger.commit(patch_id, message=message)
                except Conflict as exc:  # no longer applies: a defect of this phase
                    self.ledger.rollback(patch_id, reason=f"not committed: {exc.message}")
                    return {"state": "conflict", "error": f"patch {patch_id}: {exc.message}"}
        if record.entry.state is not PatchState.COMMITTED:
            return {"state": record.entry.state.value, "error": self._why(patch_id)}
        return {"state": "committed", "commit": record.entry.apply.commit_hash}


def judge_patch(call: JudgeCall) -> dict[str, Any]:
    """The phase's judgement of its applied patch, inside the agent-tool run: verification,
    then the acceptance checks and the proof artifact. Returns the patch's state, its files and
    the check results (``error`` says why when it is not ``verified``)."""
    spec = PhaseRunSpec.model_validate(call.args["spec"])
    work = PhaseWork(call.db, call.clock, spec, call.run_id)
    verified = work.verify(call.patch_id)
    if "error" in verified:
        return verified
    checked = work.checks(call.patch_id, call.run_id)
    state = work.ledger.get(call.patch_id).entry.state.value
    out = {**verified, "state": state, "checks": checked["checks"]}
    if checked["failed"]:
        out["error"] = "; ".join(checked["failed"])
    return out


def commit_message(spec: PhaseRunSpec, task_id: str | None) -> str:
    """The phase's commit intent, marked with the task and the correction round."""
    d = spec.delegation
    phase = spec.plan.phase(d.phase_id)
    text = phase.commit_intent
    if task_id:
        text += f" [{task_id}]"
    if d.round:
        text += f" (correction {d.round})"
    return f"{text}\n\nRunwright-Plan: {spec.plan.plan_id} phase {phase.phase_id} round {d.round}"


def _summary(spec: PhaseRunSpec, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [t for t in tasks if t.get("status") != "committed"]
    return {
        "phase_id": spec.delegation.phase_id,
        "round": spec.delegation.round,
        "status": "failed" if failed or not tasks else "committed",
        "error": "; ".join(str(t.get("error")) for t in failed) or None,
        "tasks": tasks,
        "commits": [t["commit"] for t in tasks if t.get("commit")],
        "patch_ids": [t["patch_id"] for t in tasks if t.get("patch_id")],
        "agent_run_ids": [t["agent_run_id"] for t in tasks if t.get("agent_run_id")],
        "files": sorted({f for t in tasks for f in t.get("files", [])}),
        "test_files": sorted({f for t in tasks for f in t.get("test_files", [])}),
        "checks": {k: v for t in tasks for k, v in t.get("checks", {}).items()},
    }


def _recorded(outcome: dict[str, Any]) -> dict[str, Any]:
    return outcome


def recorded_outcome(store: SystemDatabase, run: Run) -> dict[str, Any] | None:
    """A phase run's outcome: its result if it committed, else the outcome it recorded before
    failing (None for a run that recorded none, e.g. one that crashed for good or was
    canceled)."""
    if run.state is RunState.SUCCEEDED:
        return dict(run.result) if isinstance(run.result, dict) else None
    memo = store.load_progress(run.run_id)[0].get(OUTCOME_STEP)
    if memo is None or memo.status != "completed" or not isinstance(memo.result, dict):
        return None
    return dict(memo.result)


def _agent_result(ctx: JobContext, agent_run: str) -> dict[str, Any]:
    result = ctx.wait(agent_run)[0]
    if not isinstance(result, dict) or "patch_id" not in result:  # pragma: no cover - contract
        raise NonRetryableError(f"agent-tool run {agent_run} returned no patch id")
    return result


@job(name=PHASE_JOB, kind=RunKind.PLAN_PHASE)
def plan_phase(ctx: JobContext, spec_data: dict[str, Any]) -> dict[str, Any]:
    """Delegate one phase (each of its tasks in turn) and commit what passes; fail (after
    recording the outcome) when it does not commit."""
    spec = PhaseRunSpec.model_validate(spec_data)
    work = PhaseWork(_database(ctx.store), ctx.clock, spec, ctx.run_id)
    tasks: list[dict[str, Any]] = []
    carried = {str(t.get("task_id")): t for t in spec.delegation.carried}
    for task in task_units(work.phase):
        tid = task.task_id if task else spec.delegation.phase_id
        if tid in carried:  # committed before a budget stop interrupted this delegation
            tasks.append(dict(carried[tid]))
            continue
        d = spec.delegation.model_copy(update={"task_id": task.task_id if task else None})
        record: dict[str, Any] = {"task_id": tid, "status": "failed"}
        tasks.append(record)
        prepared = ctx.step(
            f"prepare:{tid}", work.prepare, d.model_dump(mode="json"), idempotent=True
        )
        if "error" in prepared:
            record.update(error=prepared["error"], why="route rejected")
            break
        judge = {"function": JUDGE, "args": {"spec": spec.model_dump(mode="json")}}
        agent_run = ctx.start_child(f"agent:{tid}", AGENT_JOB, prepared["spec"], judge=judge)
        record.update(agent_run_id=agent_run, tool=prepared["tool"])
        try:
            result = _agent_result(ctx, agent_run)
        except ChildFailed as exc:
            record.update(
                ctx.step(f"failure:{tid}", work.failure, agent_run, exc.message, idempotent=True)
            )
            break
        patch_id = result["patch_id"]
        judged = result.get("judged") or {}
        record.update(
            patch_id=patch_id,
            files=judged.get("files", []),
            test_files=judged.get("test_files", []),
            checks=judged.get("checks", {}),
        )
        landing.wait_for_turn(ctx, spec.delegation)  # commits land in the plan's order
        committed = ctx.step(
            f"commit:{tid}",
            work.commit,
            patch_id,
            commit_message(spec, task.task_id if task else None),
            idempotent=True,
        )
        if "error" in committed:
            record.update(error=committed["error"], why="commit failed")
            break
        record.update(status="committed", commit=committed["commit"])
    outcome = _summary(spec, tasks)
    if outcome["status"] == "committed":
        return outcome
    ctx.step(OUTCOME_STEP, _recorded, outcome, idempotent=True)
    why = next((str(t["why"]) for t in tasks if t.get("why")), "not committed")
    error, _ = split_output(str(outcome["error"] or why))
    raise PhaseFailed(
        f"phase {spec.delegation.phase_id} did not commit: {error}",
        reason=why,
        phase_id=spec.delegation.phase_id,
    )

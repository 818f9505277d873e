"""The steps of an agent-tool run, each safe to run again after a crash.

A tool attempt runs in a fresh worktree (so re-running it is harmless), its output goes to
evidence, its edits become a patch whose id was allocated by an earlier memoized step (so a
re-run records the same patch once), and the ledger steps only advance a patch that has not
advanced yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runwright.domain.events import EventKind
from runwright.domain.patches_ledger import PatchState
from runwright.engine.clock import Clock
from runwright.engine.evidence import attach_evidence
from runwright.errors import RunwrightError
from runwright.patches.agent import AgentRunSpec, BudgetExceeded
from runwright.patches.agent_budget import CallBudget, usage_fields
from runwright.patches.commands import CommandResult, expand, run_command
from runwright.patches.context_files import place_context_files, remove_context_files
from runwright.patches.env import PatchEnv
from runwright.patches.git import git
from runwright.patches.ledger import PatchLedger
from runwright.patches.routing import Router
from runwright.patches.worktrees import agent_worktree_name
from runwright.store.core import NewEvent
from runwright.store.database import Database
from runwright.store.patches import RoutingStore

DEFAULT_TOOL_TIMEOUT = 900


class AgentSteps:
    """Step functions of one agent-tool run."""

    def __init__(
        self,
        db: Database,
        spec: AgentRunSpec,
        run_id: str,
        clock: Clock,
        project_id: str,
        *,
        claim: int = 1,
    ):
        self.db = db
        self.spec = spec
        self.run_id = run_id
        self.claim = claim
        self.env = PatchEnv(
            project_id=project_id,
            project_root=Path(spec.project_root),
            home=Path(spec.home),
            clock=clock,
        )
        self.ledger = PatchLedger(db, self.env)
        self.router = Router(db, self.env)
        self.routing = RoutingStore(db)

    @property
    def scratch(self) -> Path:
        """Where this run's prompt file and command output live before becoming evidence."""
        return self.env.scratch_dir / "runs" / self.run_id

    # ---- record the route and the prompt ------------------------------------------------
    def record(self) -> str:
        """Store the prompt with the run, note the route decision, attach the prompt."""
        now = self.env.clock.now()
        prompt = self.spec.prompt.model_copy(update={"run_id": self.run_id, "created_at": now})
        self.routing.save_prompt(prompt, project_id=self.env.project_id, now=now)
        self.ledger.store.append_events(
            self.run_id,
            [NewEvent(EventKind.ROUTE_DECIDED, self.spec.decision.model_dump(mode="json"))],
            now,
        )
        attach_evidence(prompt.rendered.encode(), name="prompt.md", label="prompt")
        return prompt.prompt_instance_id

    # ---- one tool attempt ---------------------------------------------------------------
    def attempt(self, tool: str, number: int, patch_id: str) -> dict[str, Any]:
        """Run ``tool`` once in a fresh worktree; turn its edits into patch ``patch_id``.

        Under a budget the call is refused (BudgetExceeded) when nothing is left, its time is
        capped by the wall time left, and it is stopped (BudgetExceeded, once its worktree is
        gone) as soon as its reported usage passes what is left; its spend is recorded.
        """
        spec = self.spec
        app = spec.apps[tool]
        budget = CallBudget(
            self.db,
            spec.budget,
            app,
            agent_run_id=self.run_id,
            tool=tool,
            attempt=number,
            clock=self.env.clock,
        )
        timeout = budget.before(
            spec.decision.timeout_seconds or app.limits.timeout_seconds or DEFAULT_TOOL_TIMEOUT
        )
        # A worker that died may have left its tool running: this claim gets its own worktree,
        # and worktrees of earlier claims of this run are removed.
        name = agent_worktree_name(self.run_id, f"{tool}-{number}-c{self.claim}")
        for other in self.env.worktrees.names():
            if other.startswith(f"agent-{self.run_id}-") and other != name:
                self.env.worktrees.remove(other)
        worktree = self.env.worktrees.create(name, spec.base_commit)
        placed = place_context_files(worktree, spec.context_files)
        prompt_file = self.scratch / "prompt.md"
        prompt_file.parent.mkdir(parents=True, exist_ok=True)
        prompt_file.write_text(spec.prompt.rendered, encoding="utf-8")
        values = {
            "prompt_file": str(prompt_file),
            "prompt": spec.prompt.rendered,
            "worktree": str(worktree),
            "files": list(spec.request.files),
            "objective": spec.request.objective or "",
            "task_kind": spec.request.task_kind,
            "timeout": str(timeout),
            "repo": str(self.env.repo),
            "run_id": self.run_id,
            "request_id": spec.request.request_id,
        }
        outcome: dict[str, Any] = {"tool": tool, "attempt": number, "ok": False}
        result: CommandResult | None = None
        breach = None
        try:
            argv = expand(app.command or [], values)
            result = run_command(
                argv,
                cwd=worktree,
                timeout=timeout,
                output_dir=self.scratch,
                name=f"{tool}-{number}",
                stdin_path=prompt_file if app.stdin == "prompt" else None,
                env=app.env,
                monitor=budget.watching(),
            )
            usage, breach = budget.after(result)
            outcome.update(usage_fields(usage))
            outcome.update(
                argv=argv,
                exit_code=result.exit_code,
                timed_out=result.timed_out,
                seconds=round(result.seconds, 3),
            )
            for stream in ("stdout", "stderr"):
                data = getattr(result, f"{stream}_path").read_bytes()
                attach_evidence(
                    data, name=f"{tool}-{number}.{stream}.txt", label=f"{tool} {stream}"
                )
            if not result.ok:
                outcome["error"] = result.describe()
            elif breach is None:
                remove_context_files(worktree, placed)
                outcome.update(self._capture(worktree, patch_id, tool))
        except RunwrightError as exc:
            outcome["error"] = exc.message
        finally:
            self.env.worktrees.remove(name)
        if breach is not None:
            raise BudgetExceeded(breach)
        self.router.record_outcome(
            tool_id=tool,
            run_id=self.run_id,
            attempt_key=f"{tool}:{number}",
            success=bool(outcome["ok"]),
            latency_seconds=float(outcome.get("seconds", 0.0)),
        )
        return outcome

    def _capture(self, worktree: Path, patch_id: str, tool: str) -> dict[str, Any]:
        spec = self.spec
        git(worktree, "add", "--all")
        diff = git(
            worktree,
            "diff",
            "--cached",
            "--binary",
            "--no-renames",
            "--no-color",
            "--no-ext-diff",
            spec.base_commit,
        ).stdout
        if not diff.strip():
            return {"error": f"{tool} exited 0 but changed nothing"}
        objective = (spec.request.objective or "").strip().splitlines()
        record = self.ledger.submit(
            diff,
            patch_id=patch_id,
            summary=(objective[0] if objective else f"{tool} edit")[:512],
            tool_id=tool,
            base_commit=spec.base_commit,
            run_id=self.run_id,
            execution_request_id=spec.request.request_id,
            prompt_id=spec.prompt.prompt_instance_id,
            phase_id=spec.request.phase_id,
            workstream_id=spec.request.workstream_id,
            context=spec.context,
        )
        attach_evidence(diff.encode("utf-8", "surrogateescape"), name=f"patch-{patch_id}.diff")
        return {"ok": True, "patch_id": record.patch_id}

    def final_failure(self, outcomes: list[dict[str, Any]]) -> None:
        """Every tool failed: hand the request to the error pipeline."""
        payload = {
            "cause": "final_failure",
            "request_id": self.spec.request.request_id,
            "attempts": [
                {"tool": o.get("tool"), "attempt": o.get("attempt"), "error": o.get("error")}
                for o in outcomes
            ],
        }
        self.ledger.store.append_events(
            self.run_id,
            [NewEvent(EventKind.ERROR_PIPELINE_TRIGGERED, payload)],
            self.env.clock.now(),
            errors=1,
        )

    # ---- ledger steps (advance only what has not advanced) ------------------------------
    def validate(self, patch_id: str) -> str:
        """Validate the patch if it is still ``created``."""
        state = self.ledger.get(patch_id).entry.state
        if state is PatchState.CREATED:
            state = self.ledger.validate(patch_id).entry.state
        return state.value

    def apply(self, patch_id: str) -> str:
        """Apply the patch (again, up to its attempt limit) until it is applied or gives up."""
        record = self.ledger.get(patch_id)
        for _ in range(10):
            state = record.entry.state
            if state not in {PatchState.VALIDATED, PatchState.APPLY_FAILED, PatchState.QUEUED}:
                break
            record = self.ledger.apply(patch_id, reclaim=True)
        return record.entry.state.value

    def verify(self, patch_id: str) -> str:
        """Verify the patch if it is applied."""
        state = self.ledger.get(patch_id).entry.state
        if state is PatchState.APPLIED:
            state = self.ledger.verify(patch_id).entry.state
        return state.value

    def commit(self, patch_id: str) -> str:
        """Commit the patch if it is verified."""
        state = self.ledger.get(patch_id).entry.state
        if state is PatchState.VERIFIED:
            state = self.ledger.commit(patch_id, approved_by=self.spec.approved_by).entry.state
        return state.value

    def explain(self, patch_id: str) -> str:
        """Why the patch ended where it is (its last history reason)."""
        entry = self.ledger.get(patch_id).entry
        return entry.state_history[-1].reason or entry.state.value

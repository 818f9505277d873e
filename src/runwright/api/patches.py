"""The client's patches, the patch ledger, routing and agent tools.

``client.patches`` is what the CLI, the dashboard and the plans part use::

    rec = client.patches.submit(diff_text, summary="Fix #12: off-by-one")
    rec = client.patches.validate(rec.patch_id)      # validated | quarantined | dropped
    rec = client.patches.apply(rec.patch_id)         # in .runwright/worktrees/patch-<id>
    rec = client.patches.verify(rec.patch_id)        # runs the test command there
    rec = client.patches.commit(rec.patch_id)        # only now does your checkout change

    req = client.patches.request("code_edit", objective="Add a --verbose flag", files=["cli.py"])
    decision = client.patches.route(req)
    result = client.patches.run_agent_tool(req, auto_commit=False)
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from runwright.api.outputs import TAIL_LINES, blob_tail, patch_test_log
from runwright.domain.ids import new_id
from runwright.domain.patches import UNIFIED_DIFF, PatchScope
from runwright.domain.patches_context import PatchContext, PatchRecord
from runwright.domain.patches_prompts import PromptInstance, PromptKind
from runwright.domain.policy import EffectivePolicy
from runwright.domain.router_decision import RouteDecision, RouteRejected
from runwright.domain.router_specs import (
    Classification,
    Complexity,
    ExecutionRequest,
    PhaseSpec,
    RoutingSpec,
    TaskSpec,
)
from runwright.domain.runs import Origin, RunKind, TriggerType
from runwright.errors import ConfigError, ValidationError
from runwright.patches.agent import (
    AGENT_JOB,
    AgentRunSpec,
    AgentToolResult,
    build_context,
    phase_context,
)
from runwright.patches.config_files import read_yaml, validate_data
from runwright.patches.env import PatchEnv
from runwright.patches.git import resolve_commit
from runwright.patches.ledger import PatchLedger, RecoveryReport
from runwright.patches.prompts import build_sections, render
from runwright.patches.routing import Router
from runwright.store.core import NewRun

if TYPE_CHECKING:
    from runwright.api.client import Client

ARTIFACT_SUFFIXES = {".json", ".yaml", ".yml"}


class SubmittedArtifact(BaseModel):
    """A patch artifact file as a person writes it: only ``diff_text`` is required."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patch_id: str | None = None
    format: str = UNIFIED_DIFF
    target_repo: str | None = None
    origin: dict[str, Any] = Field(default_factory=dict)
    diff_text: str
    base_ref: str | None = None
    base_commit: str | None = None
    summary: str | None = Field(default=None, max_length=512)
    scope: PatchScope | None = None


class PatchesClient:
    """Operations on patches, the ledger, routing and agent tools, via the shared client."""

    def __init__(self, client: Client):
        self.client = client

    @cached_property
    def env(self) -> PatchEnv:
        """The project's paths and clock, as the patch services see them."""
        return PatchEnv.from_settings(self.client.settings, self.client.clock)

    @cached_property
    def ledger(self) -> PatchLedger:
        """The patch ledger service."""
        return PatchLedger(self.client.store.db, self.env)

    @cached_property
    def router(self) -> Router:
        """The router service."""
        return Router(self.client.store.db, self.env)

    # ---- patches ------------------------------------------------------------------------
    def submit(self, diff_text: str, **options: Any) -> PatchRecord:
        """Record a unified diff as a patch (``created``); see PatchLedger.submit for options.

        With a ``phase_id`` declared in ``.runwright/phases`` and no explicit ``context``, the
        phase's constraints, scope and test command apply to the patch.
        """
        if options.get("phase_id") and options.get("context") is None:
            options["context"] = self._phase_context(options["phase_id"])
        return self.ledger.submit(diff_text, **options)

    def _phase_context(self, phase_id: str) -> PatchContext:
        lookup = self.router.phase(phase_id)
        if lookup.code is not None:
            raise ConfigError(
                lookup.problem or f"phase {phase_id!r} is not usable",
                hint="declare it in .runwright/phases/ or leave --phase out",
                field="phase_id",
            )
        return phase_context(lookup.phase) if lookup.phase else PatchContext(phase_id=phase_id)

    def submit_file(self, path: Path, **options: Any) -> PatchRecord:
        """Submit a ``.diff``/``.patch`` file, or a patch artifact in ``.json``/``.yaml``."""
        if path.suffix.lower() in ARTIFACT_SUFFIXES:
            doc = validate_data(
                read_yaml(path),
                SubmittedArtifact,
                source=str(path),
                hint="a patch artifact file needs diff_text (schemas/patch_artifact.schema.json)",
            )
            origin = doc.origin
            options = {
                "format": doc.format,
                "summary": doc.summary,
                "base_ref": doc.base_ref,
                "base_commit": doc.base_commit,
                "declared_scope": doc.scope,
                "patch_id": doc.patch_id,
                "tool_id": origin.get("tool_id", "manual"),
                "execution_request_id": origin.get("execution_request_id"),
                "prompt_id": origin.get("prompt_id"),
                "phase_id": origin.get("phase_id"),
                "workstream_id": origin.get("workstream_id"),
                **{k: v for k, v in options.items() if v is not None},
            }
            return self.submit(doc.diff_text, **options)
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise ValidationError(f"{path}: cannot read ({exc.strerror})", path=str(path)) from exc
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"{path} is not UTF-8 text",
                hint="patches are UTF-8 unified diffs; binary changes come as `git diff --binary`",
                path=str(path),
            ) from exc
        return self.submit(text, **{k: v for k, v in options.items() if v is not None})

    def get(self, patch_id: str) -> PatchRecord:
        """One patch with its ledger entry and context."""
        return self.ledger.get(patch_id)

    def test_output(self, record: PatchRecord, *, lines: int = TAIL_LINES) -> str | None:
        """The last ``lines`` lines of the patch's verification output, if its tests failed."""
        sha = patch_test_log(record)
        return blob_tail(self.env.blobs, sha, lines) if sha else None

    def list(
        self,
        *,
        states: Sequence[str] = (),
        run_id: str | None = None,
        before: str | None = None,
        limit: int = 50,
    ) -> builtins.list[PatchRecord]:
        """The project's patches, newest first."""
        return self.ledger.find(states=states, run_id=run_id, before=before, limit=limit)

    def validate(self, patch_id: str) -> PatchRecord:
        """Check format, scope and constraints: validated, quarantined or dropped."""
        return self.ledger.validate(patch_id)

    def apply(
        self, patch_id: str, *, override: bool = False, reason: str | None = None
    ) -> PatchRecord:
        """Apply in the patch's worktree (``override`` re-applies a quarantined one)."""
        return self.ledger.apply(patch_id, override=override, reason=reason)

    def verify(
        self,
        patch_id: str,
        *,
        test_commands: builtins.list[builtins.list[str]] | None = None,
        timeout_seconds: int | None = None,
    ) -> PatchRecord:
        """Run the test command(s) in the worktree: verified, or quarantined."""
        return self.ledger.verify(
            patch_id, test_commands=test_commands, timeout_seconds=timeout_seconds
        )

    def commit(
        self, patch_id: str, *, approved_by: Sequence[str] = (), message: str | None = None
    ) -> PatchRecord:
        """Commit a verified patch to your current branch."""
        return self.ledger.commit(patch_id, approved_by=approved_by, message=message)

    def rollback(
        self, patch_id: str, *, reason: str | None = None, approved_by: Sequence[str] = ()
    ) -> PatchRecord:
        """Roll back (a committed patch is reverted by a new patch, which is returned)."""
        return self.ledger.rollback(patch_id, reason=reason, approved_by=approved_by)

    def drop(self, patch_id: str, reason: str = "dropped by request") -> PatchRecord:
        """Drop a patch."""
        return self.ledger.drop(patch_id, reason)

    def quarantine(self, patch_id: str, reason: str) -> PatchRecord:
        """Quarantine a patch with a reason."""
        return self.ledger.quarantine(patch_id, reason)

    def recover(self, *, force: bool = False) -> RecoveryReport:
        """Settle interrupted applies and remove stale worktrees."""
        return self.ledger.recover(force=force)

    def policy(self, context: PatchContext | None = None) -> EffectivePolicy:
        """The effective patch policy (policy.yaml levels, plus a patch context's)."""
        return self.ledger.policy(context)

    # ---- routing ------------------------------------------------------------------------
    def request(
        self,
        task_kind: str,
        *,
        objective: str | None = None,
        files: Sequence[str] = (),
        phase_id: str = "adhoc",
        risk_tier: str = "medium",
        complexity: Complexity | str = Complexity.MODERATE,
        domain: str | None = None,
        allowed_tools: Sequence[str] = (),
        **fields: Any,
    ) -> ExecutionRequest:
        """An execution request for this project, with a fresh id."""
        return ExecutionRequest(
            request_id=new_id(),
            project_id=self.client.settings.project_id,
            phase_id=phase_id,
            task_kind=task_kind,
            classification=Classification(
                complexity=Complexity(complexity), risk_tier=risk_tier, domain=domain
            ),
            routing=RoutingSpec(allowed_tools=list(allowed_tools)),
            objective=objective,
            files=list(files),
            **fields,
        )

    def route(
        self,
        request: ExecutionRequest | dict[str, Any],
        *,
        phase: PhaseSpec | None = None,
        phase_file: Path | None = None,
        dry_run: bool = False,
        run_id: str | None = None,
    ) -> RouteDecision:
        """Decide which tool handles ``request`` (rejections are returned, not raised)."""
        return self.router.route(
            request, phase=phase, phase_file=phase_file, dry_run=dry_run, run_id=run_id
        )

    def render_prompt(
        self,
        request: ExecutionRequest,
        *,
        tool: str,
        phase: PhaseSpec | None = None,
        context: PatchContext | None = None,
    ) -> PromptInstance:
        """The prompt ``tool`` would get for ``request`` (not stored)."""
        config = self.router.config()
        app = config.apps.get(tool)
        template = (app.prompt_template if app else None) or "default"
        context = context or PatchContext(
            phase_id=request.phase_id, scopes=[request.resource_scope]
        )
        sections = build_sections(
            request,
            kind=PromptKind.CODE_EDIT,
            policy=self.ledger.policy(context),
            scopes=context.scopes,
            phase=phase,
            test_commands=context.test_commands or self._default_tests(),
        )
        return render(
            sections,
            template_id=template,
            target_tool=tool,
            kind=PromptKind.CODE_EDIT,
            home=self.env.home,
            request=request,
        )

    def prompts(self, run_id: str) -> builtins.list[PromptInstance]:
        """The prompt instances stored with a run."""
        return self.router.store.prompts_of_run(run_id)

    def _default_tests(self) -> builtins.list[builtins.list[str]]:
        command = self.env.policy_file().verify.test_command
        return [command] if command else []

    # ---- agent tools --------------------------------------------------------------------
    def run_agent_tool(
        self,
        request: ExecutionRequest,
        *,
        phase: PhaseSpec | None = None,
        phase_file: Path | None = None,
        task: TaskSpec | None = None,
        auto_commit: bool = False,
        approved_by: Sequence[str] = (),
        wait: bool = True,
        timeout: float | None = None,
    ) -> AgentToolResult:
        """Route ``request``, render its prompt and run the tool as a durable job.

        The tool edits a fresh worktree; its edits become a patch that is validated, applied
        and verified (and committed with ``auto_commit``). Raises RouteRejected when the
        router refuses. With ``wait`` the run executes in this process.
        """
        import runwright.patches.agent_job  # noqa: F401 - registers the job

        router = self.router
        if phase is None:
            lookup = router.phase(request.phase_id, phase_file)
            phase = lookup.phase
        config = router.config()
        decision = router.route(request, phase=phase, phase_file=phase_file, config=config)
        if not decision.accepted or decision.selected is None:
            raise RouteRejected(decision)
        context = build_context(request, phase=phase, task=task, decision=decision, config=config)
        if not context.test_commands:
            context = context.model_copy(update={"test_commands": self._default_tests()})
        prompt = self.render_prompt(request, tool=decision.selected, phase=phase, context=context)
        names = {decision.selected, *decision.fallbacks, *decision.validate_with}
        spec = AgentRunSpec(
            request=request,
            decision=decision,
            prompt=prompt,
            apps={n: config.apps[n] for n in sorted(names)},
            context=context,
            project_root=str(self.env.project_root),
            home=str(self.env.home),
            base_commit=resolve_commit(self.env.repo, "HEAD"),
            auto_commit=auto_commit,
            approved_by=list(approved_by),
        )
        from runwright.api.client import whoami

        run = self.client.store.create_run(
            NewRun(
                job_name=AGENT_JOB,
                job_module="runwright.patches.agent_job",
                kind=RunKind.PATCH,
                args=[spec.model_dump(mode="json")],
                project_id=self.client.settings.project_id,
                phase_id=request.phase_id,
                workstream_id=request.workstream_id,
                execution_request_id=request.request_id,
                origin=Origin(trigger_type=TriggerType.MANUAL, requested_by=whoami()),
            ),
            self.client.clock.now(),
        )
        if wait:
            budget = (decision.timeout_seconds or 900) * max(len(spec.attempts()), 1) + 600
            run = self.client.wait(run.run_id, timeout=timeout or budget)
        patches = self.list(run_id=run.run_id, limit=1)
        stored = self.prompts(run.run_id)
        return AgentToolResult(
            run=run,
            decision=decision,
            prompt=stored[0] if stored else prompt,
            patch=patches[0] if patches else None,
        )

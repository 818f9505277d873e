"""The router service: load the config and the phase, decide (pure), persist the round-robin
counter it used, record the decision in a run's log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from runwright.domain.events import EventKind
from runwright.domain.ids import is_ulid, new_id
from runwright.domain.router import RouterConfig
from runwright.domain.router_decision import RejectionCode, RouteDecision, decide, rejection
from runwright.domain.router_specs import ExecutionRequest, PhaseSpec, Strategy
from runwright.errors import NotFound
from runwright.patches.env import PatchEnv
from runwright.patches.router_files import PhaseLookup, find_phase, load_phase_file, load_router
from runwright.store.core import NewEvent
from runwright.store.database import Database
from runwright.store.patches import PatchLedgerStore, RoutingStore


class Router:
    """Routes execution requests of one project."""

    def __init__(self, db: Database, env: PatchEnv, *, config_path: Path | None = None):
        self.env = env
        self.store = RoutingStore(db)
        self._ledger = PatchLedgerStore(db)
        self.config_path = config_path

    def config(self) -> RouterConfig:
        """The router configuration (read each time; it may change between commands)."""
        return load_router(self.env.home, self.config_path)

    def phase(self, phase_id: str, spec_file: Path | None = None) -> PhaseLookup:
        """The phase spec for ``phase_id`` (from ``spec_file`` or ``.runwright/phases``)."""
        if spec_file is not None:
            return load_phase_file(spec_file)
        return find_phase(self.env.home, phase_id)

    def route(
        self,
        request: ExecutionRequest | dict[str, Any],
        *,
        phase: PhaseSpec | None = None,
        phase_file: Path | None = None,
        config: RouterConfig | None = None,
        dry_run: bool = False,
        run_id: str | None = None,
    ) -> RouteDecision:
        """Decide which tool handles ``request``; rejections come back as decisions."""
        if not isinstance(request, ExecutionRequest):
            try:
                request = ExecutionRequest.model_validate(request)
            except PydanticValidationError as exc:
                return self._invalid(request, exc)
        config = config or self.config()
        if phase is None:
            lookup = self.phase(request.phase_id, phase_file)
            if lookup.code is not None:
                code = RejectionCode(lookup.code)
                return rejection(
                    request.request_id, request.task_kind, code, lookup.problem or "", why=[]
                )
            phase = lookup.phase
        counters = self.store.counters(self.env.project_id)
        stats = self.store.stats(self.env.project_id, sorted(config.apps))
        problem = self._prompt_problem(request)

        def decide_with(rr: dict[str, int]) -> RouteDecision:
            return decide(
                config, request, phase=phase, round_robin=rr, stats=stats, prompt_problem=problem
            )

        decision = decide_with(counters)
        round_robin = decision.accepted and decision.strategy is Strategy.ROUND_ROBIN
        if round_robin and decision.rule_id and not dry_run:
            taken = self.store.claim_counter(
                self.env.project_id, decision.rule_id, self.env.clock.now()
            )
            if taken != decision.round_robin_counter:
                counters = {**counters, decision.rule_id: taken}
                decision = decide_with(counters)
        if run_id is not None:
            self._ledger.append_events(
                run_id,
                [NewEvent(EventKind.ROUTE_DECIDED, decision.model_dump(mode="json"))],
                self.env.clock.now(),
            )
        return decision

    def _prompt_problem(self, request: ExecutionRequest) -> str | None:
        if request.prompt_spec is None:
            return None
        try:
            self.store.get_prompt(request.prompt_spec)
        except NotFound:
            return f"prompt_spec {request.prompt_spec} names no stored prompt instance"
        except PydanticValidationError as exc:
            return (
                f"prompt_spec {request.prompt_spec} is not a valid prompt: {exc.errors()[0]['msg']}"
            )
        return None

    @staticmethod
    def _invalid(data: object, exc: PydanticValidationError) -> RouteDecision:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(root)"
        rid = data.get("request_id") if isinstance(data, dict) else None
        return rejection(
            rid if isinstance(rid, str) and is_ulid(rid) else new_id(),
            str(data.get("task_kind", "?")) if isinstance(data, dict) else "?",
            RejectionCode.REQUEST_INVALID_SCHEMA,
            f"{field}: {first['msg']}",
            why=[],
        )

    def record_outcome(
        self, *, tool_id: str, run_id: str, attempt_key: str, success: bool, latency_seconds: float
    ) -> None:
        """Record how a tool did (feeds the auto strategy)."""
        self.store.record_tool_run(
            project_id=self.env.project_id,
            run_id=run_id,
            attempt_key=attempt_key,
            tool_id=tool_id,
            success=success,
            latency_seconds=latency_seconds,
            now=self.env.clock.now(),
        )

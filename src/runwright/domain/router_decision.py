"""Routing decisions: which tool gets a request, why, and the UET rejection codes.

:func:`decide` is pure. The caller supplies the round-robin counter of each rule and the recorded
success rate and latency of each tool; the store persists the counter it advanced.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.ids import Ulid
from runwright.domain.policy_globs import all_within
from runwright.domain.router import RouterApp, RouterConfig, RoutingRule
from runwright.domain.router_specs import ExecutionRequest, PhaseSpec, Strategy
from runwright.errors import RunwrightError

AUTO_UNSEEN_SCORE = 0.5


class RejectionCode(StrEnum):
    """Why a request was not routed (UET)."""

    REQUEST_INVALID_SCHEMA = "request_invalid_schema"
    PHASE_NOT_FOUND = "phase_not_found"
    PHASE_SPEC_INVALID = "phase_spec_invalid"
    FILES_SCOPE_VIOLATION = "files_scope_violation"
    CONSTRAINT_WEAKENED = "constraint_weakened"
    TOOL_NOT_PERMITTED_FOR_PHASE = "tool_not_permitted_for_phase"
    PROMPT_SPEC_INVALID = "prompt_spec_invalid"
    NO_ROUTABLE_TOOL_FOR_PHASE = "no_routable_tool_for_phase"


class RouteRejected(RunwrightError):
    """The router refused the request; ``code`` is the UET rejection code."""

    code = "route_rejected"

    def __init__(self, decision: RouteDecision):
        super().__init__(
            f"request {decision.request_id} was not routed: "
            f"{decision.rejection_code}: {decision.message}",
            hint="see `runwright route … --json` for the whole decision",
            rejection_code=decision.rejection_code,
        )
        self.code = str(decision.rejection_code)
        self.decision = decision


class ToolStats(BaseModel):
    """A tool's recorded outcomes, for the auto strategy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool_id: str
    runs: int = Field(default=0, ge=0)
    successes: int = Field(default=0, ge=0)
    avg_latency_seconds: float = Field(default=0.0, ge=0)

    @property
    def success_rate(self) -> float:
        """Successes over runs (0 when never run)."""
        return self.successes / self.runs if self.runs else 0.0

    def score(self) -> float:
        """0.7·success_rate + 0.3/(1 + average latency in seconds); unseen tools score 0.5."""
        if not self.runs:
            return AUTO_UNSEEN_SCORE
        return 0.7 * self.success_rate + 0.3 / (1.0 + self.avg_latency_seconds)


class RouteDecision(BaseModel):
    """The router's answer to one request, with the reasons."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: Ulid
    task_kind: str
    accepted: bool
    rejection_code: RejectionCode | None = None
    message: str | None = None
    rule_id: str | None = Field(default=None, description="None when no rule matched.")
    strategy: Strategy | None = None
    candidates: list[str] = Field(default_factory=list)
    selected: str | None = None
    fallbacks: list[str] = Field(default_factory=list)
    validate_with: list[str] = Field(default_factory=list)
    validation_required: bool = False
    max_attempts: int = Field(default=1, ge=1)
    timeout_seconds: int | None = Field(default=None, ge=1)
    scores: dict[str, float] = Field(default_factory=dict)
    round_robin_counter: int | None = None
    explanation: list[str] = Field(default_factory=list)


def rejection(
    request_id: str, task_kind: str, code: RejectionCode, message: str, *, why: list[str]
) -> RouteDecision:
    """A decision refusing the request with ``code``."""
    return RouteDecision(
        request_id=request_id,
        task_kind=task_kind,
        accepted=False,
        rejection_code=code,
        message=message,
        explanation=[*why, f"rejected: {code.value}: {message}"],
    )


def _rule_matches(rule: RoutingRule, request: ExecutionRequest) -> str | None:
    """Why ``rule`` does not match, or None when it fully matches."""
    m = rule.match
    if m.task_kind is not None and request.task_kind not in m.task_kind:
        return f"task_kind {request.task_kind!r} not in {m.task_kind}"
    risk = request.classification.risk_tier
    if m.risk_tier is not None and risk not in m.risk_tier:
        return f"risk_tier {risk!r} not in {m.risk_tier}"
    if m.complexity is not None and request.classification.complexity != m.complexity:
        return f"complexity {request.classification.complexity.value!r} ≠ {m.complexity.value!r}"
    return None


def check_against_phase(request: ExecutionRequest, phase: PhaseSpec) -> RouteDecision | None:
    """A rejection when the request's scope, constraints or tools exceed the phase's."""
    reject = request.request_id, request.task_kind
    mine, theirs = request.resource_scope, phase.resource_scope
    for op in ("read", "write", "create"):
        asked, allowed = getattr(mine, op), getattr(theirs, op)
        if asked is not None and allowed is not None:
            outside = all_within(asked, allowed)
            if outside:
                return rejection(
                    *reject,
                    RejectionCode.FILES_SCOPE_VIOLATION,
                    f"resource_scope.{op} {outside} is not inside phase {phase.phase_id}'s "
                    f"{op} scope {allowed}",
                    why=[],
                )
    dropped = all_within(theirs.forbidden, mine.forbidden) if mine.forbidden else []
    if mine.forbidden and dropped:
        return rejection(
            *reject,
            RejectionCode.FILES_SCOPE_VIOLATION,
            f"resource_scope.forbidden drops {dropped}, which phase {phase.phase_id} forbids",
            why=[],
        )
    pc, rc = phase.constraints, request.constraints
    limit = pc.patch.max_lines_changed
    if limit is not None and rc.max_lines_changed is not None and rc.max_lines_changed > limit:
        return rejection(
            *reject,
            RejectionCode.CONSTRAINT_WEAKENED,
            f"constraints.max_lines_changed {rc.max_lines_changed} is looser than phase "
            f"{phase.phase_id}'s {limit}",
            why=[],
        )
    if pc.tests.tests_must_pass and rc.tests_must_pass is False:
        return rejection(
            *reject,
            RejectionCode.CONSTRAINT_WEAKENED,
            f"constraints.tests_must_pass false weakens phase {phase.phase_id}, which requires it",
            why=[],
        )
    if pc.patch.patch_required and rc.patch_only is False:
        return rejection(
            *reject,
            RejectionCode.CONSTRAINT_WEAKENED,
            f"constraints.patch_only false weakens phase {phase.phase_id}, which requires patches",
            why=[],
        )
    if phase.allowed_tools is not None:
        stray = [t for t in request.routing.allowed_tools if t not in phase.allowed_tools]
        if stray:
            return rejection(
                *reject,
                RejectionCode.TOOL_NOT_PERMITTED_FOR_PHASE,
                f"routing.allowed_tools {stray} are not permitted in phase {phase.phase_id} "
                f"(permitted: {phase.allowed_tools})",
                why=[],
            )
    return None


def _permitted(
    names: list[str],
    apps: Mapping[str, RouterApp],
    request: ExecutionRequest,
    phase: PhaseSpec | None,
) -> tuple[list[str], list[str]]:
    """``names`` kept and the reasons for the ones removed."""
    kept, why = [], []
    allowed = request.routing.allowed_tools
    for name in names:
        if name not in apps:
            why.append(f"{name}: not a configured app")
        elif allowed and name not in allowed:
            why.append(f"{name}: not in routing.allowed_tools")
        elif (
            phase is not None
            and phase.allowed_tools is not None
            and name not in phase.allowed_tools
        ):
            why.append(f"{name}: not permitted in phase {phase.phase_id}")
        else:
            kept.append(name)
    return kept, why


def _timeout(config: RouterConfig, request: ExecutionRequest, app: str) -> int:
    limits = [config.defaults.timeout_seconds]
    if request.routing.timeout_seconds:
        limits = [request.routing.timeout_seconds]
    app_limit = config.apps[app].limits.timeout_seconds
    return min([*limits, app_limit] if app_limit else limits)


def decide(
    config: RouterConfig,
    request: ExecutionRequest,
    *,
    phase: PhaseSpec | None = None,
    round_robin: Mapping[str, int] | None = None,
    stats: Mapping[str, ToolStats] | None = None,
    prompt_problem: str | None = None,
) -> RouteDecision:
    """Route ``request``: phase checks, then the first fully matching rule, else capability.

    ``round_robin`` holds each rule's counter before this decision; the decision's
    ``round_robin_counter`` is the value used (the caller stores it plus one).
    """
    rid, kind = request.request_id, request.task_kind
    if prompt_problem:
        return rejection(rid, kind, RejectionCode.PROMPT_SPEC_INVALID, prompt_problem, why=[])
    if phase is not None:
        refused = check_against_phase(request, phase)
        if refused is not None:
            return refused
    why: list[str] = []
    for rule in config.routing.rules:
        miss = _rule_matches(rule, request)
        if miss:
            why.append(f"rule {rule.id}: no match ({miss})")
            continue
        why.append(f"rule {rule.id}: matches")
        return _from_rule(config, request, phase, rule, round_robin or {}, stats or {}, why)
    return _by_capability(config, request, phase, why)


def _from_rule(
    config: RouterConfig,
    request: ExecutionRequest,
    phase: PhaseSpec | None,
    rule: RoutingRule,
    counters: Mapping[str, int],
    stats: Mapping[str, ToolStats],
    why: list[str],
) -> RouteDecision:
    candidates, removed = _permitted(rule.select_from, config.apps, request, phase)
    why.extend(removed)
    fallbacks, removed_fb = _permitted(rule.fallback_to, config.apps, request, phase)
    why.extend(f"fallback {r}" for r in removed_fb)
    if not candidates:
        return rejection(
            request.request_id,
            request.task_kind,
            RejectionCode.NO_ROUTABLE_TOOL_FOR_PHASE,
            f"rule {rule.id} matched but none of {rule.select_from} may be used here",
            why=why,
        )
    strategy = rule.strategy or request.routing.strategy or config.defaults.strategy
    scores: dict[str, float] = {}
    counter: int | None = None
    if strategy is Strategy.ROUND_ROBIN:
        counter = counters.get(rule.id, 0)
        selected = candidates[counter % len(candidates)]
        why.append(f"round_robin: counter {counter} mod {len(candidates)} → {selected}")
    elif strategy is Strategy.AUTO:
        scores = {c: round(stats.get(c, ToolStats(tool_id=c)).score(), 6) for c in candidates}
        selected = max(candidates, key=lambda c: scores[c])  # first of equals wins
        why.append("auto: " + ", ".join(f"{c}={s:.3f}" for c, s in scores.items()))
    else:
        selected = candidates[0]
        why.append(f"fixed: first candidate → {selected}")
    return RouteDecision(
        request_id=request.request_id,
        task_kind=request.task_kind,
        accepted=True,
        rule_id=rule.id,
        strategy=strategy,
        candidates=candidates,
        selected=selected,
        fallbacks=[f for f in fallbacks if f != selected],
        validate_with=list(rule.validate_with),
        validation_required=rule.required,
        max_attempts=request.routing.max_attempts or config.defaults.max_attempts,
        timeout_seconds=_timeout(config, request, selected),
        scores=scores,
        round_robin_counter=counter,
        explanation=why,
    )


def _by_capability(
    config: RouterConfig, request: ExecutionRequest, phase: PhaseSpec | None, why: list[str]
) -> RouteDecision:
    domain = request.classification.domain
    capable = sorted(
        name
        for name, app in config.apps.items()
        if request.task_kind in app.capabilities.task_kinds
        and (not domain or not app.capabilities.domains or domain in app.capabilities.domains)
    )
    why.append(f"no rule matched; apps capable of {request.task_kind!r}: {capable or 'none'}")
    candidates, removed = _permitted(capable, config.apps, request, phase)
    why.extend(removed)
    if not candidates:
        return rejection(
            request.request_id,
            request.task_kind,
            RejectionCode.NO_ROUTABLE_TOOL_FOR_PHASE,
            f"no app may handle task kind {request.task_kind!r} here",
            why=why,
        )
    selected = candidates[0]
    why.append(f"alphabetically first capable app → {selected}")
    return RouteDecision(
        request_id=request.request_id,
        task_kind=request.task_kind,
        accepted=True,
        strategy=Strategy.FIXED,
        candidates=candidates,
        selected=selected,
        fallbacks=candidates[1:],
        max_attempts=request.routing.max_attempts or config.defaults.max_attempts,
        timeout_seconds=_timeout(config, request, selected),
        explanation=why,
    )

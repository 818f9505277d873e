"""The router's pure decisions: ordered rules, strategies, capability fallback, rejection codes
(UET §5 behaviours 36-38)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from runwright.domain.ids import new_id
from runwright.domain.router import RouterConfig
from runwright.domain.router_decision import RejectionCode, ToolStats, decide
from runwright.domain.router_specs import (
    Classification,
    Complexity,
    ExecutionRequest,
    PhaseSpec,
    RequestConstraints,
    ResourceScope,
    RoutingSpec,
)

APPS = {
    name: {"command": [name, "{prompt_file}"], "capabilities": {"task_kinds": kinds}}
    for name, kinds in {
        "a": ["code_edit"],
        "b": ["code_edit"],
        "zeta": ["analysis"],
        "alpha": ["analysis", "review"],
    }.items()
}


def config(rules: list[dict[str, Any]], **extra: Any) -> RouterConfig:
    """A router config over APPS."""
    return RouterConfig.model_validate(
        {"version": "1", "apps": APPS, "routing": {"rules": rules}, **extra}
    )


def request(kind: str = "code_edit", **fields: Any) -> ExecutionRequest:
    """A request of ``kind``."""
    return ExecutionRequest(
        request_id=new_id(), project_id="p", phase_id="ph", task_kind=kind, **fields
    )


TWO_RULES = [
    {"id": "R1", "match": {"task_kind": ["code_edit"]}, "select_from": ["a"]},
    {"id": "R2", "select_from": ["b"]},
]


def test_the_first_full_match_wins() -> None:
    """Behaviour 37: rules [R1 code_edit, R2 wildcard]: code_edit → R1, analysis → R2."""
    cfg = config(TWO_RULES)
    edit, other = decide(cfg, request("code_edit")), decide(cfg, request("analysis"))
    assert (edit.rule_id, edit.selected) == ("R1", "a")
    assert (other.rule_id, other.selected) == ("R2", "b")
    assert "rule R1: no match" in other.explanation[0]


def test_round_robin_cycles_with_the_counter() -> None:
    """Behaviour 37: round_robin over [a, b] with counters 0, 1, 2 → a, b, a."""
    cfg = config([{"id": "rr", "select_from": ["a", "b"], "strategy": "round_robin"}])
    picks = [decide(cfg, request(), round_robin={"rr": n}).selected for n in range(3)]
    assert picks == ["a", "b", "a"]


def test_predicates_match_by_membership_and_equality() -> None:
    """task_kind and risk_tier match by membership, complexity by equality; all must hold."""
    cfg = config(
        [
            {
                "id": "careful",
                "match": {
                    "task_kind": ["code_edit"],
                    "risk_tier": ["high"],
                    "complexity": "expert",
                },
                "select_from": ["b"],
            },
            {"id": "rest", "select_from": ["a"]},
        ]
    )
    hard = request(classification=Classification(risk_tier="high", complexity=Complexity.EXPERT))
    easy = request(classification=Classification(risk_tier="high", complexity=Complexity.SIMPLE))
    assert decide(cfg, hard).rule_id == "careful"
    assert decide(cfg, easy).rule_id == "rest"


def test_without_a_matching_rule_the_alphabetically_first_capable_app_is_used() -> None:
    """Behaviour 38: no rule matches → the alphabetically first capable app."""
    d = decide(config([]), request("analysis"))
    assert d.accepted
    assert d.rule_id is None
    assert d.selected == "alpha"
    assert d.fallbacks == ["zeta"]


def test_no_capable_app_is_no_routable_tool() -> None:
    """Behaviour 38: nothing capable → no_routable_tool_for_phase."""
    d = decide(config([]), request("deploy"))
    assert not d.accepted
    assert d.rejection_code is RejectionCode.NO_ROUTABLE_TOOL_FOR_PHASE


def test_auto_scores_success_and_latency() -> None:
    """auto: 0.7·success_rate + 0.3/(1+latency); an unseen tool scores 0.5."""
    cfg = config([{"id": "auto", "select_from": ["a", "b"], "strategy": "auto"}])
    good = {"a": ToolStats(tool_id="a", runs=10, successes=2, avg_latency_seconds=1.0)}
    d = decide(cfg, request(), stats=good)
    assert d.scores == {"a": pytest.approx(0.7 * 0.2 + 0.15), "b": 0.5}
    assert d.selected == "b"
    great = {"a": ToolStats(tool_id="a", runs=4, successes=4, avg_latency_seconds=0.0)}
    assert decide(cfg, request(), stats=great).selected == "a"


PHASE = PhaseSpec(
    phase_id="ph",
    name="core",
    category="implementation",
    resource_scope=ResourceScope(write=["src/**"], forbidden=["secrets/**"]),
    constraints={"patch": {"max_lines_changed": 100}, "tests": {"tests_must_pass": True}},
    allowed_tools=["a"],
)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"resource_scope": ResourceScope(write=["lib/**"])}, "files_scope_violation"),
        (
            {"resource_scope": ResourceScope(write=["src/**"], forbidden=["other/**"])},
            "files_scope_violation",
        ),
        ({"constraints": RequestConstraints(max_lines_changed=500)}, "constraint_weakened"),
        ({"constraints": RequestConstraints(tests_must_pass=False)}, "constraint_weakened"),
        ({"routing": RoutingSpec(allowed_tools=["b"])}, "tool_not_permitted_for_phase"),
    ],
)
def test_requests_exceeding_their_phase_are_rejected(fields: dict[str, Any], code: str) -> None:
    """Behaviour 36: a write scope outside the phase, a dropped phase-forbidden path, a looser
    constraint or a tool the phase does not permit is rejected with its UET code."""
    d = decide(config(TWO_RULES), request(**fields), phase=PHASE)
    assert not d.accepted
    assert d.rejection_code == code


def test_a_request_inside_its_phase_is_routed_to_a_permitted_tool() -> None:
    """A narrower scope and a tighter limit pass; candidates are filtered to the phase's tools."""
    cfg = config([{"id": "both", "select_from": ["b", "a"]}])
    ok = request(
        resource_scope=ResourceScope(write=["src/core/**"], forbidden=["secrets/**"]),
        constraints=RequestConstraints(max_lines_changed=50),
    )
    d = decide(cfg, ok, phase=PHASE)
    assert d.accepted
    assert d.selected == "a"
    assert d.candidates == ["a"]
    assert any("b: not permitted in phase ph" in line for line in d.explanation)


def test_a_matched_rule_whose_tools_are_all_filtered_out_is_rejected() -> None:
    """When allowed_tools removes every candidate of the matching rule: no_routable_tool."""
    d = decide(config(TWO_RULES), request(routing=RoutingSpec(allowed_tools=["zeta"])))
    assert d.rejection_code is RejectionCode.NO_ROUTABLE_TOOL_FOR_PHASE


def test_a_prompt_problem_rejects_the_request() -> None:
    """A prompt_spec that names no valid prompt → prompt_spec_invalid."""
    d = decide(config(TWO_RULES), request(), prompt_problem="prompt_spec X names nothing")
    assert d.rejection_code is RejectionCode.PROMPT_SPEC_INVALID


def test_timeouts_attempts_and_fallbacks_come_from_rule_request_and_defaults() -> None:
    """The strictest timeout wins; max_attempts from the request or the defaults; fallbacks
    exclude the selected tool."""
    apps = {**APPS, "a": {**APPS["a"], "limits": {"timeout_seconds": 60}}}
    cfg = RouterConfig.model_validate(
        {
            "version": "1",
            "apps": apps,
            "routing": {"rules": [{"id": "r", "select_from": ["a"], "fallback_to": ["b", "a"]}]},
            "defaults": {"max_attempts": 2, "timeout_seconds": 300},
        }
    )
    d = decide(cfg, request())
    assert (d.timeout_seconds, d.max_attempts, d.fallbacks) == (60, 2, ["b"])
    d2 = decide(cfg, request(routing=RoutingSpec(max_attempts=4, timeout_seconds=30)))
    assert (d2.timeout_seconds, d2.max_attempts) == (30, 4)


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"apps": {"x": {"command": "aider --yes"}}}, "argv list"),
        ({"apps": APPS, "routing": {"rules": [{"id": "r", "select_from": ["nope"]}]}}, "nope"),
        (
            {
                "apps": APPS,
                "routing": {
                    "rules": [{"id": "r", "select_from": ["a"]}, {"id": "r", "select_from": ["b"]}]
                },
            },
            "used twice",
        ),
        (
            {
                "apps": APPS,
                "routing": {"rules": [{"id": "r", "select_from": ["a"], "validate_with": ["b"]}]},
            },
            "not a validator",
        ),
    ],
)
def test_bad_router_configs_are_refused_with_the_field(doc: dict[str, Any], needle: str) -> None:
    """Shell strings, unknown apps, duplicate rule ids and non-validator validators are refused."""
    with pytest.raises(PydanticValidationError, match=needle):
        RouterConfig.model_validate({"version": "1", **doc})

"""Stop rules, evidence patterns and templates, evaluated as pure functions."""

from __future__ import annotations

import pytest

from runwright.domain.execmodel.checks import CheckType
from runwright.domain.execmodel.modes import StopAction
from runwright.domain.execmodel.patterns import PatternFacts, effective_pattern, evaluate_pattern
from runwright.domain.execmodel.registry import DEFAULT_REGISTRY
from runwright.domain.execmodel.stoprules import StopFacts, Thresholds, evaluate
from runwright.domain.execmodel.templating import placeholders, render
from runwright.errors import ValidationError


def _fired(mode: str, limits: Thresholds | None = None, **facts: object) -> list[str]:
    rules = DEFAULT_REGISTRY.stop_rules(mode)
    return [f.rule_id for f in evaluate(rules, StopFacts(mode_id=mode, **facts), limits)]  # type: ignore[arg-type]


def test_over_timebox_fires_the_universal_rule() -> None:
    """Behaviour 10: past the timebox the universal rule fires: stop, next pointer."""
    fired = evaluate(DEFAULT_REGISTRY.universal_rules, StopFacts(over_timebox=True))
    assert [f.rule_id for f in fired] == ["universal.timebox"]
    assert fired[0].action == StopAction.NEXT_POINTER
    assert "re-scope" in fired[0].then


def test_forty_minutes_failing_without_repro_opens_a_debug_packet() -> None:
    """Behaviour 11: ≥ 40 minutes failing and no repro → the debugging rule fires; with a repro,
    or under the threshold, it does not; the threshold is configurable."""
    assert "universal.debugging" in _fired("CONTRACT", failing_minutes=41)
    assert "universal.debugging" not in _fired("CONTRACT", failing_minutes=39)
    assert "universal.debugging" not in _fired("CONTRACT", failing_minutes=90, has_repro=True)
    assert "universal.debugging" in _fired(
        "CONTRACT", Thresholds(debug_minutes=5), failing_minutes=6
    )


def test_more_than_three_hypotheses_fires_the_contract_rule() -> None:
    """Behaviour 13: 4 hypotheses fire contract.hypotheses; 3 do not; the limit is configurable."""
    assert "contract.hypotheses" in _fired("CONTRACT", hypotheses=4)
    assert "contract.hypotheses" not in _fired("CONTRACT", hypotheses=3)
    assert "contract.hypotheses" in _fired("CONTRACT", Thresholds(max_hypotheses=2), hypotheses=3)


@pytest.mark.parametrize(
    ("mode", "facts", "rule"),
    [
        ("PIPELINE", {"passed_check_types": [CheckType.SMOKE]}, "pipeline.unverified_outputs"),
        ("SERVICE", {"passed_check_types": []}, "service.unbounded_live_changes"),
        ("TOOLSMITH", {"missing_evidence": ["consumer_example"]}, "toolsmith.no_adoption_path"),
        (
            "GOVERNANCE",
            {"missing_evidence": ["constraint"]},
            "governance.plans_without_constraints",
        ),
        ("CONTACT", {"missing_evidence": ["touches"]}, "contact.endless_drafting"),
    ],
)
def test_each_mode_rule_fires_on_its_condition(
    mode: str, facts: dict[str, object], rule: str
) -> None:
    """Every mode-specific stop rule of the seed fires when its condition holds."""
    assert rule in _fired(mode, **facts)


def test_mode_rules_stay_quiet_when_the_evidence_is_there() -> None:
    """A PIPELINE run with a passing content validation does not fire the PIPELINE rule."""
    assert _fired("PIPELINE", passed_check_types=[CheckType.CONTENT_VALIDATION]) == []


def test_a_pattern_is_met_by_satisfies_check_types_outputs_and_the_next_pointer() -> None:
    """Behaviour 9 (evidence patterns): items are met by what provided them; what is missing
    is listed; optional items never block."""
    pipeline = effective_pattern(DEFAULT_REGISTRY.get("PIPELINE"))
    facts = PatternFacts(passed_check_types=[CheckType.CONTENT_VALIDATION], nonempty_outputs=["a"])
    verdict = evaluate_pattern("PIPELINE", pipeline, facts, has_next_pointer=False)
    assert verdict.complete is True
    assert verdict.missing_optional == ["manifest"]
    toolsmith = effective_pattern(DEFAULT_REGISTRY.get("TOOLSMITH"))
    partial = PatternFacts(provided={"usage": ["step:help"]})
    verdict = evaluate_pattern("TOOLSMITH", toolsmith, partial, has_next_pointer=False)
    assert verdict.missing == ["interface", "smoke", "consumer_example"]
    governance = effective_pattern(DEFAULT_REGISTRY.get("GOVERNANCE"))
    facts = PatternFacts(provided={"decision": ["x"], "constraint": ["y"]})
    assert evaluate_pattern("GOVERNANCE", governance, facts, has_next_pointer=True).complete
    assert not evaluate_pattern("GOVERNANCE", governance, facts, has_next_pointer=False).complete


def test_an_operator_can_make_optional_items_required_and_add_its_own() -> None:
    """Naming 'manifest' makes it required; a new item is added to the pattern."""
    items = effective_pattern(DEFAULT_REGISTRY.get("PIPELINE"), ["manifest", "sign_off"])
    required = {i.id for i in items if i.required}
    assert {"manifest", "sign_off"} <= required


def test_templates_substitute_per_argument_and_escape_braces() -> None:
    """{name} is replaced by the value as one string (no shell); {{ }} are literal braces."""
    values = {"x": "a b; rm -rf /", "n": 3, "flag": True}
    assert render("--x={x}", values) == "--x=a b; rm -rf /"
    assert render("{{literal}} {n} {flag}", values) == "{literal} 3 true"
    assert placeholders("{a}-{b}") == ["a", "b"]
    with pytest.raises(ValidationError, match="no value"):
        render("{missing}", values, field="steps[0].run[1]")
    with pytest.raises(ValidationError, match="stray"):
        placeholders("{unclosed", field="f")

"""The mode registry as data, extensible from the project's config (SPEC §3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runwright.config import load_settings
from runwright.domain.execmodel.checks import CheckType
from runwright.domain.execmodel.modes import MODEL_ANALYZE, ModeExtension, StopTrigger
from runwright.domain.execmodel.registry import DEFAULT_REGISTRY
from runwright.errors import ConfigError, ValidationError
from runwright.execmodel.config import load_config, load_registry


def test_the_six_modes_are_registered_in_the_seed_table_order() -> None:
    """SERVICE, CONTRACT, TOOLSMITH, PIPELINE, GOVERNANCE, CONTACT — the classifier's order."""
    assert DEFAULT_REGISTRY.ids() == [
        "SERVICE",
        "CONTRACT",
        "TOOLSMITH",
        "PIPELINE",
        "GOVERNANCE",
        "CONTACT",
    ]


def test_every_mode_carries_intent_outputs_risk_pattern_and_a_stop_rule() -> None:
    """Each built-in mode has the seed's intent, typical outputs, primary risk, an evidence
    pattern with required items, and one mode-specific stop rule."""
    for mode in DEFAULT_REGISTRY.modes:
        assert mode.intent
        assert mode.primary_risk
        assert mode.typical_outputs
        assert any(r.required for r in mode.evidence_pattern)
        assert len(mode.stop_rules) == 1
        assert mode.stop_rules[0].mode_id == mode.mode_id
    toolsmith = DEFAULT_REGISTRY.get("toolsmith")
    assert [r.id for r in toolsmith.evidence_pattern] == [
        "interface",
        "usage",
        "smoke",
        "consumer_example",
    ]
    assert DEFAULT_REGISTRY.get("PIPELINE").requirement("content_gate").check_types == [  # type: ignore[union-attr]
        CheckType.CONTENT_VALIDATION
    ]


def test_universal_stop_rules_cover_the_timebox_and_the_40_minute_rule() -> None:
    """The universal rules are the timebox rule and the debugging rule, for every mode."""
    triggers = [r.trigger for r in DEFAULT_REGISTRY.stop_rules("SERVICE")]
    assert triggers[:2] == [StopTrigger.OVER_TIMEBOX, StopTrigger.FAILING_WITHOUT_REPRO]
    assert DEFAULT_REGISTRY.stop_rules("CONTRACT")[-1].trigger == StopTrigger.HYPOTHESES_OVER


def test_model_analyze_is_a_tag_not_a_mode() -> None:
    """MODEL/ANALYZE is a known tag; asking for it as a mode is refused, saying it is a tag."""
    assert MODEL_ANALYZE in DEFAULT_REGISTRY.tags
    assert "MODEL/ANALYZE" not in DEFAULT_REGISTRY
    with pytest.raises(ValidationError, match="is a tag, not a mode"):
        DEFAULT_REGISTRY.check("model/analyze")
    assert DEFAULT_REGISTRY.check_tag("model/analyze") == MODEL_ANALYZE


def test_an_unknown_mode_is_refused_naming_the_known_ones() -> None:
    """A misspelt mode names the field and lists the modes."""
    with pytest.raises(ValidationError) as err:
        DEFAULT_REGISTRY.check("PIPELIN", field="--mode")
    assert "--mode" in str(err.value)
    assert "PIPELINE" in (err.value.hint or "")


def test_extensions_add_modes_after_the_builtins_and_keywords_to_builtins() -> None:
    """A project mode joins the end of the table; extra keywords extend a built-in mode."""
    registry = DEFAULT_REGISTRY.extended(
        [
            ModeExtension(mode_id="RESEARCH", intent="Find out", primary_risk="rabbit holes"),
            ModeExtension(mode_id="PIPELINE", extra_keywords=["parquet"]),
        ]
    )
    assert registry.ids()[-1] == "RESEARCH"
    assert "parquet" in registry.get("PIPELINE").keywords
    assert "csv" in registry.get("PIPELINE").keywords


def test_a_new_mode_without_intent_is_refused() -> None:
    """A project mode needs intent and primary_risk; the error names the field."""
    with pytest.raises(ValidationError, match="intent"):
        DEFAULT_REGISTRY.extended([ModeExtension(mode_id="RESEARCH", primary_risk="x")])


def _settings(tmp_path: Path, toml: str, modes_yaml: str | None = None):  # type: ignore[no-untyped-def]
    home = tmp_path / ".runwright"
    home.mkdir()
    (home / "config.toml").write_text(toml)
    if modes_yaml is not None:
        (home / "modes.yaml").write_text(modes_yaml)
    return load_settings(env={}, overrides={"home": home})


def test_config_toml_and_modes_yaml_extend_the_registry_and_set_thresholds(tmp_path: Path) -> None:
    """[execmodel] sets thresholds and modes; .runwright/modes.yaml adds modes and tags."""
    settings = _settings(
        tmp_path,
        "[execmodel]\ndebug_minutes = 25\nmax_hypotheses = 2\n"
        '[execmodel.modes.RESEARCH]\nintent = "Find out"\nprimary_risk = "drift"\n'
        'keywords = ["spike"]\n',
        "modes:\n  OPS:\n    intent: Run things\n    primary_risk: toil\n    keywords: [oncall]\n"
        "tags: [DEEP-WORK]\n",
    )
    config = load_config(settings)
    assert config.thresholds.debug_minutes == 25
    assert config.thresholds.max_hypotheses == 2
    registry = load_registry(settings, config)
    assert registry.ids()[-2:] == ["RESEARCH", "OPS"]
    assert "DEEP-WORK" in registry.tags


def test_a_bad_execmodel_setting_names_the_file_and_field(tmp_path: Path) -> None:
    """A negative threshold is a ConfigError naming config.toml and the key."""
    settings = _settings(tmp_path, "[execmodel]\ndebug_minutes = -1\n")
    with pytest.raises(ConfigError) as err:
        load_config(settings)
    assert "config.toml" in str(err.value)
    assert "debug_minutes" in str(err.value)


def test_a_bad_modes_yaml_names_the_file(tmp_path: Path) -> None:
    """An unknown key in modes.yaml is refused naming the file."""
    settings = _settings(tmp_path, "", "moods: {}\n")
    with pytest.raises(ConfigError, match=r"modes\.yaml"):
        load_registry(settings)

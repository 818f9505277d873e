"""Command templates, adapters, prompt instances and the part's files (router.yaml,
policy.yaml, phase specs): validated on load with errors naming file, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError

from runwright.domain.ids import new_id
from runwright.domain.patches_prompts import PromptInstance, PromptKind, PromptSections
from runwright.domain.policy import ConstraintWeakened, effective_policy
from runwright.domain.router_specs import ExecutionRequest, ResourceScope
from runwright.errors import ConfigError
from runwright.patches.adapters import adapters
from runwright.patches.commands import expand, run_command
from runwright.patches.config_files import load_policy_file
from runwright.patches.prompts import build_sections, render
from runwright.patches.router_files import find_phase, load_router


def test_templates_expand_to_argv_without_a_shell() -> None:
    """{files} expands to one argument per file; other values stay one argument each, even
    with spaces or shell metacharacters; {{ }} are literal braces."""
    argv = expand(
        ["tool", "--msg={objective}", "{files}", "--lit={{x}}", "{prompt_file}"],
        {"objective": "fix; rm -rf /", "files": ["a b.py", "c.py"], "prompt_file": "/p/prompt.md"},
    )
    assert argv == ["tool", "--msg=fix; rm -rf /", "a b.py", "c.py", "--lit={x}", "/p/prompt.md"]


def test_an_unknown_placeholder_is_a_config_error() -> None:
    """A typo in a placeholder names the element and lists the known ones."""
    with pytest.raises(ConfigError, match="promptfile"):
        expand(["tool", "{promptfile}"], {"prompt_file": "x"})


def test_commands_time_out_and_their_process_group_is_killed(tmp_path: Path) -> None:
    """A command past its timeout is killed (with its children) and reported as timed out."""
    script = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    )
    import sys

    result = run_command(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        timeout=0.5,
        output_dir=tmp_path / "out",
        name="slow",
    )
    assert result.timed_out
    assert not result.ok
    assert "timed out" in result.describe()
    missing = run_command(
        ["no-such-tool-xyz"], cwd=tmp_path, timeout=5, output_dir=tmp_path / "out", name="missing"
    )
    assert missing.missing
    assert "not found" in missing.describe()


def test_shipped_adapters_cover_the_common_agent_clis() -> None:
    """aider, claude, codex and generic ship; the first three have argv commands with a way
    to receive the prompt; generic leaves the command to router.yaml."""
    found = adapters()
    assert set(found) == {"aider", "claude", "codex", "generic"}
    assert "{prompt_file}" in (found["aider"].command or [])
    assert found["claude"].stdin == "prompt"
    assert found["codex"].stdin == "prompt"
    assert found["generic"].command is None


def test_router_yaml_errors_name_file_and_field(tmp_path: Path) -> None:
    """A broken router.yaml is refused naming the file and the field; a missing one says how
    to create it; an app without a command says to give one or an adapter."""
    home = tmp_path / ".runwright"
    with pytest.raises(ConfigError, match="no router configuration") as missing:
        load_router(home)
    assert "docs/patches.md" in (missing.value.hint or "")
    home.mkdir()
    (home / "router.yaml").write_text("version: '1'\napps:\n  t:\n    command: 'aider --yes'\n")
    with pytest.raises(ConfigError) as bad:
        load_router(home)
    assert "router.yaml" in bad.value.message
    assert bad.value.fields["field"] == "apps.t.command"
    (home / "router.yaml").write_text("version: '1'\napps:\n  t:\n    adapter: generic\n")
    with pytest.raises(ConfigError, match=r"apps\.t: no command"):
        load_router(home)
    (home / "router.yaml").write_text("version: '1'\napps:\n  t:\n    adapter: aider\n")
    assert load_router(home).apps["t"].command == adapters()["aider"].command


def test_policy_yaml_refuses_a_project_level_weaker_than_global(tmp_path: Path) -> None:
    """policy.yaml's project level may only tighten its global level; the error names the file."""
    (tmp_path / "policy.yaml").write_text(
        "global:\n  max_lines_changed: 300\nproject:\n  max_lines_changed: 500\n"
    )
    with pytest.raises(ConstraintWeakened) as err:
        load_policy_file(tmp_path, "p")
    assert "policy.yaml" in err.value.message
    assert err.value.fields["field"] == "max_lines_changed"
    (tmp_path / "policy.yaml").write_text("global:\n  max_lines: 3\n")
    with pytest.raises(ConfigError, match=r"global\.max_lines"):
        load_policy_file(tmp_path, "p")


def test_phase_specs_are_found_or_named_as_missing_or_invalid(tmp_path: Path) -> None:
    """No phases declared → any phase passes; an unknown one → phase_not_found; a broken one
    → phase_spec_invalid."""
    assert find_phase(tmp_path, "x").code is None
    phases = tmp_path / "phases"
    phases.mkdir()
    (phases / "core.yaml").write_text("phase_id: PH-CORE\nname: Core\ncategory: implementation\n")
    (phases / "broken.yaml").write_text("phase_id: PH-BROKEN\nname: Broken\n")
    assert find_phase(tmp_path, "PH-CORE").phase is not None
    assert find_phase(tmp_path, "PH-NOPE").code == "phase_not_found"
    broken = find_phase(tmp_path, "PH-BROKEN")
    assert broken.code == "phase_spec_invalid"
    assert "category" in (broken.problem or "")


def test_a_code_edit_prompt_must_ask_for_a_unified_diff() -> None:
    """A code_edit prompt instance whose OUTPUT_SPEC does not demand a unified diff is invalid."""
    with pytest.raises(PydanticValidationError, match="unified diff"):
        PromptInstance(
            prompt_instance_id=new_id(),
            template_id="t",
            target_tool="x",
            kind=PromptKind.CODE_EDIT,
            sections=PromptSections(OBJECTIVE="do", OUTPUT_SPEC="just do it"),
        )


def test_prompts_render_all_sections_per_tool_and_can_be_overridden(tmp_path: Path) -> None:
    """The six sections render for each shipped template; .runwright/prompts/<id>.md.j2 wins."""
    request = ExecutionRequest(
        request_id=new_id(),
        project_id="p",
        phase_id="ph",
        task_kind="code_edit",
        objective="Make add() add",
        files=["src/calc.py"],
    )
    sections = build_sections(
        request,
        kind=PromptKind.CODE_EDIT,
        policy=effective_policy([]),
        scopes=[ResourceScope(write=["src/**"], forbidden=["secrets/**"])],
        phase=None,
        test_commands=[["pytest", "-q"]],
    )
    for template in ("default", "aider", "claude", "codex"):
        text = render(
            sections,
            template_id=template,
            target_tool=template,
            kind=PromptKind.CODE_EDIT,
            home=tmp_path,
        ).rendered
        for name in (
            "OBJECTIVE",
            "CONTEXT",
            "CONSTRAINTS",
            "FILES_SCOPE",
            "OUTPUT_SPEC",
            "VALIDATION",
        ):
            assert f"# {name}" in text, (template, name)
        assert "focus on: src/calc.py" in text
        assert "pytest -q" in text
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "default.md.j2").write_text("CUSTOM {{ sections.OBJECTIVE }}\n")
    custom = render(
        sections, template_id="default", target_tool="x", kind=PromptKind.CODE_EDIT, home=tmp_path
    )
    assert custom.rendered == "CUSTOM Make add() add\n"
    with pytest.raises(ConfigError, match="no prompt template"):
        render(
            sections, template_id="nope", target_tool="x", kind=PromptKind.CODE_EDIT, home=tmp_path
        )

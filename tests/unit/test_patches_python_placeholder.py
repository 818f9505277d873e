"""`{python}` in router, policy and phase commands: the interpreter running runwright,
resolved when a command is expanded (and shown resolved in prompts), never written into
configuration files."""

from __future__ import annotations

import sys

from runwright.domain.ids import new_id
from runwright.domain.patches_prompts import PromptKind
from runwright.domain.policy import effective_policy
from runwright.domain.router_specs import ExecutionRequest
from runwright.patches.commands import expand, with_python
from runwright.patches.prompts import build_sections


def test_python_is_a_built_in_placeholder() -> None:
    """`{python}` expands to this interpreter as a whole element and inside text, beside the
    caller's values; a value the caller gives for it wins."""
    argv = expand(["{python}", "-m", "pytest", "--root={python}", "{worktree}"], {"worktree": "w"})
    assert argv == [sys.executable, "-m", "pytest", f"--root={sys.executable}", "w"]
    assert expand(["{python}"], {"python": "/opt/py"}) == ["/opt/py"]


def test_with_python_resolves_only_python() -> None:
    """Text for people and agents resolves `{python}` and leaves other placeholders and
    escaped braces as written."""
    shown = with_python(["{python}", "-m", "pytest", "{tests}", "{{x}}"])
    assert shown == [sys.executable, "-m", "pytest", "{tests}", "{{x}}"]


def test_a_prompt_shows_the_test_command_resolved() -> None:
    """The VALIDATION section tells the tool the command it can run, not the placeholder."""
    request = ExecutionRequest(
        request_id=new_id(),
        project_id="p",
        phase_id="adhoc",
        task_kind="code_edit",
        objective="fix it",
    )
    sections = build_sections(
        request,
        kind=PromptKind.CODE_EDIT,
        policy=effective_policy([]),
        scopes=[],
        phase=None,
        test_commands=[["{python}", "-m", "pytest", "-q"]],
    )
    assert f"{sys.executable} -m pytest -q" in sections.VALIDATION
    assert "{python}" not in sections.VALIDATION

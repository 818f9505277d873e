"""Routing of the plan template `runwright init` writes: agent CLIs found on PATH (fake
executables named claude, codex and aider) take every role of every profile's plan, through
the router rule init generates; without them each role is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from runwright.bootstrap.catalog import profile as get_profile
from runwright.bootstrap.runner import init_project
from runwright.domain.router_decision import decide
from runwright.patches.router_files import load_router
from runwright.plans.contract import load_plan
from runwright.plans.delegation import phase_spec
from runwright.plans.routability import dry_request, unroutable_roles
from tests.integration.test_bootstrap_init import PY_PACKAGE, make_repo, tool_env

PROFILES = ["software-dev-python", "data-pipeline", "operations", "documentation", "generic"]
AGENTS = {"claude": "1.0.3 (Claude Code)", "codex": "codex-cli 0.2.0", "aider": "aider 0.80.0"}


def plan_file(repo: Path) -> Path:
    """The plan template init wrote."""
    [path] = (repo / ".runwright" / "plans").glob("*.yaml")
    return path


@pytest.mark.parametrize("profile_id", PROFILES)
def test_agent_clis_take_every_role_of_the_plan_template(tmp_path: Path, profile_id: str) -> None:
    """With claude, codex and aider on PATH, router.yaml has an app for each and a rule
    routing the profile's task kinds to them; every role of the plan template lists them,
    and a dry route of each phase is accepted by that rule (validators attached)."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    init_project(repo, profile=profile_id, env=tool_env(tmp_path, **AGENTS))
    home = repo / ".runwright"
    config = load_router(home)
    assert {"aider", "claude", "codex"} <= set(config.apps)
    plan = load_plan(plan_file(repo))
    for name, role in plan.roles.items():
        assert role.tools == ["aider", "claude", "codex"], name
    assert unroutable_roles(plan, config) == []
    rule = f"{profile_id}-changes"
    for phase in plan.phases:
        decision = decide(config, dry_request(plan, phase), phase=phase_spec(plan, phase))
        assert decision.accepted, (phase.phase_id, decision.explanation)
        assert (decision.rule_id, decision.selected) == (rule, "aider")
        assert decision.fallbacks == ["claude", "codex"]
    task_kinds = {role.task_kind for role in plan.roles.values()}
    extension = get_profile(profile_id).extension
    assert task_kinds <= set(extension.adds_task_kinds)


@pytest.mark.parametrize("profile_id", PROFILES)
def test_without_agent_clis_every_role_is_refused_by_name(tmp_path: Path, profile_id: str) -> None:
    """With no agent CLI the template still loads, its roles list the generic tidy tool, and
    each role used by a phase is refused (no_routable_tool_for_phase) with the fix."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    init_project(repo, profile=profile_id, env=tool_env(tmp_path))
    plan = load_plan(plan_file(repo))
    refused = unroutable_roles(plan, load_router(repo / ".runwright"))
    used = list(dict.fromkeys(p.owner_role for p in plan.phases))
    assert [r.role for r in refused] == used
    for r in refused:
        assert r.tools == ["generic"]
        assert r.code == "no_routable_tool_for_phase"
        assert r.takes == {"generic": ["format"]}
        assert f"roles.{r.role}.tools" in r.correction

"""`init_project` on real repositories built in temporary folders (git init + files), with a
controlled PATH: discovery, selection, composition, generation, validation and the report."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runwright.bootstrap.runner import init_project
from runwright.domain.bootstrap import ArtifactAction, BootstrapStatus
from runwright.domain.execmodel.registry import DEFAULT_REGISTRY
from runwright.domain.profiles import Domain, ProjectProfile
from runwright.errors import ConfigError
from runwright.execmodel.loader import load_operators
from runwright.patches.config_files import load_policy_file
from runwright.patches.router_files import find_phase, load_router
from runwright.plans.contract import load_plan

PY_PACKAGE = {
    "pyproject.toml": (
        '[project]\nname = "calc"\nversion = "0.1.0"\n\n'
        '[tool.pytest.ini_options]\npythonpath = ["src"]\n'
    ),
    "src/calc/__init__.py": (
        '"""Calculator."""\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n'
    ),
    "src/calc/ops.py": (
        '"""More operations."""\n\n\ndef sub(a: int, b: int) -> int:\n    return a - b\n'
    ),
    "src/calc/cli.py": '"""A CLI."""\n\n\ndef main() -> None:\n    print("calc")\n',
    "tests/test_calc.py": (
        "from calc import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 3\n"
    ),
    ".gitignore": "build/\n*.log\n",
    "debug.log": "ignored\n",
}
DBT_PROJECT = {
    "dbt_project.yml": "name: shop\nversion: '1.0'\nmodel-paths: [models]\n",
    "models/staging/stg_orders.sql": "select id, amount from {{ source('raw', 'orders') }}\n",
    "models/marts/orders.sql": (
        "select id, sum(amount) as total\nfrom {{ ref('stg_orders') }}\ngroup by id\n"
    ),
    "models/marts/customers.sql": "select 1 as id\n",
    "models/marts/schema.yml": (
        "version: 2\n"
        "models:\n"
        "  - name: orders\n"
        "    columns:\n"
        "      - name: id\n"
        "        tests: [unique, not_null]\n"
    ),
    "README.md": "# Shop\n",
}
INFRA = {
    "main.tf": 'terraform {\n  required_version = ">= 1.5"\n}\n\nresource "null_resource" "x" {}\n',
    "variables.tf": 'variable "region" {\n  default = "eu-west-1"\n}\n',
    "k8s/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n"
    ),
    "k8s/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
    "k8s/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "resources: [deployment.yaml, service.yaml]\n"
    ),
}
DOCS_SITE = {
    "mkdocs.yml": "site_name: Handbook\nnav:\n  - Home: index.md\n",
    "docs/index.md": "# Handbook\n\nStart with [the guide](guide/setup.md).\n",
    "docs/guide/setup.md": "# Setup\n\n## Install\n\nBack to [home](../index.md#handbook).\n",
    "docs/guide/usage.md": "# Usage\n\nSee [setup](setup.md#install).\n",
    "README.md": "# Handbook source\n",
}


def make_repo(root: Path, files: dict[str, str], *, git: bool = True) -> Path:
    """A folder with ``files`` (and ``git init`` when asked)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def tool_env(tmp_path: Path, **programs: str) -> dict[str, str]:
    """An environment whose PATH holds only git, a python3 running this interpreter (with
    pytest and ruff), and the given fake programs (name → what they print)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    git = shutil.which("git")
    assert git is not None
    (bin_dir / "git").symlink_to(git)
    scripts = {
        "python3": f'exec "{sys.executable}" "$@"',
        **{k: f"echo '{v}'" for k, v in programs.items()},
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return {**os.environ, "PATH": str(bin_dir)}


def codes(result: object) -> list[str]:
    """The warning codes of a result's report."""
    v = result.report.validation_results  # type: ignore[attr-defined]
    return sorted({w.code for w in v.warnings})


def test_python_package_is_ready_for_workstreams(tmp_path: Path) -> None:
    """A Python package (src layout, tests, pyproject) → software-dev/0.8 →
    software-dev-python; with pytest and ruff present the only warning is the missing docs
    folder, so the status is ready and ready_for_workstreams is true."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    result = init_project(repo, env=tool_env(tmp_path))
    d = result.discovery.discovery
    assert (d.domain, d.domain_confidence, d.vcs) == (Domain.SOFTWARE_DEV, 0.8, "git")
    assert d.project_name == "calc"
    assert d.languages[0].language == "python"
    assert "debug.log" not in result.discovery.listing.files
    assert d.directory_structure.src_dirs == ["src"]
    assert d.directory_structure.test_dirs == ["tests"]
    assert d.inferred_constraints.tests_must_pass
    assert {"python", "git", "pytest", "ruff"} <= {t.tool_id for t in d.available_tools}
    report = result.report
    assert report.profile_id == "software-dev-python"
    assert codes(result) == ["missing_path"]
    assert report.status is BootstrapStatus.READY
    assert report.ready_for_workstreams
    assert report.configuration.max_lines_per_patch == 300
    assert report.next_steps.for_human
    assert report.next_steps.for_ai_agent
    on_disk = json.loads((repo / ".runwright/bootstrap_report.json").read_text())
    assert on_disk["status"] == "ready"
    log = [json.loads(x) for x in (repo / ".runwright/bootstrap.log").read_text().splitlines()]
    assert [e["event"] for e in log][:3] == ["discovery", "selection", "composition"]
    assert log[-1] == {**log[-1], "event": "report", "status": "ready"}


def test_generated_artifacts_load_with_the_existing_loaders(tmp_path: Path) -> None:
    """router.yaml, policy.yaml, operators, phases, the plan and profile.json load with the
    loaders the rest of runwright uses, and say what the profile says."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    init_project(repo, env=tool_env(tmp_path))
    home = repo / ".runwright"
    for name in ("evidence", "worktrees", "quarantine"):
        assert (home / name).is_dir()
    router = load_router(home)
    assert router.apps["generic"].command
    assert router.apps["pytest"].kind.value == "validator"
    assert router.apps["ruff"].command[-3:] == ["check", "--no-cache", "."]
    policy = load_policy_file(home, "calc")
    assert policy.project is not None
    assert policy.project.max_lines_changed == 300
    assert policy.project.ascii_only is True
    assert policy.verify.test_command is not None
    ops = {lo.operator.op_id for lo in load_operators(home / "operators", DEFAULT_REGISTRY)}
    assert ops == {"CheckPythonProject", "SmokeCheckRepository"}
    assert find_phase(home, "adhoc").phase is not None
    core = find_phase(home, "PH-CORE-01").phase
    assert core is not None
    assert core.resource_scope.write == ["src/**", "tests/**"]
    assert ".git/**" in core.resource_scope.forbidden
    plan = load_plan(home / "plans" / "example-change.yaml")
    assert plan.test_command == [*(policy.verify.test_command or []), "{tests}"]
    assert (repo / plan.test_spec).is_file()
    profile = ProjectProfile.model_validate_json((home / "profile.json").read_text())
    assert profile.profile_id == "software-dev-python"
    assert profile.constraints.max_files_changed == 10
    ignored = (home / ".gitignore").read_text().splitlines()
    assert "*" not in ignored
    assert {"/state.db", "/evidence/", "/worktrees/"} <= set(ignored)
    assert "[core]" in (home / "config.toml").read_text()


def test_empty_folder_gets_the_generic_profile_and_asks_a_human(tmp_path: Path) -> None:
    """An empty folder (not even git) → mixed/0.5 → generic; the low confidence is a human
    decision and a warning, so the bootstrap is partial, not ready."""
    repo = tmp_path / "empty"
    repo.mkdir()
    result = init_project(repo, env=tool_env(tmp_path))
    d = result.discovery.discovery
    assert (d.domain, d.domain_confidence, d.vcs, d.languages) == (Domain.MIXED, 0.5, None, [])
    report = result.report
    assert report.profile_id == "generic"
    assert report.status is BootstrapStatus.PARTIAL
    assert not report.ready_for_workstreams
    assert any(
        "confirm profile generic" in h for h in report.validation_results.human_decisions_needed
    )  # type: ignore[union-attr]
    assert load_router(repo / ".runwright").apps


def test_dbt_project_is_a_data_pipeline(tmp_path: Path) -> None:
    """A dbt-like SQL project → data-pipeline (rule D1) with its SQL validator as the test
    command and the model folders as phase scopes."""
    repo = make_repo(tmp_path / "shop", DBT_PROJECT)
    result = init_project(repo, env=tool_env(tmp_path))
    d = result.discovery.discovery
    assert (d.domain, d.domain_rule) == (Domain.DATA_PIPELINE, "D1")
    assert result.report.profile_id == "data-pipeline"
    assert d.directory_structure.data_dirs == ["models"]
    home = repo / ".runwright"
    model = find_phase(home, "PH-MODEL-01").phase
    assert model is not None
    assert model.resource_scope.write == ["models/**"]
    policy = load_policy_file(home, "shop")
    assert policy.verify.test_command is not None
    assert policy.verify.test_command[-3:] == ["sql", "--paths", "models"]
    assert "sql-check" in load_router(home).apps
    plan = load_plan(home / "plans" / "example-model-change.yaml")
    assert plan.test_command[0] == "{python}"
    assert result.report.configuration.patch_only_mode is False


def test_terraform_and_kubernetes_folder_is_operations(tmp_path: Path) -> None:
    """Terraform files and Kubernetes manifests → operations; a terraform found on PATH is
    probed for its version and its fmt check is kept in the operator."""
    repo = make_repo(tmp_path / "infra", INFRA)
    env = tool_env(tmp_path, terraform="Terraform v1.5.7 on linux_amd64")
    result = init_project(repo, env=env)
    d = result.discovery.discovery
    assert d.domain is Domain.OPERATIONS
    assert {"terraform", "kubernetes", "kustomize"} <= {h.framework for h in d.frameworks}
    assert next(t for t in d.available_tools if t.tool_id == "terraform").version == "1.5.7"
    assert result.report.profile_id == "operations"
    home = repo / ".runwright"
    [op] = [
        lo.operator
        for lo in load_operators(home / "operators", DEFAULT_REGISTRY)
        if lo.operator.op_id == "CheckManifests"
    ]
    assert {c.id for c in op.acceptance_checks} == {"manifests-valid", "terraform-fmt"}
    assert load_policy_file(home, "infra").project.min_reviewers == 1  # type: ignore[union-attr]


def test_operations_without_terraform_drops_its_check_with_a_warning(tmp_path: Path) -> None:
    """Without terraform on PATH the fmt step and check are left out of the operator, with a
    missing_tool warning and an auto-fix; the status is partial."""
    repo = make_repo(tmp_path / "infra", INFRA)
    result = init_project(repo, env=tool_env(tmp_path))
    assert "missing_tool" in codes(result)
    assert any("terraform" in f for f in result.report.validation_results.auto_fixes_applied)  # type: ignore[union-attr]
    assert result.report.status is BootstrapStatus.PARTIAL
    ops = load_operators(repo / ".runwright/operators", DEFAULT_REGISTRY)
    [op] = [lo.operator for lo in ops if lo.operator.op_id == "CheckManifests"]
    assert [c.id for c in op.acceptance_checks] == ["manifests-valid"]


def test_docs_site_is_documentation(tmp_path: Path) -> None:
    """A MkDocs site → documentation with the docs check scoped to docs/."""
    repo = make_repo(tmp_path / "handbook", DOCS_SITE)
    result = init_project(repo, env=tool_env(tmp_path))
    d = result.discovery.discovery
    assert d.domain is Domain.DOCUMENTATION
    assert "mkdocs" in {h.framework for h in d.frameworks}
    assert result.report.profile_id == "documentation"
    assert result.report.configuration.test_requirement is False
    doc = find_phase(repo / ".runwright", "PH-DOC-01").phase
    assert doc is not None
    assert "docs/**" in (doc.resource_scope.write or [])


def test_mixed_repository_composes_profiles_by_path(tmp_path: Path) -> None:
    """A Python package with a Markdown docs/ folder and a Terraform infra/ folder: the root
    is software-dev-python, docs/ documentation, infra/ operations; each sub-tree gets its
    phases and operator, and its constraints are the strictest of the profiles covering it."""
    files = {
        **PY_PACKAGE,
        "src/calc/more.py": "X = 1\n",
        "src/calc/extra.py": "Y = 2\n",
        "docs/index.md": "# Calc\n\nSee [usage](usage.md).\n",
        "docs/usage.md": "# Usage\n",
        "infra/main.tf": INFRA["main.tf"],
        "infra/vars.tf": INFRA["variables.tf"],
    }
    repo = make_repo(tmp_path / "mixed", files)
    result = init_project(repo, env=tool_env(tmp_path))
    mapping = result.report.profile_mapping
    assert mapping is not None
    assert {m.path: m.profile_id for m in mapping.mappings} == {
        "": "software-dev-python",
        "docs": "documentation",
        "infra": "operations",
    }
    docs = mapping.profile_for("docs/usage.md")
    assert docs.profile_id == "documentation"
    assert docs.constraints.max_lines_changed == 300
    assert docs.constraints.tests_must_pass
    assert docs.constraints.ascii_only
    infra = mapping.profile_for("infra/main.tf")
    assert infra.constraints.max_lines_changed == 200
    assert {c.field for c in mapping.conflicts if c.path == "docs"} >= {
        "tests_must_pass",
        "ascii_only",
    }
    home = repo / ".runwright"
    doc_phase = find_phase(home, "PH-DOC-01-docs").phase
    assert doc_phase is not None
    assert doc_phase.resource_scope.write == ["docs/**"]
    assert doc_phase.constraints.patch.max_lines_changed == 300
    ops = {lo.operator.op_id for lo in load_operators(home / "operators", DEFAULT_REGISTRY)}
    assert {"CheckPythonProject", "CheckDocsDocs", "CheckManifestsInfra"} <= ops
    assert '"docs" = "documentation"' in (home / "config.toml").read_text()


def test_rerun_is_idempotent(tmp_path: Path) -> None:
    """A second init changes nothing: every file is unchanged, byte for byte."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    first = init_project(repo, env=env)
    before = {
        p: p.read_bytes()
        for p in (repo / ".runwright").rglob("*")
        if p.is_file() and p.suffix != ".log" and p.name != "bootstrap_report.json"
    }
    second = init_project(repo, env=env)
    assert {d.action for d in first.decisions} == {ArtifactAction.CREATED}
    assert {d.action for d in second.decisions} == {ArtifactAction.UNCHANGED}
    after = {p: p.read_bytes() for p in before}
    assert after == before
    assert second.report.status is first.report.status


def test_an_edited_file_is_kept_without_force_and_replaced_with_it(tmp_path: Path) -> None:
    """A router.yaml the user edited survives a re-run (reported as kept, a next step says
    so); --force regenerates it; a deleted file is regenerated as an auto-fix."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    init_project(repo, env=env)
    router = repo / ".runwright/router.yaml"
    edited = router.read_text().replace("timeout_seconds: 1800", "timeout_seconds: 600")
    router.write_text(edited)
    (repo / ".runwright/phases/PH-TEST-01.yaml").unlink()
    again = init_project(repo, env=env)
    actions = {d.rel: d.action for d in again.decisions}
    assert actions[".runwright/router.yaml"] is ArtifactAction.KEPT
    assert actions[".runwright/phases/PH-TEST-01.yaml"] is ArtifactAction.CREATED
    assert router.read_text() == edited
    assert any("kept" in s for s in again.report.next_steps.for_human)
    assert any(
        "regenerated .runwright/phases/PH-TEST-01.yaml" in f
        for f in again.report.validation_results.auto_fixes_applied
    )  # type: ignore[union-attr]
    forced = init_project(repo, env=env, force=True)
    assert {d.rel: d.action for d in forced.decisions}[
        ".runwright/router.yaml"
    ] is ArtifactAction.REPLACED
    assert "timeout_seconds: 1800" in router.read_text()


def test_a_relaxed_constraint_needs_a_human(tmp_path: Path) -> None:
    """Behaviour 40: loosening the profile's max_lines_changed in policy.yaml makes the
    validation need a human, so the status is needs_human and not ready."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    init_project(repo, env=env)
    policy = repo / ".runwright/policy.yaml"
    policy.write_text(
        policy.read_text().replace("max_lines_changed: 300", "max_lines_changed: 1000")
    )
    result = init_project(repo, env=env)
    v = result.report.validation_results
    assert v is not None
    assert [e.code for e in v.errors] == ["constraint_relaxed"]
    assert "max_lines_changed" in v.human_decisions_needed[0]
    assert result.report.status is BootstrapStatus.NEEDS_HUMAN
    assert not result.report.ready_for_workstreams


def test_a_kept_file_that_no_longer_loads_needs_a_human(tmp_path: Path) -> None:
    """An operator the user broke is kept, named in an error and a human decision."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    init_project(repo, env=env)
    op = repo / ".runwright/operators/check_python.yaml"
    op.write_text(op.read_text().replace("timebox_minutes: 30", "timebox_minutes: -1"))
    result = init_project(repo, env=env)
    v = result.report.validation_results
    assert v is not None
    assert v.errors[0].code == "kept_file_invalid"
    assert v.errors[0].path == ".runwright/operators/check_python.yaml"
    assert result.report.status is BootstrapStatus.NEEDS_HUMAN


def test_config_paths_and_pinned_profile_are_honoured(tmp_path: Path) -> None:
    """A config.toml the user edited pins the profile and maps a folder; two spellings of
    the same folder mapped to different profiles are reported as a conflict."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path)
    init_project(repo, env=env)
    config = repo / ".runwright/config.toml"
    text = config.read_text().replace('# profile = "software-dev-python"', 'profile = "generic"')
    config.write_text(text + '"scripts" = "operations"\n"./scripts/" = "documentation"\n')
    result = init_project(repo, env=env)
    mapping = result.report.profile_mapping
    assert mapping is not None
    assert result.report.profile_id == "generic"
    assert mapping.profile_for("scripts/x.sh").profile_id == "operations"
    assert "composition_conflict" in codes(result)


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    """--dry-run discovers, generates and validates, and leaves the folder untouched."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    result = init_project(repo, env=tool_env(tmp_path), dry_run=True)
    assert result.report.dry_run
    assert not (repo / ".runwright").exists()


def test_hostile_input_is_skipped_not_followed(tmp_path: Path) -> None:
    """A symlink to a file outside, a dangling symlink, a FIFO named pyproject.toml, an
    unreadable file and a huge sparse file: init finishes, follows none of them, reads no
    FIFO, and records why each was skipped."""
    outside = tmp_path / "secret.py"
    outside.write_text("TOKEN = 1\n")
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n", "b.py": "y = 2\n"}, git=False)
    (repo / "link.py").symlink_to(outside)
    (repo / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    (repo / "outdir").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(repo / "pyproject.toml")
    locked = repo / "locked.py"
    locked.write_text("z = 3\n")
    locked.chmod(0)
    with (repo / "huge.sql").open("wb") as fh:
        fh.truncate(2 * 1024**3)
    try:
        result = init_project(repo, env=tool_env(tmp_path))
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
    skipped = {s.path: s.reason for s in result.discovery.discovery.skipped}
    assert skipped["link.py"] == "symlink pointing outside the project"
    assert "dangling" in skipped["dangling.py"]
    assert skipped["outdir"] == "symlink pointing outside the project"
    assert skipped["pyproject.toml"] == "not a regular file"
    files = result.discovery.listing.files
    assert "link.py" not in files
    assert "huge.sql" in files
    assert result.report.status is not BootstrapStatus.FAILED


def test_walk_honours_gitignore_outside_git(tmp_path: Path) -> None:
    """Outside a git work tree the walk honours .gitignore files (nested ones too) and skips
    virtualenvs and node_modules."""
    files = {
        ".gitignore": "build/\n*.tmp\n",
        "app/.gitignore": "local.py\n",
        "app/main.py": "x = 1\n",
        "app/local.py": "ignored\n",
        "build/gen.py": "ignored\n",
        "scratch.tmp": "ignored\n",
        "node_modules/lib/index.js": "ignored\n",
        "env/pyvenv.cfg": "home = /usr\n",
        "env/lib/site.py": "ignored\n",
    }
    repo = make_repo(tmp_path / "plain", files, git=False)
    result = init_project(repo, env=tool_env(tmp_path), dry_run=True)
    assert result.discovery.listing.via == "walk"
    assert result.discovery.listing.files == [".gitignore", "app/.gitignore", "app/main.py"]


def test_a_symlinked_home_is_refused(tmp_path: Path) -> None:
    """.runwright as a symlink is refused with one clear error; nothing is written there."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (repo / ".runwright").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ConfigError, match="symlink"):
        init_project(repo, env=tool_env(tmp_path))
    assert list(elsewhere.iterdir()) == []


def test_installed_agent_clis_are_routed(tmp_path: Path) -> None:
    """Agent CLIs found on PATH become router apps through their shipped adapters; the
    profile's task kinds go to the first, the others are fallbacks, pytest and ruff validate,
    and the plan's roles may use them."""
    repo = make_repo(tmp_path / "calc", PY_PACKAGE)
    env = tool_env(tmp_path, aider="aider 0.80.0", claude="1.0.3 (Claude Code)")
    result = init_project(repo, env=env)
    home = repo / ".runwright"
    router = load_router(home)
    assert router.apps["aider"].adapter == "aider"
    assert router.apps["aider"].command is not None
    assert router.apps["aider"].command[0] == "aider"
    [rule] = [r for r in router.routing.rules if r.id == "software-dev-python-changes"]
    assert rule.select_from == ["aider"]
    assert rule.fallback_to == ["claude"]
    assert rule.validate_with == ["pytest", "ruff"]
    assert rule.required
    plan = load_plan(home / "plans" / "example-change.yaml")
    assert plan.roles["implement-plan"].tools == ["aider", "claude"]
    assert result.report.status is BootstrapStatus.READY
    assert not any("install an agent CLI" in s for s in result.report.next_steps.for_human)

"""The operators `runwright init` generates really run: on the repositories they were made
for they pass and count; on a broken one their checks fail (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runwright.api.client import Client
from runwright.bootstrap.runner import init_project
from runwright.config import Settings
from runwright.domain.execmodel.checks import CheckStatus
from runwright.engine.clock import FakeClock
from tests.integration.test_bootstrap_init import (
    DBT_PROJECT,
    DOCS_SITE,
    PY_PACKAGE,
    make_repo,
    tool_env,
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Where each test builds its repository."""
    return tmp_path / "project"


def _client(settings: Settings, repo: Path, clock: FakeClock) -> Client:
    return Client.open(settings.model_copy(update={"project_root": repo}), clock=clock)


@pytest.fixture
def run_op(settings: Settings, clock: FakeClock) -> Iterator[object]:
    """Run a generated operator of a repository; returns its op-run view."""
    clients: list[Client] = []

    def run(repo: Path, op_id: str) -> object:
        client = _client(settings, repo, clock)
        clients.append(client)
        op = client.ops.operator(op_id, repo / ".runwright" / "operators").operator
        [view] = client.ops.run_operator(op, {})
        return view

    yield run
    for c in clients:
        c.close()


@pytest.mark.parametrize(
    ("files", "op_id"),
    [
        (PY_PACKAGE, "CheckPythonProject"),
        (DBT_PROJECT, "ValidateSqlModels"),
        (DOCS_SITE, "CheckDocs"),
        (PY_PACKAGE, "SmokeCheckRepository"),
    ],
)
def test_generated_operator_passes_on_its_project(
    project: Path, tmp_path: Path, run_op: object, files: dict[str, str], op_id: str
) -> None:
    """pytest+ruff on a Python package, the SQL validation on a dbt project, the link and
    heading check on a docs site and the smoke check: each passes with evidence."""
    repo = make_repo(project, files)
    init_project(repo, env=tool_env(tmp_path))
    view = run_op(repo, op_id)  # type: ignore[operator]
    failing = [
        (r.check_id, r.message) for r in view.record.acceptance_results if r.status != "PASS"
    ]
    assert view.record.result == CheckStatus.PASS, failing
    assert all(r.evidence_links for r in view.record.acceptance_results)


def test_generated_operator_fails_on_a_broken_project(
    project: Path, tmp_path: Path, run_op: object
) -> None:
    """A model with an unbalanced bracket makes ValidateSqlModels fail its content check."""
    repo = make_repo(project, {**DBT_PROJECT, "models/marts/broken.sql": "select (1\n"})
    init_project(repo, env=tool_env(tmp_path))
    view = run_op(repo, "ValidateSqlModels")  # type: ignore[operator]
    assert view.record.result == CheckStatus.FAIL
    [check] = view.record.acceptance_results
    assert check.check_id == "sql-clean"
    assert check.status == CheckStatus.FAIL

"""Under CI=true the PostgreSQL tests must run: with no server they fail, never skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ONE_PG_TEST = "tests/contract/test_runs.py::test_counts_by_state[postgres]"


def _pytest(ci: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        RUNWRIGHT_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/none",
        RUNWRIGHT_TEST_PG_BINARIES="none",
    )
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_PG_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(("ci", "outcome"), [(True, "1 error"), (False, "1 skipped")])
def test_missing_postgres_fails_under_ci_and_skips_elsewhere(ci: bool, outcome: str) -> None:
    """No server and no binaries: an error under CI=true, a skip on a developer's machine."""
    proc = _pytest(ci)
    assert outcome in proc.stdout, proc.stdout[-2000:]
    assert "no PostgreSQL answers" in proc.stdout

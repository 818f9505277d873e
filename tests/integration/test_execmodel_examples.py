"""Every example operator runs on this repository and counts (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runwright.api.client import Client
from runwright.config import Settings
from runwright.domain.execmodel.checks import CheckStatus
from runwright.engine.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "operators"
DEVSERVER = EXAMPLES / "service" / "devserver.py"


@pytest.fixture
def repo_client(settings: Settings, clock: FakeClock) -> Iterator[Client]:
    """A client whose project root is this repository (its store and evidence stay in tmp)."""
    c = Client.open(settings.model_copy(update={"project_root": ROOT}), clock=clock)
    yield c
    c.close()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_and_count(client: Client, op_id: str, inputs: dict[str, str] | None = None) -> None:
    op = client.ops.operator(op_id, EXAMPLES).operator
    [view] = client.ops.run_operator(op, inputs or {})
    results = view.record.acceptance_results
    failing = [(r.check_id, r.message) for r in results if r.status != "PASS"]
    assert view.record.result == CheckStatus.PASS, failing
    pointer = client.ops.suggested_next_pointer(view.run.run_id)
    assert pointer, "every example has a next pointer rule"
    client.ops.set_next_pointer(view.run.run_id, pointer)
    counted = client.ops.op_run(view.run.run_id)
    assert counted.counting is not None
    assert counted.counting.counts, counted.counting.reasons
    assert client.verify(view.run.run_id).ok


@pytest.mark.parametrize(
    "op_id",
    ["ExportRunLedger", "CheckCliHelp", "VerifyRunContract", "RecordWipLimit", "SendFollowUps"],
)
def test_an_example_operator_passes_and_counts(repo_client: Client, op_id: str) -> None:
    """PIPELINE (ledger → CSV + manifest), TOOLSMITH (--help, exit codes), CONTRACT (run_record
    schema), GOVERNANCE (WIP decision) and CONTACT (outbox + follow-ups) pass and count."""
    _run_and_count(repo_client, op_id)


def test_the_service_example_restarts_and_health_checks_a_local_server(
    repo_client: Client,
) -> None:
    """SERVICE: a real local HTTP server is restarted, health-checked, its log and runbook
    read; the run passes and counts. The server is stopped afterwards."""
    state = repo_client.settings.home / "devserver"
    port = free_port()
    start = [sys.executable, str(DEVSERVER), "start", "--port", str(port), "--state", str(state)]
    subprocess.run(start, check=True, capture_output=True, timeout=30)
    try:
        _run_and_count(repo_client, "CheckLocalHttp", {"port": str(port), "state": str(state)})
    finally:
        subprocess.run(
            [sys.executable, str(DEVSERVER), "stop", "--state", str(state)],
            check=False,
            capture_output=True,
            timeout=30,
        )

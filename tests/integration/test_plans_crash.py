"""A plan run survives its worker being SIGKILLed again and again in the middle of its stages:
it resumes where it was, never delegates a committed phase again and never commits twice — on
SQLite and PostgreSQL, with real worker processes and a real git repository."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from engine_jobs import SimulatedCrash
from plans_support import git, make_repo, open_client

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.domain.plan_completion import CompletionContract
from runwright.domain.states import TERMINAL_RUN_STATES, RunState
from runwright.plans import delegation
from tests.workers import start_worker

pytestmark = pytest.mark.slow

LEASE = 2.0


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example repository, with every scripted tool slowed down to widen the windows."""
    made = make_repo(tmp_path / "repo")
    path = made / ".runwright" / "router.yaml"
    config = yaml.safe_load(path.read_text())
    for app in config["apps"].values():
        command = app["command"]
        app["command"] = [*command[:-2], "--sleep", "0.4", *command[-2:]]
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return made


@pytest.fixture
def pc(repo: Path, db_url: str) -> Iterator[Client]:
    """A client on the repository (the real clock: workers in other processes share it)."""
    client = open_client(repo, db_url)
    yield client
    client.close()


def test_a_plan_killed_mid_stage_resumes_without_redoing_a_committed_phase(
    pc: Client, repo: Path, db_url: str, tmp_path: Path
) -> None:
    """SIGKILL the worker five times at random moments; the plan still completes, each phase
    is delegated once and committed once, and the contract is complete."""
    rng = random.Random(20261203)
    run = pc.plans.start(repo / "plans" / "greet.yaml")
    home = repo / ".runwright"
    log = tmp_path / "workers.log"
    kills = 0
    deadline = time.monotonic() + 240
    while kills < 5 and pc.get(run.run_id).state not in TERMINAL_RUN_STATES:
        worker = start_worker(home, db_url, lease=LEASE, log=log)
        time.sleep(rng.uniform(0.6, 2.5))
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        kills += 1
        assert time.monotonic() < deadline, "the plan did not progress"
    worker = start_worker(home, db_url, lease=LEASE, log=log)
    try:
        while pc.get(run.run_id).state not in TERMINAL_RUN_STATES:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    assert kills >= 2, "the plan finished before the worker could be killed twice"
    view = pc.plans.get(run.run_id)
    assert view.run.state is RunState.SUCCEEDED, log.read_text()[-3000:]
    rounds = sorted((d.phase_id, d.round) for d in view.phases)
    assert rounds == [("I1", 0), ("I2", 0), ("T1", 0), ("T2", 0)]
    subjects = git(repo, "log", "--format=%s").splitlines()
    for intent in (
        "test: greet(name)",
        "test: farewell(name)",
        "feat: greet(name)",
        "feat: farewell(name)",
    ):
        assert subjects.count(intent) == 1, subjects
    assert len(subjects) == 5
    assert view.record.completion is not None
    assert CompletionContract.model_validate(view.record.completion).execution_status.value == (
        "complete"
    )


def test_a_phase_cut_off_while_preparing_its_delegation_prepares_again(
    repo: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker dies inside a phase's routing step; the next worker routes again (the step is
    safe to repeat) and the plan completes, instead of the phase waiting for a person to
    reconcile a step that had no outside effect."""
    real_prepare = delegation.prepare
    crashes: list[str] = []

    def prepare_then_die_once(*args: Any, **kwargs: Any) -> Any:
        if not crashes:
            crashes.append("prepare")
            raise SimulatedCrash
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(delegation, "prepare", prepare_then_die_once)
    settings = load_settings(
        env={},
        overrides={"home": repo / ".runwright", "database_url": db_url, "lease_seconds": 0.5},
    )
    with Client.open(settings) as client:
        with pytest.raises(SimulatedCrash):
            client.plans.run(repo / "plans" / "greet.yaml", timeout=60)
        time.sleep(0.6)  # the dead worker's lease runs out
        (run,) = client.plans.list()
        view = client.plans.drive(run.run_id, timeout=60)
    assert crashes == ["prepare"]
    assert view.run.state is RunState.SUCCEEDED
    assert CompletionContract.model_validate(view.record.completion).execution_status.value == (
        "complete"
    )

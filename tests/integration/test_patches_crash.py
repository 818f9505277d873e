"""SIGKILL in the middle of applying a patch and of running an agent tool: the ledger is left
recoverable, nothing is applied twice, the user's checkout is never half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from patches_support import agent, git, head, init_repo, make_diff, write_router

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.domain.events import EventKind
from runwright.domain.patches_ledger import PatchState
from runwright.domain.states import RunState
from tests.workers import start_worker, worker_env

pytestmark = pytest.mark.slow

FILES = {"src/calc.py": "def add(a, b):\n    return a - b\n"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project whose add() subtracts."""
    return init_repo(tmp_path / "repo", FILES)


@pytest.fixture
def pc(repo: Path, db_url: str) -> Iterator[Client]:
    """A client with the real clock (workers in other processes share it)."""
    client = Client.open(
        load_settings(env={}, overrides={"home": repo / ".runwright", "database_url": db_url})
    )
    yield client
    client.close()


def wait_for(predicate: Callable[[], bool], what: str, seconds: float = 90.0) -> None:
    """Poll ``predicate`` until true (fails after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_process_killed_mid_apply_leaves_the_patch_recoverable(
    pc: Client, repo: Path, db_url: str, tmp_path: Path
) -> None:
    """`runwright patch apply` is SIGKILLed while git builds the worktree: the patch stays
    queued with a dead owner, the checkout is untouched; applying again settles the interrupted
    attempt (apply_failed) and applies it cleanly."""
    rec = pc.patches.validate(
        pc.patches.submit(
            make_diff(repo, {"src/calc.py": "def add(a, b):\n    return a + b\n"})
        ).patch_id
    )
    marker = tmp_path / "in-hook"
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch '{marker}'\nsleep 120\n")
    hook.chmod(0o755)
    before = head(repo)
    with (tmp_path / "apply.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runwright", "patch", "apply", rec.patch_id],
            env=worker_env(repo / ".runwright", db_url),
            cwd=repo,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_for(marker.exists, "the apply to reach git")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    hook.unlink()
    stuck = pc.patches.get(rec.patch_id).entry
    assert stuck.state is PatchState.QUEUED
    assert stuck.apply.owner is not None
    assert stuck.apply.owner.endswith(f":{proc.pid}")
    assert head(repo) == before
    assert git(repo, "status", "--porcelain") == ""
    done = pc.patches.apply(rec.patch_id)
    assert done.entry.state is PatchState.APPLIED
    assert done.entry.apply.attempts == 2
    assert [h.state.value for h in done.entry.state_history][-4:] == [
        "queued",
        "apply_failed",
        "queued",
        "applied",
    ]
    assert "interrupted" in (done.entry.state_history[-3].reason or "")
    assert "a + b" in (Path(done.entry.apply.workspace_path or "") / "src/calc.py").read_text()
    assert "a - b" in (repo / "src/calc.py").read_text()


def test_a_worker_killed_while_the_agent_runs_resumes_without_a_second_patch(
    pc: Client, repo: Path, db_url: str, tmp_path: Path
) -> None:
    """The worker running an agent tool is SIGKILLed (with the tool) mid-edit: another worker
    takes the run over, re-runs the tool in a fresh worktree and records exactly one patch."""
    marker = tmp_path / "tool-started"
    write_router(
        repo / ".runwright",
        {
            "slow": {
                "command": agent("sleep-once", str(marker), "60", "src/calc.py", "a - b", "a + b")
            }
        },
        [{"id": "edit", "select_from": ["slow"]}],
    )
    request = pc.patches.request("code_edit", objective="Make add() add", files=["src/calc.py"])
    run_id = pc.patches.run_agent_tool(request, wait=False).run.run_id
    home = repo / ".runwright"
    first = start_worker(home, db_url, "--quiet", lease=1.5, log=tmp_path / "w1.log")
    wait_for(marker.exists, "the tool to start")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    os.kill(int(marker.read_text()), signal.SIGKILL)  # the machine went down: the tool too
    second = start_worker(home, db_url, "--quiet", lease=1.5, log=tmp_path / "w2.log")
    try:
        wait_for(
            lambda: pc.get(run_id).state in {RunState.SUCCEEDED, RunState.FAILED},
            "the run to end",
            120,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    run = pc.get(run_id)
    assert run.state is RunState.SUCCEEDED, (run.failure, (tmp_path / "w2.log").read_text()[-2000:])
    patches = pc.patches.list(run_id=run_id)
    assert len(patches) == 1
    assert patches[0].entry.state is PatchState.VERIFIED
    assert EventKind.LEASE_TAKEN_OVER in [e.kind for e in pc.events(run_id)]
    assert not list((home / "worktrees").glob("agent-*"))
    assert pc.verify(run_id).ok

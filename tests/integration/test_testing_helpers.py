"""runwright.testing: the helpers users get for their own tests, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import engine_jobs
import pytest
import testing_jobs
import workflows_cases as wc

import runwright
from runwright import testing
from runwright.domain.states import RunState, StateReason
from runwright.errors import RunwrightError


def test_a_temporary_client_is_a_fresh_store_that_disappears(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store lives in a new temporary folder (removed on exit), starts empty, ignores a
    RUNWRIGHT_DATABASE_URL in the environment, and has a fake clock."""
    monkeypatch.setenv("RUNWRIGHT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nowhere")
    monkeypatch.setenv("RUNWRIGHT_HOME", "/nonexistent/.runwright")
    with testing.temporary_client() as client:
        home = client.settings.home
        assert client.settings.database_url == f"sqlite:///{home / 'state.db'}"
        assert client.list_runs() == []
        assert isinstance(client.clock, testing.FakeClock)
        run = client.start(engine_jobs.sleeper, 1)
        assert client.get(run.run_id).state is RunState.PENDING
        assert (home / "state.db").is_file()
    assert not home.exists()
    with testing.temporary_client() as other:
        assert other.list_runs() == []


def test_a_durable_sleep_takes_no_time(db_url: str) -> None:
    """run_until_idle jumps the fake clock to each wake time: a job sleeping a day and then an
    hour finishes in one call, waking exactly when it asked to."""
    with testing.temporary_client(database_url=db_url) as client:
        start = client.clock.now()
        run = client.start(testing_jobs.naps_twice)
        assert testing.run_until_idle(client) == 3
        done = client.get(run.run_id)
        assert done.state is RunState.SUCCEEDED
        assert done.result == (start + timedelta(days=1, hours=1)).isoformat()
        assert client.clock.now() == start + timedelta(days=1, hours=1)
        assert testing.next_due(client) is None


def test_retry_backoffs_are_skipped_too(tmp_path: Path) -> None:
    """A step failing twice is retried after 1 s and 2 s of fake time, within one call."""
    with testing.temporary_client() as client:
        start = client.clock.now()
        run = client.start(engine_jobs.flaky_job, str(tmp_path / "log"), 2)
        testing.run_until_idle(client)
        assert client.get(run.run_id).result == "finally"
        assert client.clock.now() == start + timedelta(seconds=3)


def test_until_and_advance_clock_bound_the_jumps() -> None:
    """No jump past `until`; with advance_clock=False the clock never moves; the run stays
    parked on its timer and next_due says when it wakes."""
    with testing.temporary_client() as client:
        start = client.clock.now()
        run = client.start(engine_jobs.sleeper, 3600)
        testing.run_until_idle(client, advance_clock=False)
        parked = client.get(run.run_id)
        assert parked.state is RunState.WAITING
        assert parked.state_reason == StateReason.WAITING_TIMER
        assert client.clock.now() == start
        testing.run_until_idle(client, until=start + timedelta(minutes=59))
        assert client.get(run.run_id).state is RunState.WAITING
        assert client.clock.now() == start
        assert testing.next_due(client) == start + timedelta(hours=1)
        testing.run_until_idle(client, until=start + timedelta(hours=1))
        assert client.get(run.run_id).result == "rested"


def test_a_job_that_never_settles_is_reported_not_looped_forever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A job that sleeps forever makes run_until_idle give up after MAX_CLOCK_JUMPS with an
    error saying what to do; max_runs bounds the runs executed."""
    monkeypatch.setattr(testing, "MAX_CLOCK_JUMPS", 3)
    with testing.temporary_client() as client:
        client.start(testing_jobs.naps_forever)
        with pytest.raises(RunwrightError, match="still not idle after 3 jumps") as caught:
            testing.run_until_idle(client)
        assert "until=" in (caught.value.hint or "")
    with testing.temporary_client() as client:
        client.start(testing_jobs.naps_forever)
        assert testing.run_until_idle(client, max_runs=2) == 2


def test_the_worker_is_kept_until_restarted() -> None:
    """One in-process worker serves every call for a client, so a deployed workflow's
    consumer prepares once at start-up and not again when nothing happened; restart_worker
    is a worker restart, after which every consumer prepares once more."""
    wc.reset()
    try:
        with testing.temporary_client() as client:
            client.workflows.deploy(wc.cases)
            testing.run_until_idle(client)
            prepared = len(wc.SEEN["prepare_state"])
            assert prepared == 1
            testing.run_until_idle(client)
            assert len(wc.SEEN["prepare_state"]) == prepared
            testing.restart_worker(client)
            testing.run_until_idle(client)
            assert len(wc.SEEN["prepare_state"]) == prepared + 1
    finally:
        wc.reset()


def test_import_runwright_gives_the_testing_helpers() -> None:
    """The helpers and the fake clock are reachable from the package itself."""
    assert runwright.testing.temporary_client is testing.temporary_client
    assert runwright.FakeClock is testing.FakeClock
    assert {"testing", "FakeClock"} <= set(runwright.__all__)

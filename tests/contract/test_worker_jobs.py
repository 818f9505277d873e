"""Store contract: a worker claims only runs of jobs it knows, records which jobs it knows,
and runs of a job no live worker knows are named (SQLite and PostgreSQL)."""

from __future__ import annotations

from runwright.domain.states import RunState
from runwright.store.core.records import ClaimRequest, WorkerInfo
from runwright.store.core.system_database import SystemDatabase
from tests.contract.helpers import T0, at, claim, new_run


def test_a_claim_by_job_skips_runs_of_other_jobs_in_sql(store: SystemDatabase) -> None:
    """The oldest ready run is of a job the worker does not know: the claim passes it over
    (the filter is in the claim's SQL, so it does not even lock it) and takes the next run
    of a job it knows; an empty list of jobs claims nothing."""
    unknown = store.create_run(new_run(job_name="tests:new_job"), T0)
    known = store.create_run(new_run(job_name="tests:old_job"), at(1))
    assert store.claim_run("w1", at(2), 30, jobs=()) is None
    c = store.claim_run("w1", at(2), 30, jobs=("tests:old_job", "tests:other"))
    assert c is not None
    assert c.run.run_id == known.run_id
    assert store.claim_run("w1", at(2), 30, jobs=("tests:old_job",)) is None
    assert store.get_run(unknown.run_id).state is RunState.PENDING
    c2 = store.claim_run("w2", at(3), 30, jobs=("tests:new_job",))
    assert c2 is not None
    assert c2.run.run_id == unknown.run_id


def test_the_claim_that_ends_a_run_claims_the_next_only_of_known_jobs(
    store: SystemDatabase,
) -> None:
    """The next run claimed inside finish_run's transaction obeys the same job filter."""
    store.create_run(new_run(job_name="tests:a"), T0)
    other = store.create_run(new_run(job_name="tests:b"), at(1))
    lease = claim(store, now=at(2))
    ask = ClaimRequest("w1", 30, ("tests:a",))
    assert store.finish_run(lease, at(3), state=RunState.SUCCEEDED, claim_next=ask) is None
    assert store.get_run(other.run_id).state is RunState.PENDING


def test_workers_record_the_jobs_they_know(store: SystemDatabase) -> None:
    """The jobs a worker registers with are listed with it; a heartbeat may update them."""
    store.register_worker(WorkerInfo("w1", "h", 1, T0, T0, "0.1", jobs=("tests:a",)))
    store.register_worker(WorkerInfo("w0", "h", 2, T0, T0, "0.1"))
    found = {w.worker_id: w.jobs for w in store.list_workers()}
    assert found == {"w1": ("tests:a",), "w0": None}
    store.heartbeat_worker("w1", at(1), None, jobs=("tests:a", "tests:b"))
    store.heartbeat_worker("w1", at(2), None)
    found = {w.worker_id: w.jobs for w in store.list_workers()}
    assert found["w1"] == ("tests:a", "tests:b")


def test_a_ready_run_of_a_job_no_live_worker_knows_is_named(store: SystemDatabase) -> None:
    """With live workers that know other jobs, a ready run of a job none knows is stranded:
    "no live worker knows job X", with the module to import; once a live worker knows it
    (or one records no list, claiming any job) it is not."""
    store.register_worker(WorkerInfo("w1", "h", 1, T0, T0, "0.1", jobs=("tests:a",)))
    run = store.create_run(new_run(job_name="tests:b", job_module="billing"), T0)
    store.create_run(new_run(job_name="tests:a"), T0)
    [found] = store.find_stranded(at(1), worker_timeout=30)
    assert found.run_id == run.run_id
    assert found.problem == "no live worker knows job 'tests:b'"
    assert "runwright worker --import billing" in found.hint
    store.heartbeat_worker("w1", at(1), None, jobs=("tests:a", "tests:b"))
    assert store.find_stranded(at(1), worker_timeout=30) == []
    store.register_worker(WorkerInfo("w2", "h", 2, at(1), at(1), "0.1", jobs=("tests:c",)))
    store.create_run(new_run(job_name="tests:d"), at(1))
    store.register_worker(WorkerInfo("old", "h", 3, at(1), at(1), "0.1"))
    assert store.find_stranded(at(2), worker_timeout=30) == []


def test_ready_runs_of_unknown_jobs_are_found_with_their_modules(store: SystemDatabase) -> None:
    """What a worker could learn: ready runs' jobs outside the known list, with the module
    each names, skipping modules it already tried; runs not ready yet are left out."""
    store.create_run(new_run(job_name="tests:a", job_module="mod_a"), T0)
    store.create_run(new_run(job_name="tests:b", job_module="mod_b"), T0)
    store.create_run(new_run(job_name="tests:c", job_module="mod_c", start_at=at(60)), T0)
    assert sorted(store.ready_unknown_jobs(at(1), ("tests:a",))) == [("tests:b", "mod_b")]
    assert store.ready_unknown_jobs(at(1), ("tests:a",), skip_modules=("mod_b",)) == []
    assert len(store.ready_unknown_jobs(at(1), ())) == 2

"""The patch ledger on SQLite and PostgreSQL, against real git repositories: every transition
is one transaction with its events, the user's checkout changes only on commit (UET §5
behaviours 28-35)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from patches_support import git, head, init_repo, make_diff, write_policy

from runwright import schemas
from runwright.api.client import Client
from runwright.config import load_settings
from runwright.domain.events import EventKind
from runwright.domain.patches_ledger import PatchState
from runwright.engine.clock import FakeClock
from runwright.errors import ConfigError, Conflict, InvalidTransition, ValidationError
from runwright.store.core.records import NewRun

FILES = {"src/app.py": "def answer():\n    return 41\n", "tests/check.py": "print('ok')\n"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with a couple of committed files."""
    return init_repo(tmp_path / "repo", FILES)


@pytest.fixture
def pc(repo: Path, db_url: str, clock: FakeClock) -> Iterator[Client]:
    """A client whose project is ``repo``, on SQLite or PostgreSQL."""
    settings = load_settings(
        env={}, overrides={"home": repo / ".runwright", "database_url": db_url}
    )
    client = Client.open(settings, clock=clock)
    yield client
    client.close()


def fix(repo: Path) -> str:
    """A diff that makes answer() return 42."""
    return make_diff(repo, {"src/app.py": "def answer():\n    return 42\n"})


def new_run(client: Client) -> str:
    """A run to own patch events (never executed)."""
    run = client.store.create_run(
        NewRun(job_name="test.patches", project_id=client.settings.project_id), client.clock.now()
    )
    return run.run_id


def kinds(client: Client, run_id: str) -> list[str]:
    """The event kinds of a run, in order."""
    return [e.kind.value for e in client.events(run_id)]


def test_a_patch_goes_through_the_ledger_and_reaches_the_checkout_only_on_commit(
    pc: Client, repo: Path
) -> None:
    """created → validated → queued → applied → verified → committed, each change recorded
    in state_history and in the run's log; the checkout is untouched until commit."""
    run_id = new_run(pc)
    before = head(repo)
    rec = pc.patches.submit(fix(repo), summary="answer is 42", run_id=run_id)
    assert rec.entry.state is PatchState.CREATED
    assert rec.artifact.base_commit == before
    rec = pc.patches.validate(rec.patch_id)
    rec = pc.patches.apply(rec.patch_id)
    worktree = Path(rec.entry.apply.workspace_path or "")
    assert worktree.is_relative_to(repo / ".runwright" / "worktrees")
    assert "return 42" in (worktree / "src/app.py").read_text()
    assert "return 41" in (repo / "src/app.py").read_text()
    rec = pc.patches.verify(rec.patch_id, test_commands=[["python3", "tests/check.py"]])
    assert rec.entry.validation.tests_ran
    assert rec.entry.validation.tests_passed
    assert head(repo) == before
    assert git(repo, "status", "--porcelain") == ""
    rec = pc.patches.commit(rec.patch_id)
    assert rec.entry.state is PatchState.COMMITTED
    assert head(repo) == rec.entry.apply.commit_hash != before
    assert "return 42" in (repo / "src/app.py").read_text()
    assert f"Runwright-Patch: {rec.patch_id}" in git(repo, "log", "-1", "--format=%B")
    assert not worktree.exists()
    assert [h.state.value for h in rec.entry.state_history] == [
        "created",
        "validated",
        "queued",
        "applied",
        "verified",
        "committed",
    ]
    assert [k for k in kinds(pc, run_id) if k.startswith("patch_")] == [
        "patch_created",
        "patch_validated",
        "patch_apply_started",
        "patch_apply_succeeded",
        "patch_verified",
        "patch_committed",
    ]
    assert "evidence_attached" in kinds(pc, run_id)  # the verification log
    counters = pc.get(run_id).counters
    assert (counters.patches_created, counters.patches_applied) == (1, 1)
    assert pc.verify(run_id).ok


def test_artifacts_match_their_exported_json_schemas(pc: Client, repo: Path) -> None:
    """A real patch record, artifact and ledger entry validate against the exported schemas."""
    rec = pc.patches.validate(pc.patches.submit(fix(repo)).patch_id)
    for kind, value in (
        ("patch_record", rec),
        ("patch_artifact", rec.artifact),
        ("patch_ledger_entry", rec.entry),
    ):
        jsonschema.validate(value.model_dump(mode="json"), schemas.json_schema(kind))


def test_a_policy_violation_is_quarantined_kept_and_not_reapplied(pc: Client, repo: Path) -> None:
    """Behaviours 29 and 32: a patch over max_lines is quarantined with its reason, kept under
    .runwright/quarantine and an event; apply is refused without an override."""
    write_policy(repo / ".runwright", global_={"max_lines_changed": 1})
    run_id = new_run(pc)
    rec = pc.patches.validate(pc.patches.submit(fix(repo), run_id=run_id).patch_id)
    q = rec.entry.quarantine
    assert rec.entry.state is PatchState.QUARANTINED
    assert q.is_quarantined
    assert "max_lines_changed 1" in (q.quarantine_reason or "")
    kept = Path(q.quarantine_path or "")
    assert kept == repo / ".runwright" / "quarantine" / f"{rec.patch_id}.diff"
    assert kept.read_text() == rec.artifact.diff_text
    assert kept.with_suffix(".json").exists()
    assert "patch_quarantined" in kinds(pc, run_id)
    with pytest.raises(InvalidTransition, match="override"):
        pc.patches.apply(rec.patch_id)
    again = pc.patches.apply(rec.patch_id, override=True, reason="ana reviewed it")
    assert again.entry.state is PatchState.APPLIED
    assert again.entry.state_history[-2].reason == "ana reviewed it"


def test_an_invalid_format_is_dropped(pc: Client, repo: Path) -> None:
    """Behaviour 28: an empty diff or another format is recorded, then dropped, format_ok False."""
    for text, fmt in (("", "unified_diff"), (fix(repo), "context_diff")):
        rec = pc.patches.validate(pc.patches.submit(text, format=fmt).patch_id)
        assert rec.entry.state is PatchState.DROPPED
        assert not rec.entry.validation.format_ok


def test_toggling_the_same_change_quarantines_it_and_triggers_the_error_pipeline(
    pc: Client, repo: Path
) -> None:
    """Behaviour 34: a change, its revert, the change again (third time in the window of 5,
    threshold 3) → quarantined, error_pipeline_triggered, run errors counted."""
    run_id = new_run(pc)
    forward = fix(repo)
    git(repo, "apply", "--index", "-", stdin=forward)
    git(repo, "commit", "-qm", "42")
    backward = make_diff(repo, {"src/app.py": FILES["src/app.py"]})
    states = []
    for diff in (backward, make_diff(repo, {"README": "x\n"}), forward):
        rec = pc.patches.submit(
            diff, run_id=run_id, base_commit=head(repo) if diff is not forward else None
        )
        states.append(pc.patches.validate(rec.patch_id).entry.state.value)
    assert states == ["validated", "validated", "validated"]
    third = pc.patches.validate(pc.patches.submit(backward, run_id=run_id).patch_id)
    assert third.entry.state is PatchState.QUARANTINED
    assert "oscillation" in (third.entry.quarantine.quarantine_reason or "")
    events = [e for e in pc.events(run_id) if e.kind is EventKind.ERROR_PIPELINE_TRIGGERED]
    assert events
    assert events[0].payload["cause"] == "oscillation"
    assert events[0].payload["occurrences"] == 3
    assert pc.get(run_id).counters.errors == 1


def test_a_patch_that_does_not_apply_fails_then_is_quarantined_at_the_limit(
    pc: Client, repo: Path
) -> None:
    """Behaviour 33: a failing apply is apply_failed with git's error and may be retried; at
    max_apply_attempts it is quarantined."""
    write_policy(repo / ".runwright", global_={"max_apply_attempts": 2})
    stale = make_diff(repo, {"src/app.py": "def answer():\n    return 40\n"}).replace(
        "return 41", "return 39"
    )
    rec = pc.patches.validate(pc.patches.submit(stale).patch_id)
    first = pc.patches.apply(rec.patch_id)
    assert first.entry.state is PatchState.APPLY_FAILED
    assert first.entry.apply.last_error_code == "git_apply_failed"
    assert first.entry.apply.attempts == 1
    second = pc.patches.apply(rec.patch_id)
    assert second.entry.state is PatchState.QUARANTINED
    assert second.entry.apply.attempts == 2
    assert not (repo / ".runwright" / "worktrees" / f"patch-{rec.patch_id}").exists()


def test_failing_verification_quarantines_and_keeps_the_log(pc: Client, repo: Path) -> None:
    """Tests failing in the worktree quarantine the patch; tests_passed False; the log is
    evidence of the patch's run. A patch requiring tests cannot be verified without a command."""
    run_id = new_run(pc)
    rec = pc.patches.apply(
        pc.patches.validate(pc.patches.submit(fix(repo), run_id=run_id).patch_id).patch_id
    )
    bad = pc.patches.verify(
        rec.patch_id, test_commands=[["python3", "-c", "import sys; print('boom'); sys.exit(5)"]]
    )
    v = bad.entry.validation
    assert bad.entry.state is PatchState.QUARANTINED
    assert v.tests_ran
    assert v.tests_passed is False
    assert v.test_exit_code == 5
    assert b"boom" in pc.blobs.read(v.test_log_sha256 or "")
    assert any(link.artifact_path.endswith("-verify.log") for link in pc.evidence(run_id))
    write_policy(repo / ".runwright", global_={"tests_must_pass": True})
    other = pc.patches.apply(pc.patches.validate(pc.patches.submit(fix(repo)).patch_id).patch_id)
    with pytest.raises(ValidationError, match="no test command"):
        pc.patches.verify(other.patch_id)


def test_rollback_discards_an_applied_patch_and_reverts_a_committed_one(
    pc: Client, repo: Path
) -> None:
    """rolled_back discards the worktree (checkout untouched); a committed patch is reverted
    by a new patch (rollback_of) that is itself committed, restoring the file."""
    other = make_diff(repo, {"src/other.py": "y = 2\n"})
    applied = pc.patches.apply(pc.patches.validate(pc.patches.submit(other).patch_id).patch_id)
    gone = pc.patches.rollback(applied.patch_id)
    assert gone.entry.state is PatchState.ROLLED_BACK
    assert not Path(applied.entry.apply.workspace_path or "").exists()
    rec = pc.patches.submit(fix(repo))
    for step in (pc.patches.validate, pc.patches.apply, pc.patches.verify, pc.patches.commit):
        rec = step(rec.patch_id)
    revert = pc.patches.rollback(rec.patch_id)
    assert revert.entry.state is PatchState.COMMITTED
    assert revert.entry.relations.rollback_of_patch_id == rec.patch_id
    assert (repo / "src/app.py").read_text() == FILES["src/app.py"]
    assert git(repo, "log", "--format=%s", "-2").splitlines()[0].startswith("Revert")


def test_commit_refuses_to_overwrite_uncommitted_work(pc: Client, repo: Path) -> None:
    """A dirty file the patch touches, or a staged index, stops the commit; nothing changes."""
    rec = pc.patches.submit(fix(repo))
    for step in (pc.patches.validate, pc.patches.apply, pc.patches.verify):
        rec = step(rec.patch_id)
    (repo / "src/app.py").write_text("my work in progress\n")
    with pytest.raises(Conflict, match="uncommitted changes"):
        pc.patches.commit(rec.patch_id)
    assert (repo / "src/app.py").read_text() == "my work in progress\n"
    git(repo, "checkout", "--", "src/app.py")
    (repo / "notes.txt").write_text("x")
    git(repo, "add", "notes.txt")
    with pytest.raises(Conflict, match="staged"):
        pc.patches.commit(rec.patch_id)
    assert pc.patches.get(rec.patch_id).entry.state is PatchState.VERIFIED


def test_commit_needs_the_minimum_reviewers(pc: Client, repo: Path) -> None:
    """min_reviewers 1: committing without an approval is refused, with one it goes through."""
    write_policy(repo / ".runwright", global_={"min_reviewers": 1})
    rec = pc.patches.submit(fix(repo))
    for step in (pc.patches.validate, pc.patches.apply, pc.patches.verify):
        rec = step(rec.patch_id)
    with pytest.raises(ValidationError, match="needs 1 approvals"):
        pc.patches.commit(rec.patch_id)
    done = pc.patches.commit(rec.patch_id, approved_by=["ana"])
    assert "approved by ana" in (done.entry.state_history[-1].reason or "")


def test_a_commit_made_before_a_crash_is_recognised_not_repeated(pc: Client, repo: Path) -> None:
    """If git committed but the ledger did not record it, commit finds the trailer and records
    that commit instead of making a second one."""
    rec = pc.patches.submit(fix(repo))
    for step in (pc.patches.validate, pc.patches.apply, pc.patches.verify):
        rec = step(rec.patch_id)
    git(repo, "apply", "--index", "-", stdin=rec.artifact.diff_text)
    git(repo, "commit", "-qm", f"answer\n\nRunwright-Patch: {rec.patch_id}\n")
    made = head(repo)
    done = pc.patches.commit(rec.patch_id)
    assert done.entry.apply.commit_hash == made == head(repo)
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "2"


def test_an_enormous_diff_is_refused_before_anything_is_stored(pc: Client, repo: Path) -> None:
    """A diff over max_diff_bytes is refused at submission; the ledger stays empty. A huge but
    storable one is quarantined by its line count."""
    write_policy(repo / ".runwright", global_={"max_diff_bytes": 10_000, "max_lines_changed": 500})
    huge = make_diff(repo, {"big.txt": "line\n" * 5000})
    with pytest.raises(ValidationError, match="max_diff_bytes"):
        pc.patches.submit(huge)
    assert pc.patches.list() == []
    many = make_diff(repo, {"many.txt": "l\n" * 1000})
    assert (
        pc.patches.validate(pc.patches.submit(many).patch_id).entry.state is PatchState.QUARANTINED
    )


def test_hostile_patches_never_touch_the_disk_even_with_an_override(
    pc: Client, repo: Path, tmp_path: Path
) -> None:
    """A traversal patch is quarantined; an override cannot apply it: paths are re-checked
    before any worktree is made, and nothing appears outside the repository."""
    target = tmp_path / "escaped.txt"
    diff = "--- /dev/null\n+++ b/../escaped.txt\n@@ -0,0 +1 @@\n+pwned\n"
    rec = pc.patches.validate(pc.patches.submit(diff).patch_id)
    assert rec.entry.state is PatchState.QUARANTINED
    assert "'..'" in (rec.entry.quarantine.quarantine_reason or "")
    with pytest.raises(ValidationError, match="unsafe paths"):
        pc.patches.apply(rec.patch_id, override=True, reason="trust me")
    assert not target.exists()
    assert not (repo / ".runwright" / "worktrees" / f"patch-{rec.patch_id}").exists()


def test_a_path_through_a_committed_symlink_is_quarantined(
    pc: Client, repo: Path, tmp_path: Path
) -> None:
    """A directory that is a symlink in the base commit (pointing out) cannot be written through."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "vendor").symlink_to(outside)
    git(repo, "add", "vendor")
    git(repo, "commit", "-qm", "link")
    diff = "--- /dev/null\n+++ b/vendor/evil.txt\n@@ -0,0 +1 @@\n+x\n"
    rec = pc.patches.validate(pc.patches.submit(diff).patch_id)
    assert rec.entry.state is PatchState.QUARANTINED
    assert "symlink in the base commit" in (rec.entry.quarantine.quarantine_reason or "")
    assert list(outside.iterdir()) == []


def test_recover_settles_a_dead_apply_and_removes_stale_worktrees(pc: Client, repo: Path) -> None:
    """A patch left queued by a dead process becomes apply_failed (and can be applied again);
    worktrees of patches that no longer hold one are removed; live ones stay."""
    live = pc.patches.apply(pc.patches.validate(pc.patches.submit(fix(repo)).patch_id).patch_id)
    dead = pc.patches.validate(pc.patches.submit(make_diff(repo, {"b.txt": "b\n"})).patch_id)
    ledger = pc.patches.ledger
    ledger._move(
        dead,
        PatchState.QUEUED,
        "apply attempt 1",
        apply=lambda e: e.apply.model_copy(update={"attempts": 1, "owner": "elsewhere-host:1"}),
    )
    stray = repo / ".runwright" / "worktrees" / "patch-01STRAY00000000000000000000"
    stray.mkdir(parents=True)
    report = pc.patches.recover()
    assert report.unknown_owner == [dead.patch_id]
    assert report.interrupted == []
    assert stray.name in report.worktrees_removed
    assert Path(live.entry.apply.workspace_path or "").exists()
    report = pc.patches.recover(force=True)
    assert report.interrupted == [dead.patch_id]
    settled = pc.patches.get(dead.patch_id).entry
    assert settled.state is PatchState.APPLY_FAILED
    assert settled.apply.last_error_code == "interrupted"
    assert pc.patches.apply(dead.patch_id).entry.state is PatchState.APPLIED


def test_a_declared_phase_applies_its_constraints_to_a_submission(pc: Client, repo: Path) -> None:
    """Submitting for a phase declared in .runwright/phases judges the patch by the phase's
    scope and limits (a phase level of the policy); an undeclared phase is refused."""
    phases = repo / ".runwright" / "phases"
    phases.mkdir(parents=True)
    (phases / "docs.yaml").write_text(
        "phase_id: PH-DOC\nname: Docs\ncategory: documentation\n"
        "resource_scope: {write: ['docs/**']}\nconstraints: {patch: {max_lines_changed: 5}}\n"
    )
    code = pc.patches.validate(pc.patches.submit(fix(repo), phase_id="PH-DOC").patch_id)
    assert code.entry.state is PatchState.QUARANTINED
    assert "outside the write scope" in (code.entry.quarantine.quarantine_reason or "")
    docs = make_diff(repo, {"docs/guide.md": "# Guide\n"})
    ok = pc.patches.validate(pc.patches.submit(docs, phase_id="PH-DOC").patch_id)
    assert ok.entry.state is PatchState.VALIDATED
    assert ok.context.phase_constraints is not None
    assert ok.context.phase_constraints.max_lines_changed == 5
    with pytest.raises(ConfigError, match="PH-NONE"):
        pc.patches.submit(docs, phase_id="PH-NONE")

"""Path safety in the patch ledger on SQLite and PostgreSQL, against real git repositories: a
control character in a path is refused like NUL, and an override never lifts a path-safety
quarantine (it stays quarantined, with the same reason, and nothing is written)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from patches_support import git, init_repo

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.domain.patches_context import PatchRecord
from runwright.domain.patches_ledger import PatchState
from runwright.engine.clock import FakeClock
from runwright.errors import ValidationError


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one committed file."""
    return init_repo(tmp_path / "repo", {"src/app.py": "x = 1\n"})


@pytest.fixture
def pc(repo: Path, db_url: str, clock: FakeClock) -> Iterator[Client]:
    """A client whose project is ``repo``, on SQLite or PostgreSQL."""
    settings = load_settings(
        env={}, overrides={"home": repo / ".runwright", "database_url": db_url}
    )
    client = Client.open(settings, clock=clock)
    yield client
    client.close()


def quarantined(pc: Client, diff: str) -> PatchRecord:
    """``diff`` submitted and validated: quarantined by path safety."""
    rec = pc.patches.validate(pc.patches.submit(diff, summary="hostile").patch_id)
    assert rec.entry.state is PatchState.QUARANTINED
    assert rec.entry.validation.scope_ok is False
    return rec


def refused_override(pc: Client, repo: Path, rec: PatchRecord) -> None:
    """An override of ``rec``'s quarantine is refused and changes nothing: same state, same
    reason, no queued attempt in the history, no worktree."""
    before = rec.entry
    with pytest.raises(ValidationError, match="unsafe paths") as info:
        pc.patches.apply(rec.patch_id, override=True, reason="reviewed by ana")
    assert "never lifts a path-safety quarantine" in (info.value.hint or "")
    after = pc.patches.get(rec.patch_id).entry
    assert after.state is PatchState.QUARANTINED
    assert after.quarantine == before.quarantine
    assert after.quarantine.is_quarantined
    assert [h.state for h in after.state_history] == [h.state for h in before.state_history]
    assert after.apply.attempts == 0
    assert not (repo / ".runwright" / "worktrees" / f"patch-{rec.patch_id}").exists()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("evil\\nname", "'evil\\nname' contains a control character ('\\n')"),
        ("tab\\there", "contains a control character ('\\t')"),
        ("esc\\033[31mred", "contains a control character ('\\x1b')"),
        ("del\\177", "contains a control character ('\\x7f')"),
        ("c1\\302\\205x", "contains a control character ('\\x85')"),
        ("bidi\\342\\200\\256txt.py", "a bidirectional control character ('\\u202e')"),
    ],
)
def test_a_control_character_in_a_path_is_quarantined_like_nul(
    pc: Client, repo: Path, name: str, shown: str
) -> None:
    """A quoted git name holding a newline, a tab, an escape, DEL, a C1 control or a
    right-to-left override is quarantined at validation with the character named (a newline
    used to validate and apply), and an override cannot apply it."""
    quoted = f'"b/{name}"'
    diff = (
        f'diff --git "a/{name}" {quoted}\nnew file mode 100644\n'
        f"--- /dev/null\n+++ {quoted}\n@@ -0,0 +1 @@\n+x\n"
    )
    rec = quarantined(pc, diff)
    assert shown in (rec.entry.quarantine.quarantine_reason or "")
    refused_override(pc, repo, rec)
    assert sorted(p.name for p in repo.iterdir()) == [".git", ".gitignore", ".runwright", "src"]


def test_an_override_never_lifts_a_base_commit_symlink_quarantine(
    pc: Client, repo: Path, tmp_path: Path
) -> None:
    """A write through a directory that is a symlink in the base commit is quarantined; an
    override is refused and leaves it quarantined with the same reason (it used to go
    queued → apply_failed, out of quarantine, stopped only by git); nothing is written."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "vendor").symlink_to(outside)
    git(repo, "add", "vendor")
    git(repo, "commit", "-qm", "link")
    diff = "--- /dev/null\n+++ b/vendor/evil.txt\n@@ -0,0 +1 @@\n+x\n"
    rec = quarantined(pc, diff)
    reason = rec.entry.quarantine.quarantine_reason or ""
    assert "'vendor' is a symlink in the base commit" in reason
    refused_override(pc, repo, rec)
    assert pc.patches.get(rec.patch_id).entry.quarantine.quarantine_reason == reason
    assert list(outside.iterdir()) == []

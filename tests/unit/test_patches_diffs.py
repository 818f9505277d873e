"""Parsing unified diffs: scope from the diff, binaries, symlinks, quoted names, oscillation
signatures (UET §5 behaviours 28 and 34)."""

from __future__ import annotations

from pathlib import Path

import pytest
from patches_support import git, init_repo, make_diff

from runwright.domain.patches import PatchScope
from runwright.domain.patches_oscillation import detect_oscillation
from runwright.patches.diffs import DiffError, change_signature, parse_diff, scope_mismatch, unquote

PLAIN = """--- a/src/app.py
+++ b/src/app.py
@@ -1,3 +1,4 @@
 a
-b
+B
 c
+d
@@ -10,2 +11,2 @@
 x
-y
+Y
"""


def test_scope_is_computed_from_the_diff() -> None:
    """files_touched, insertions, deletions and hunks come from parsing, not from headers."""
    scope = parse_diff(PLAIN).scope
    assert scope == PatchScope(
        files_touched=["src/app.py"], line_insertions=3, line_deletions=2, hunks=2
    )


def test_a_declared_scope_that_disagrees_is_reported() -> None:
    """A submitter claiming fewer lines or other files is caught field by field."""
    declared = PatchScope(files_touched=["other.py"], line_insertions=1, line_deletions=2, hunks=2)
    problems = scope_mismatch(declared, parse_diff(PLAIN).scope)
    assert any("files_touched" in p for p in problems)
    assert any("line_insertions 1" in p for p in problems)
    assert not any("hunks" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "why"),
    [("", "empty"), ("   \n", "empty"), ("hello world\n", "no file changes"), ("x\x00y", "NUL")],
)
def test_what_is_not_a_diff_is_refused(text: str, why: str) -> None:
    """Behaviour 28's input: empty text, prose and raw bytes are not unified diffs."""
    with pytest.raises(DiffError, match=why):
        parse_diff(text)


def test_real_git_diffs_with_binaries_symlinks_and_deletions(tmp_path: Path) -> None:
    """A git diff --binary of a binary file, a symlink, a deletion and an odd name parses
    into the right files and flags."""
    root = init_repo(tmp_path / "r", {"src/old.py": "gone\n", "x.py": "1\n"})
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    (root / "src" / "old.py").unlink()
    (root / "src" / "caf\u00e9.py").write_text("y\n")
    (root / "src" / "link").symlink_to("../x.py")
    git(root, "add", "-A")
    parsed = parse_diff(git(root, "diff", "--cached", "--binary", "--no-renames"))
    by_path = {f.path: f for f in parsed.files}
    assert by_path["blob.bin"].binary
    assert parsed.has_binary
    assert by_path["src/old.py"].is_deleted
    assert by_path["src/old.py"].removed == 1
    assert by_path["src/caf\u00e9.py"].is_new
    assert by_path["src/link"].is_symlink
    assert by_path["src/link"].symlink_target == "../x.py"


def test_binary_files_differ_lines_count_as_binary() -> None:
    """A plain `Binary files … differ` line marks the file binary."""
    text = (
        "diff --git a/a.png b/a.png\nindex 1..2 100644\nBinary files a/a.png and b/a.png differ\n"
    )
    assert parse_diff(text).has_binary


def test_quoted_git_names_are_unquoted() -> None:
    """Git's C-style quoting (octal UTF-8 bytes, escapes) is undone before paths are checked."""
    assert unquote('"a/caf\\303\\251 x.py"') == "a/caf\u00e9 x.py"
    assert unquote('"a/tab\\there"') == "a/tab\there"
    assert unquote("a/plain.py") == "a/plain.py"


def test_a_change_and_its_revert_share_a_signature(tmp_path: Path) -> None:
    """Behaviour 34's input: toggling a line back and forth gives the same change signature;
    another change does not."""
    root = init_repo(tmp_path / "r", {"f.py": "x = 1\n"})
    forward = make_diff(root, {"f.py": "x = 2\n"})
    git(root, "apply", "--index", "-", stdin=forward)
    git(root, "commit", "-qm", "x=2")
    backward = make_diff(root, {"f.py": "x = 1\n"})
    other = make_diff(root, {"f.py": "x = 3\n"})
    a, b, c = (change_signature(parse_diff(d)) for d in (forward, backward, other))
    assert a == b != c


def test_oscillation_window_five_threshold_three() -> None:
    """Behaviour 34: [a,b,a,c,a] oscillates, [a,b,a,c,d] does not."""
    yes = detect_oscillation(list("abaca"), window=5, threshold=3)
    no = detect_oscillation(list("abacd"), window=5, threshold=3)
    assert yes.oscillating
    assert yes.occurrences == 3
    assert not no.oscillating
    assert not detect_oscillation(list("aaabc"), window=3, threshold=3).oscillating

"""Judging a patch without touching the disk: format, scope, constraints, hostile paths
(UET §5 behaviours 28-30, 34)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runwright.domain.ids import new_id
from runwright.domain.patches import PatchArtifact, PatchOrigin, PatchScope
from runwright.domain.patches_ledger import PatchState
from runwright.domain.policy import (
    EffectivePolicy,
    PatchConstraints,
    PatchPolicy,
    PolicyLevel,
    PolicyScope,
    effective_policy,
)
from runwright.domain.policy_globs import glob_matches, glob_within
from runwright.domain.router_specs import EffectiveScope, ResourceScope, narrow
from runwright.patches.diffs import change_signature, parse_diff
from runwright.patches.paths import path_problem, symlink_problem
from runwright.patches.validation import Judgement, judge

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def diff_for(path: str, added: int = 1, removed: int = 0, new: bool = False) -> str:
    """A unified diff touching ``path`` with ``added``/``removed`` lines."""
    src = "/dev/null" if new else f"a/{path}"
    old_len = 0 if new else removed
    body = "".join(f"-old {i}\n" for i in range(removed)) + "".join(
        f"+new {i}\n" for i in range(added)
    )
    start = 0 if new else 1
    return f"--- {src}\n+++ b/{path}\n@@ -{start},{old_len} +1,{added} @@\n{body}"


def artifact(
    diff: str,
    *,
    fmt: str = "unified_diff",
    summary: str | None = None,
    scope: PatchScope | None = None,
) -> PatchArtifact:
    """An artifact around ``diff``."""
    return PatchArtifact(
        patch_id=new_id(),
        format=fmt,
        target_repo="/repo",
        origin=PatchOrigin(tool_id="test", created_at=T0),
        diff_text=diff,
        summary=summary,
        scope=scope,
    )


def policy(**constraints: object) -> EffectivePolicy:
    """The effective policy with a global level of ``constraints``."""
    return effective_policy(
        [
            PatchPolicy(
                patch_policy_id="g",
                scope=PolicyScope(level=PolicyLevel.GLOBAL),
                constraints=PatchConstraints.model_validate(constraints),
            )
        ]
    )


def run(
    a: PatchArtifact,
    *,
    scope: EffectiveScope | None = None,
    history: list[str | None] | None = None,
    **constraints: object,
) -> Judgement:
    """Judge ``a`` under ``constraints``."""
    try:
        signature = change_signature(parse_diff(a.diff_text))
    except ValueError:
        signature = None
    return judge(
        a,
        policy=policy(**constraints),
        scope=scope or EffectiveScope(),
        recent_signatures=history or [],
        signature=signature,
    )


@pytest.mark.parametrize(
    ("fmt", "diff"), [("context_diff", diff_for("a.py")), ("unified_diff", "")]
)
def test_wrong_format_or_empty_diff_is_dropped(fmt: str, diff: str) -> None:
    """Behaviour 28: format ≠ unified_diff, or an empty diff → dropped with format_ok=False."""
    j = run(artifact(diff, fmt=fmt))
    assert j.target is PatchState.DROPPED
    assert j.validation.format_ok is False
    assert j.validation.validation_errors


def test_too_many_lines_is_quarantined() -> None:
    """Behaviour 29: max_lines 300 with 250 insertions + 80 deletions → constraints_ok False,
    quarantined, with the counts in the reason."""
    j = run(artifact(diff_for("big.py", added=250, removed=80)), max_lines_changed=300)
    assert j.target is PatchState.QUARANTINED
    assert j.validation.constraints_ok is False
    assert j.validation.scope_ok is True
    assert "330 lines changed (250 insertions + 80 deletions)" in j.reason


def test_touching_a_forbidden_path_is_quarantined() -> None:
    """Behaviour 30: a patch touching secrets/* → scope_ok False, quarantined."""
    j = run(
        artifact(diff_for("secrets/deep/key.txt", new=True)), forbid_touching_paths=["secrets/*"]
    )
    assert j.target is PatchState.QUARANTINED
    assert j.validation.scope_ok is False
    assert "forbidden" in j.reason


def test_too_many_files_is_quarantined() -> None:
    """Behaviour 30: more files than max_files_changed → quarantined."""
    diff = "".join(diff_for(f"f{i}.py", new=True) for i in range(4))
    j = run(artifact(diff), max_files_changed=3)
    assert j.target is PatchState.QUARANTINED
    assert "4 files touched" in j.reason


def test_a_binary_patch_is_quarantined_when_forbidden() -> None:
    """Behaviour 30: a binary change under forbid_binary_patches → quarantined, else allowed."""
    text = (
        "diff --git a/logo.png b/logo.png\nindex 1..2 100644\n"
        "Binary files a/logo.png and b/logo.png differ\n"
    )
    assert run(artifact(text), forbid_binary_patches=True).target is PatchState.QUARANTINED
    assert run(artifact(text), forbid_binary_patches=False).target is PatchState.VALIDATED


def test_a_declared_scope_that_lies_is_quarantined() -> None:
    """A patch whose declared scope disagrees with its diff is refused (scope_ok False)."""
    lie = PatchScope(files_touched=["a.py"], line_insertions=1, line_deletions=0, hunks=1)
    j = run(artifact(diff_for("a.py", added=40), scope=lie))
    assert j.target is PatchState.QUARANTINED
    assert "line_insertions" in j.reason


@pytest.mark.parametrize(
    ("diff", "why"),
    [
        ("--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-x\n+y\n", "'..'"),
        ("--- /dev/null\n+++ /etc/cron.d/evil\n@@ -0,0 +1 @@\n+* * * * * root sh\n", "absolute"),
        ("--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+evil\n", ".git"),
        ("--- /dev/null\n+++ b/.runwright/router.yaml\n@@ -0,0 +1 @@\n+x\n", ".runwright"),
        (
            "diff --git a/evil b/evil\nnew file mode 120000\nindex 0000000..1111111\n"
            "--- /dev/null\n+++ b/evil\n@@ -0,0 +1 @@\n+../../../etc/passwd\n"
            "\\ No newline at end of file\n",
            "leads out",
        ),
        (
            "diff --git a/ok.py b/moved\nsimilarity index 100%\n"
            "rename from ok.py\nrename to ../../moved\n",
            "'..'",
        ),
    ],
)
def test_hostile_paths_are_quarantined(diff: str, why: str) -> None:
    """Traversal, absolute paths, .git, runwright's own state, symlinks out and hostile rename
    lines are refused by validation, before anything is written."""
    j = run(artifact(diff))
    assert j.target is PatchState.QUARANTINED
    assert j.validation.scope_ok is False
    assert why in j.reason


def test_require_issue_ref_reads_the_summary() -> None:
    """With require_issue_ref, the summary must name #123 or ABC-123."""
    d = diff_for("a.py")
    assert (
        run(artifact(d, summary="tidy up"), require_issue_ref=True).target is PatchState.QUARANTINED
    )
    assert (
        run(artifact(d, summary="Fix #12: tidy"), require_issue_ref=True).target
        is PatchState.VALIDATED
    )
    assert (
        run(artifact(d, summary="OPS-7 tidy"), require_issue_ref=True).target
        is PatchState.VALIDATED
    )


def test_ascii_only_refuses_non_ascii_additions() -> None:
    """ascii_only refuses added lines with non-ASCII text."""
    d = "--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+caf\u00e9\n"
    assert run(artifact(d), ascii_only=True).target is PatchState.QUARANTINED
    assert run(artifact(d)).target is PatchState.VALIDATED


def test_paths_outside_the_write_scope_are_quarantined() -> None:
    """A file outside the narrowed write scope, or a new file outside create, is refused."""
    scope = narrow(
        ResourceScope(write=["src/**"]),
        ResourceScope(write=["src/core/**"], create=["src/core/new/**"]),
    )
    assert run(artifact(diff_for("src/core/a.py")), scope=scope).target is PatchState.VALIDATED
    assert run(artifact(diff_for("src/other.py")), scope=scope).target is PatchState.QUARANTINED
    new_ok = run(artifact(diff_for("src/core/new/x.py", new=True)), scope=scope)
    new_bad = run(artifact(diff_for("src/core/y.py", new=True)), scope=scope)
    assert new_ok.target is PatchState.VALIDATED
    assert new_bad.target is PatchState.QUARANTINED
    assert "create scope" in new_bad.reason


def test_the_third_toggle_in_the_window_oscillates() -> None:
    """Behaviour 34: the same change a third time within the last five patches is quarantined
    as oscillation; a second time is not."""
    a = artifact(diff_for("a.py"))
    sig = change_signature(parse_diff(a.diff_text))
    twice = run(a, history=[sig, "b"])
    thrice = run(a, history=[sig, "b", sig, "c"])
    assert twice.target is PatchState.VALIDATED
    assert thrice.target is PatchState.QUARANTINED
    assert thrice.oscillation is not None
    assert thrice.oscillation.oscillating
    assert "oscillation" in thrice.reason


def test_require_tests_for_paths_marks_verification_mandatory() -> None:
    """Touching a path under require_tests_for_paths makes passing tests a condition of verify."""
    assert run(
        artifact(diff_for("src/a.py")), require_tests_for_paths=["src/**"]
    ).validation.tests_required
    assert not run(
        artifact(diff_for("docs/a.md")), require_tests_for_paths=["src/**"]
    ).validation.tests_required


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/abs",
        "C:/win",
        "a\\b",
        "a/../b",
        "..",
        "./a",
        "a//b",
        ".git/config",
        "x/.GIT/y",
        ".runwright/x",
        "a\x00b",
    ],
)
def test_unsafe_paths_are_named(path: str) -> None:
    """Every unsafe path shape gets a reason."""
    assert path_problem(path) is not None


def test_safe_paths_pass() -> None:
    """Ordinary nested paths, dotfiles and names with spaces are fine."""
    for path in ["src/a.py", ".env.example", "docs/read me.md", "a/.github/workflows/ci.yml"]:
        assert path_problem(path) is None


def test_symlink_targets_must_stay_inside() -> None:
    """A symlink may point within the repository, never above it or to an absolute path."""
    assert symlink_problem("src/link", "../lib/x.py") is None
    assert symlink_problem("src/link", "../../x") is not None
    assert symlink_problem("link", "/etc/passwd") is not None
    assert symlink_problem("a/link", "../.git/config") is not None


def test_globs_have_gitignore_meaning() -> None:
    """secrets/* covers all below secrets; *.pem matches at any depth; src/** is a subtree."""
    assert glob_matches("secrets/*", "secrets/a/b.txt")
    assert not glob_matches("secrets/*", "src/secrets.py")
    assert glob_matches("*.pem", "deploy/keys/k.pem")
    assert glob_matches("src/**", "src/a/b/c.py")
    assert glob_matches("**/test_*.py", "test_a.py")
    assert not glob_matches("src/*.py", "src/a/b.py")


def test_glob_within_is_conservative() -> None:
    """A narrower pattern is within a wider one; anything unprovable is not."""
    assert glob_within("src/core/*.py", "src/**")
    assert glob_within("src/a.py", "src/*")
    assert not glob_within("src/**", "src/core/**")
    assert not glob_within("*.py", "src/**")

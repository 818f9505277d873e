"""Hostile patch paths through `python -m runwright patch …`: a newline in a name is
quarantined, `patch show` prints the name on one line, and `apply --override-quarantine` is one
line of refusal that leaves the patch quarantined."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from patches_support import init_repo

from tests.workers import worker_env

EVIL = (
    'diff --git "a/evil\\nname" "b/evil\\nname"\nnew file mode 100644\n'
    '--- /dev/null\n+++ "b/evil\\nname"\n@@ -0,0 +1 @@\n+x\n'
)


def rw(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m runwright ARGS` in ``root``."""
    home = root / ".runwright"
    return subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        env=worker_env(home, f"sqlite:///{home / 'state.db'}"),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_newline_in_a_path_is_shown_on_one_line_and_never_applied(tmp_path: Path) -> None:
    """`patch submit --validate` quarantines `evil\\nname` (it used to validate and apply);
    `patch show` prints the name escaped on one line; an override is refused in one line and
    the patch stays quarantined with its reason."""
    root = init_repo(tmp_path / "repo")
    (root / "evil.diff").write_text(EVIL)
    submitted = rw(root, "patch", "submit", "evil.diff", "--validate", "--summary", "x", "--json")
    record: Any = json.loads(submitted.stdout)
    patch_id = record["artifact"]["patch_id"]
    assert record["entry"]["state"] == "quarantined"
    reason = record["entry"]["quarantine"]["quarantine_reason"]
    assert "contains a control character ('\\n')" in reason
    shown = rw(root, "patch", "show", patch_id).stdout
    assert "  files: evil\\nname\n" in shown
    assert not any(line == "name" for line in shown.splitlines())
    refused = rw(root, "patch", "apply", patch_id, "--override-quarantine", "--reason", "ok")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: patch {patch_id} names unsafe paths")
    after: Any = json.loads(rw(root, "patch", "show", patch_id, "--json").stdout)
    assert after["entry"]["state"] == "quarantined"
    assert after["entry"]["quarantine"]["quarantine_reason"] == reason
    assert not (root / "evil\nname").exists()

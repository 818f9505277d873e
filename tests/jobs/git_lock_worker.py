"""One of several processes hammering one repository, as parallel plan phases do: it makes
and removes worktrees and commits to the checkout, N times, through runwright's helpers.

    python git_lock_worker.py REPO NAME N

Prints every git error and exits 1 if there was one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from runwright.errors import RunwrightError
from runwright.patches.git import FALLBACK_IDENTITY, git, repo_lock
from runwright.patches.worktrees import Worktrees


def main(argv: list[str]) -> int:
    repo, me, count = Path(argv[0]), argv[1], int(argv[2])
    trees = Worktrees(repo, repo / ".runwright" / "worktrees")
    errors = []
    for i in range(count):
        name = f"w-{me}-{i}"
        try:
            tree = trees.create(name, "HEAD")
            (tree / "scratch.txt").write_text(f"{me} {i}\n")
            with repo_lock(repo):
                path = repo / "work" / f"{me}-{i}.txt"
                path.parent.mkdir(exist_ok=True)
                path.write_text(f"{me} {i}\n")
                git(repo, "add", "--", str(path.relative_to(repo)))
                git(repo, *FALLBACK_IDENTITY, "commit", "--quiet", "-m", f"{me} {i}")
            trees.remove(name)
        except RunwrightError as exc:
            errors.append(exc.message)
    for error in errors:
        print(error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

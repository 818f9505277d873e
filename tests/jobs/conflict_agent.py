"""A stand-in agent that makes its own patch conflict: besides editing its worktree (through
the example's scripted agent), on a first delegation it also commits a different version of
the same file straight to the user's checkout, so that its patch no longer applies there.

    python conflict_agent.py SCRIPTED_AGENT REPO WORKTREE PROMPT_FILE

Standard library only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

IDENTITY = ["-c", "user.name=someone else", "-c", "user.email=else@localhost"]


def main(argv: list[str]) -> int:
    scripted, repo, worktree, prompt_file = argv
    done = subprocess.run([sys.executable, scripted, "code", worktree, prompt_file], check=False)
    if done.returncode:
        return done.returncode
    if "CORRECTION" in Path(prompt_file).read_text(encoding="utf-8"):
        return 0
    target = Path(repo) / "greet" / "hello.py"
    target.write_text('"""Someone else got here first."""\n', encoding="utf-8")
    for args in (["add", "greet/hello.py"], [*IDENTITY, "commit", "-q", "-m", "meanwhile"]):
        subprocess.run(["git", "-C", repo, *args], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

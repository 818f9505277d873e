"""A stand-in agent for the test-spec tests: it reads the test spec from its working directory
at the path the prompt's "Test spec" section names, then lets the example's scripted agent
write the tests, and marks each test file it wrote with the spec's first line (proof that it
read the file).

    python spec_agent.py SCRIPTED_AGENT WORKTREE PROMPT_FILE

Exits 3 when the prompt names no spec, 4 when the file is not in its working directory.
Standard library only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    scripted, worktree, prompt_file = argv
    prompt = Path(prompt_file).read_text(encoding="utf-8")
    named = re.search(r"^## Test spec \((.+)\)$", prompt, re.MULTILINE)
    if named is None:
        print("the prompt has no Test spec section", file=sys.stderr)
        return 3
    spec = Path.cwd() / named.group(1)
    if not spec.is_file():
        print(f"no test spec at {named.group(1)} in {Path.cwd()}", file=sys.stderr)
        return 4
    first = spec.read_text(encoding="utf-8").splitlines()[0]
    done = subprocess.run(
        [sys.executable, scripted, "tests", worktree, prompt_file],
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout, end="")
    print(done.stderr, end="", file=sys.stderr)
    if done.returncode:
        return done.returncode
    for wrote in re.findall(r"^wrote (\S+)", done.stdout, re.MULTILINE):
        with (Path(worktree) / wrote).open("a", encoding="utf-8") as out:
            out.write(f"# spec: {first}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A stand-in agent for the parallel-phase tests: it edits the files the prompt's scope names.

    python parallel_agent.py WORKTREE PROMPT_FILE

It reads "focus on: a, b" from runwright's prompt. A test file (`tests/…`) gets a small passing
unittest; any other file a small module. Before writing it sleeps: longer for lower-numbered
files (`test_p1.py` longest), so the phases of a batch finish in reverse plan order unless
something orders their commits. It prints when it started and ended (wall clock). Standard
library only.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

TEST = """import unittest


class {name}Test(unittest.TestCase):
    def test_holds(self):
        self.assertEqual(1 + 1, 2)


if __name__ == "__main__":
    unittest.main()
"""


def focus(prompt: str) -> list[str]:
    """The files the prompt's scope asks the tool to focus on."""
    found = re.search(r"focus on: (.+)", prompt)
    return [p.strip() for p in found.group(1).split(",")] if found else []


def pause(paths: list[str]) -> float:
    """Seconds to wait: 2 s plus 0.75 s for each place the phase is before the fourth."""
    numbers = [int(n) for p in paths for n in re.findall(r"p(\d+)", Path(p).stem)]
    return 2.0 + 0.75 * max(0, 4 - min(numbers, default=4))


def main(argv: list[str]) -> int:
    worktree, prompt_file = Path(argv[0]), Path(argv[1])
    paths = focus(prompt_file.read_text(encoding="utf-8"))
    if not paths:
        print("the prompt names no file to focus on", file=sys.stderr)
        return 2
    print(f"started {time.time():.3f}")
    time.sleep(pause(paths))
    for rel in paths:
        target = worktree / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel.startswith("tests/"):
            target.write_text(TEST.format(name=Path(rel).stem.title().replace("_", "")))
        else:
            target.write_text(f'"""Written by the parallel agent."""\n\nNAME = "{rel}"\n')
        print(f"wrote {rel}")
    print(f"ended {time.time():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

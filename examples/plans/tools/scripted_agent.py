"""A scripted stand-in for an agent CLI: it reads the prompt runwright rendered and edits the
worktree it runs in, like aider or claude would, but deterministically.

    python scripted_agent.py tests|code [--mode MODE] [--sleep S] WORKTREE PROMPT_FILE

`tests` writes the unittest file of every requirement named in the prompt's context; `code`
writes the module. Modes for `code`: `good`; `late`, wrong until the prompt is the second
correction; `stubborn`, always wrong; `cheat`, right code plus a rewritten test (which runwright
must refuse). `--sleep` waits first (crash tests kill it mid-edit). Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

TESTS = {
    "R1": (
        "tests/test_greet.py",
        """import unittest

from greet.hello import greet


class GreetTest(unittest.TestCase):
    def test_greets_by_name(self):
        self.assertEqual(greet("Ada"), "Hello, Ada!")

    def test_refuses_an_empty_name(self):
        with self.assertRaises(ValueError):
            greet("")


if __name__ == "__main__":
    unittest.main()
""",
    ),
    "R2": (
        "tests/test_farewell.py",
        """import unittest

from greet.bye import farewell


class FarewellTest(unittest.TestCase):
    def test_says_goodbye(self):
        self.assertEqual(farewell("Ada"), "Goodbye, Ada.")


if __name__ == "__main__":
    unittest.main()
""",
    ),
}

CODE = {
    "R1": (
        "greet/hello.py",
        '''"""Greetings."""


def greet(name: str) -> str:
    """'Hello, NAME!' for a non-empty name."""
    if not name:
        raise ValueError("a name is needed")
    return f"Hello, {name}!"
''',
        '''"""Greetings."""


def greet(name: str) -> str:
    return "Hello " + name
''',
    ),
    "R2": (
        "greet/bye.py",
        '''"""Farewells."""


def farewell(name: str) -> str:
    """'Goodbye, NAME.'"""
    return f"Goodbye, {name}."
''',
        '''"""Farewells."""


def farewell(name: str) -> str:
    return "Bye"
''',
    ),
}


def requirements(prompt: str) -> list[str]:
    """Requirement ids the prompt's context names ("Requirement R1 …")."""
    return sorted(set(re.findall(r"Requirement (R\d+)", prompt)))


def correction(prompt: str) -> int:
    """Which correction round the prompt is (0 for the first delegation)."""
    found = re.search(r"CORRECTION (\d+) of", prompt)
    return int(found.group(1)) if found else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["tests", "code"])
    parser.add_argument("--mode", choices=["good", "late", "stubborn", "cheat"], default="good")
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("worktree", type=Path)
    parser.add_argument("prompt_file", type=Path)
    args = parser.parse_args(argv)
    prompt = args.prompt_file.read_text(encoding="utf-8")
    wanted = requirements(prompt)
    if not wanted:
        print("the prompt names no requirement I know", file=sys.stderr)
        return 2
    round_ = correction(prompt)
    time.sleep(args.sleep)
    for req in wanted:
        if args.what == "tests":
            path, text = TESTS[req]
        else:
            path, good, bad = CODE[req]
            right = args.mode in {"good", "cheat"} or (args.mode == "late" and round_ >= 2)
            text = good if right else bad
            if args.mode == "cheat":
                test_path, _ = TESTS[req]
                cheat = args.worktree / test_path
                cheat.parent.mkdir(parents=True, exist_ok=True)
                cheat.write_text("# the implementer rewrote this test\n", encoding="utf-8")
        target = args.worktree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {path} for {req} (correction {round_}, mode {args.mode})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

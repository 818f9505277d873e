"""The commands a plan runs (tests, the parse check, a phase's verification) as argv lists.

Two placeholders are expanded, each only as a whole argv element: ``{tests}`` becomes the
relevant test files (several arguments; none when there are none, so the whole suite runs)
and ``{python}`` the interpreter running runwright. Nothing ever goes through a shell.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from runwright.domain.plans import PlanPhase, PlanSpec
from runwright.domain.policy_globs import any_match


def expand(argv: Sequence[str], tests: Sequence[str] = ()) -> list[str]:
    """``argv`` with ``{tests}`` and ``{python}`` elements expanded."""
    out: list[str] = []
    for element in argv:
        if element == "{tests}":
            out.extend(tests)
        elif element == "{python}":
            out.append(sys.executable)
        else:
            out.append(element)
    return out


def is_test_file(plan: PlanSpec, path: str) -> bool:
    """True when ``path`` is a test file by the plan's ``test_paths``."""
    return any_match(plan.test_paths, path) is not None


def suite_argv(plan: PlanSpec, tests: Sequence[str] = ()) -> list[str]:
    """The plan's test command, for ``tests`` (or the whole suite)."""
    return expand(plan.test_command, tests)


def parse_argv(plan: PlanSpec, tests: Sequence[str]) -> list[str] | None:
    """The command checking that ``tests`` parse, or None when there is nothing to run.

    Default: compile the Python test files (``py_compile``); other kinds of tests need the
    plan's ``parse_command``.
    """
    if plan.parse_command:
        return expand(plan.parse_command, tests)
    python = [t for t in tests if t.endswith(".py")]
    if not python:
        return None
    return [sys.executable, "-m", "py_compile", *python]


def verify_argv(plan: PlanSpec, phase: PlanPhase, tests: Sequence[str]) -> list[str]:
    """How an implementation phase's patch is verified: its own command, else the plan's
    test command on the tests of its requirements."""
    return expand(phase.verify_command or plan.test_command, tests)

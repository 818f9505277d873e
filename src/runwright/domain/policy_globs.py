"""Path globs for policies and resource scopes, with gitignore-like meaning.

- ``*`` matches within one path component, ``?`` one character, ``**`` any number of
  components (``src/**``, ``**/test_*.py``).
- A pattern without ``/`` matches a file or directory name at any depth (``*.pem``, ``.env``).
- A pattern matching a directory covers everything beneath it: ``secrets/*`` forbids
  ``secrets/a/b.txt``, ``build/`` forbids all of ``build``.

Matching is case-sensitive, on repository-relative POSIX paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_WILDCARDS = set("*?[")


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    pat = pattern.strip()
    pat = pat.removeprefix("./")
    anchored = "/" in pat.rstrip("/")
    pat = pat.strip("/")
    out = []
    i = 0
    while i < len(pat):
        if pat.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif pat[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pat[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pat[i]))
            i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:[^/]+/)*"
    return re.compile(f"^{prefix}{body}(?:/.*)?$")


def glob_matches(pattern: str, path: str) -> bool:
    """True when ``path`` (or a directory above it) matches ``pattern``."""
    return bool(_compile(pattern).match(path.strip("/")))


def any_match(patterns: Iterable[str], path: str) -> str | None:
    """The first of ``patterns`` that matches ``path``, or None."""
    for pattern in patterns:
        if glob_matches(pattern, path):
            return pattern
    return None


def _static_prefix(pattern: str) -> str:
    """The leading components of ``pattern`` that hold no wildcard."""
    parts = []
    for part in pattern.strip().removeprefix("./").strip("/").split("/"):
        if _WILDCARDS & set(part):
            break
        parts.append(part)
    return "/".join(parts)


def glob_within(inner: str, outer: str) -> bool:
    """True when every path ``inner`` matches is also matched by ``outer`` (conservatively).

    Exact for literal paths; for wildcard patterns it answers yes only when ``outer`` covers
    the literal directory ``inner`` starts with (``src/**`` covers ``src/a/*.py``) or the two
    are the same pattern. Anything it cannot prove is reported as not within.
    """
    a, b = inner.strip().removeprefix("./").rstrip("/"), outer.strip().removeprefix("./")
    if a == b.rstrip("/"):
        return True
    if not (_WILDCARDS & set(a)):
        return glob_matches(b, a)
    prefix = _static_prefix(a)
    if not prefix:
        return b.rstrip("/") in {"**", "*"} and "/" not in b.rstrip("/")
    # A wildcard pattern under `prefix`: covered when outer matches that directory, since a
    # directory match covers its whole subtree.
    return glob_matches(b, prefix)


def all_within(inner: Iterable[str], outer: Iterable[str]) -> list[str]:
    """The patterns of ``inner`` that no pattern of ``outer`` covers."""
    outer_list = list(outer)
    return [p for p in inner if not any(glob_within(p, q) for q in outer_list)]

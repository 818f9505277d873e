"""``.gitignore`` rules for folders that are not git work trees.

Follows gitignore(5): blank lines and ``#`` comments are skipped; ``!`` re-includes; a
trailing ``/`` matches directories only; a pattern with a ``/`` elsewhere is anchored to the
directory of its ``.gitignore``, otherwise it matches a name at any depth below it; ``*`` and
``?`` stay inside one component, ``**`` spans components; the last matching rule wins, and a
file inside an ignored directory cannot be re-included (the walk never enters it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern of one ``.gitignore``."""

    base: str  # the directory of the .gitignore, repository-relative ('' at the root)
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def _translate(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape("["))
                i += 1
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def parse_line(base: str, line: str) -> Rule | None:
    """The rule of one line of a ``.gitignore`` in directory ``base`` (None: no rule)."""
    text = line.rstrip("\n").rstrip("\r")
    stripped = text.rstrip(" ")
    if text.endswith("\\ "):
        stripped += " "
    if not stripped or stripped.startswith("#"):
        return None
    negate = stripped.startswith("!")
    if negate or stripped.startswith("\\!") or stripped.startswith("\\#"):
        stripped = stripped[1:]
    dir_only = stripped.endswith("/")
    stripped = stripped.rstrip("/")
    if not stripped:
        return None
    anchored = "/" in stripped
    stripped = stripped.lstrip("/")
    body = _translate(stripped)
    prefix = "" if anchored else "(?:.*/)?"
    try:
        regex = re.compile(f"^{prefix}{body}$")
    except re.error:
        return None
    return Rule(base=base, regex=regex, negate=negate, dir_only=dir_only)


@dataclass
class IgnoreRules:
    """The rules of every ``.gitignore`` seen so far, in the order git applies them."""

    rules: list[Rule] = field(default_factory=list)

    def add(self, base: str, text: str) -> None:
        """Add the rules of the ``.gitignore`` in directory ``base``."""
        for line in text.splitlines():
            rule = parse_line(base, line)
            if rule is not None:
                self.rules.append(rule)

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        """True when the last rule matching ``path`` ignores it."""
        verdict = False
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.base:
                if not path.startswith(rule.base + "/"):
                    continue
                subject = path[len(rule.base) + 1 :]
            else:
                subject = path
            if rule.regex.match(subject):
                verdict = not rule.negate
        return verdict

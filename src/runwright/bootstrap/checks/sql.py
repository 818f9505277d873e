"""SQL models: non-empty, brackets and quotes balanced, Jinja blocks closed, dbt refs
pointing at models, schema YAML parseable, no merge-conflict markers."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import yaml

from runwright.bootstrap.checks import CheckReport, Workspace, conflict_markers, line_of

REF = re.compile(r"""\bref\(\s*(['"])([^'"]+)\1\s*\)""")
JINJA_BLOCKS = {"if": "endif", "for": "endfor", "macro": "endmacro", "call": "endcall"}
JINJA_TAG = re.compile(r"\{%-?\s*(\w+)")


def strip_sql(text: str) -> tuple[str, str | None, int]:
    """``text`` with comments and quoted parts blanked (offsets kept), and the first
    unterminated construct with its offset (None when all are closed)."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        two = text[i : i + 2]
        if two == "--":
            end = text.find("\n", i)
            end = n if end == -1 else end
        elif two == "/*":
            end = text.find("*/", i + 2)
            if end == -1:
                return "".join(out), "unterminated /* comment", i
            end += 2
        elif text[i] in "'\"`":
            quote, j = text[i], i + 1
            while j < n:
                if text[j] == quote:
                    if j + 1 < n and text[j + 1] == quote:
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                return "".join(out), f"unterminated {quote} quote", i
            end = j + 1
        else:
            i += 1
            continue
        for k in range(i, end):
            if out[k] != "\n":
                out[k] = " "
        i = end
    return "".join(out), None, -1


def bracket_problem(code: str) -> tuple[str, int] | None:
    """The first unbalanced bracket of ``code`` and its offset, or None."""
    pairs = {")": "(", "]": "["}
    stack: list[tuple[str, int]] = []
    for i, ch in enumerate(code):
        if ch in "([":
            stack.append((ch, i))
        elif ch in pairs:
            if not stack or stack[-1][0] != pairs[ch]:
                return f"unmatched {ch!r}", i
            stack.pop()
    if stack:
        ch, i = stack[-1]
        return f"{ch!r} is never closed", i
    return None


def jinja_problems(text: str) -> list[tuple[str, int]]:
    """Unbalanced ``{{ }}`` / ``{% %}`` and unclosed block tags."""
    found = []
    for opener, closer in (("{{", "}}"), ("{%", "%}")):
        if text.count(opener) != text.count(closer):
            found.append(
                (f"{text.count(opener)} {opener!r} but {text.count(closer)} {closer!r}", 0)
            )
    stack: list[tuple[str, int]] = []
    for m in JINJA_TAG.finditer(text):
        tag = m.group(1)
        if tag in JINJA_BLOCKS:
            stack.append((tag, m.start()))
        elif tag.startswith("end"):
            if not stack or JINJA_BLOCKS[stack[-1][0]] != tag:
                found.append((f"{{% {tag} %}} without its opening tag", m.start()))
            else:
                stack.pop()
    found += [(f"{{% {tag} %}} is never closed with {JINJA_BLOCKS[tag]}", at) for tag, at in stack]
    return found


def check_sql(ws: Workspace) -> CheckReport:
    """Check every .sql file under the workspace's paths (and .yml schema files there)."""
    report = CheckReport("sql")
    sql_files = ws.files(".sql")
    models = {PurePosixPath(f).stem for f in ws.listing.files if f.endswith(".sql")}
    models |= {PurePosixPath(f).stem for f in ws.listing.files if f.endswith(".csv")}  # seeds
    for rel in sql_files:
        text = ws.text(rel, report)
        if text is None:
            continue
        report.files_checked += 1
        for line in conflict_markers(text):
            report.add(rel, line, "merge-conflict marker")
        raw = re.sub(r"\{#.*?#\}", _blank, text, flags=re.S)
        code, unterminated, at = strip_sql(raw)
        if unterminated:
            report.add(rel, line_of(text, at), unterminated)
            continue
        if not code.strip():
            report.add(rel, None, "empty model (only comments or whitespace)")
            continue
        for message, offset in jinja_problems(raw):
            report.add(rel, line_of(raw, offset) if offset else None, f"Jinja: {message}")
        problem = bracket_problem(re.sub(r"\{\{.*?\}\}|\{%.*?%\}", _blank, code, flags=re.S))
        if problem:
            report.add(rel, line_of(code, problem[1]), f"unbalanced brackets: {problem[0]}")
        for m in REF.finditer(raw):
            if m.group(2) not in models:
                report.add(rel, line_of(raw, m.start()), f"ref({m.group(2)!r}) names no model")
    for rel in ws.files(".yml", ".yaml"):
        text = ws.text(rel, report)
        if text is None:
            continue
        report.files_checked += 1
        try:
            list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where: int | None = mark.line + 1 if mark is not None else None
            report.add(rel, where, f"not valid YAML: {getattr(exc, 'problem', exc)}")
    return report


def _blank(m: re.Match[str]) -> str:
    return "".join("\n" if c == "\n" else " " for c in m.group(0))

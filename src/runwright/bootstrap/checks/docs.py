"""Markdown documents: relative links and images resolve (anchors included), heading levels
do not skip, at most one top-level heading, no merge-conflict markers."""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache

from runwright.bootstrap.checks import CheckReport, Workspace, conflict_markers

FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
INLINE_CODE = re.compile(r"`+[^`]*`+")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def slug(text: str) -> str:
    """The GitHub-style anchor of a heading."""
    text = re.sub(r"[`*_~]|<[^>]+>", "", text.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, with inline code blanked."""
    out, fence = [], None
    for i, line in enumerate(text.splitlines(), start=1):
        m = FENCE.match(line.lstrip())
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            out.append((i, INLINE_CODE.sub("``", line)))
    return out


def anchors(text: str) -> set[str]:
    """Every heading anchor of a document (duplicates numbered as GitHub does)."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(text):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        found.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    for m in re.finditer(r"""<a\s+(?:name|id)=["']([^"']+)["']""", text):
        found.add(m.group(1))
    return found


def check_docs(ws: Workspace) -> CheckReport:
    """Check every Markdown file under the workspace's paths."""
    report = CheckReport("docs")
    listed = set(ws.listing.files)
    dirs = {posixpath.dirname(f) for f in listed}
    dirs |= {"/".join(d.split("/")[:i]) for d in list(dirs) for i in range(1, d.count("/") + 1)}

    @lru_cache(maxsize=512)
    def anchors_of(rel: str) -> frozenset[str] | None:
        text = ws.text(rel, report)
        return None if text is None else frozenset(anchors(text))

    for rel in ws.files(".md", ".markdown"):
        text = ws.text(rel, report)
        if text is None:
            continue
        report.files_checked += 1
        for marker in conflict_markers(text):
            report.add(rel, marker, "merge-conflict marker")
        _headings(rel, text, report)
        here = posixpath.dirname(rel)
        for number, line in prose_lines(text):
            targets = [m.group(1) for m in INLINE_LINK.finditer(line)]
            ref = REF_DEF.match(line)
            if ref:
                targets.append(ref.group(1))
            for target in targets:
                problem = _link_problem(rel, here, target, listed, dirs, anchors_of)
                if problem:
                    report.add(rel, number, problem)
    return report


def _headings(rel: str, text: str, report: CheckReport) -> None:
    previous = 0
    top = 0
    for number, line in prose_lines(text):
        m = HEADING.match(line)
        if not m:
            continue
        level = len(m.group(1))
        if not m.group(2).strip():
            report.add(rel, number, "empty heading")
        if level == 1:
            top += 1
            if top == 2:
                report.add(rel, number, "a second top-level (#) heading")
        if previous and level > previous + 1:
            report.add(rel, number, f"heading level skips from h{previous} to h{level}")
        previous = level


def _link_problem(
    rel: str,
    here: str,
    target: str,
    listed: set[str],
    dirs: set[str],
    anchors_of: object,
) -> str | None:
    if SCHEME.match(target) or target.startswith("//"):
        return None
    path, _, anchor = target.partition("#")
    path = path.split("?", 1)[0]
    if not path:
        found = anchors_of(rel)  # type: ignore[operator]
        if anchor and found is not None and anchor not in found:
            return f"link to #{anchor}: no such heading in this document"
        return None
    joined = posixpath.normpath(path.lstrip("/") if path.startswith("/") else f"{here}/{path}")
    joined = joined.removeprefix("./")
    if joined.startswith("../") or joined == "..":
        return f"link to {target!r} leaves the project"
    if joined not in listed and joined not in dirs and joined != ".":
        return f"broken link: {target!r} ({joined} does not exist)"
    if anchor and joined.endswith((".md", ".markdown")) and joined in listed:
        found = anchors_of(joined)  # type: ignore[operator]
        if found is not None and anchor not in found:
            return f"link to {target!r}: {joined} has no heading #{anchor}"
    return None

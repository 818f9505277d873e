"""Repository hygiene for any project (``smoke``), and a safe whitespace fixer (``tidy``)
that the generic router app runs."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import yaml

from runwright.bootstrap.checks import CheckReport, Workspace, conflict_markers
from runwright.bootstrap.files import read_bytes

LARGE_FILE_BYTES = 10 * 1024 * 1024
TEXT_SNIFF = 8192
TIDY_MAX_BYTES = 1024 * 1024


def is_binary(head: bytes) -> bool:
    """True when the first bytes of a file hold a NUL (git's test for binary)."""
    return b"\0" in head[:TEXT_SNIFF]


def _parse(rel: str, text: str, report: CheckReport) -> None:
    try:
        if rel.endswith(".json"):
            json.loads(text)
        elif rel.endswith((".yaml", ".yml")):
            list(yaml.safe_load_all(text))
        elif rel.endswith(".toml"):
            tomllib.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        kind = rel.rsplit(".", 1)[-1].upper()
        report.add(rel, None, f"not valid {kind}: {str(exc).splitlines()[0]}")


def check_smoke(ws: Workspace) -> CheckReport:
    """No merge-conflict markers, no unparseable JSON/YAML/TOML, no symlink leaving the
    project or dangling; files over 10 MiB are noted."""
    report = CheckReport("smoke")
    for skipped in ws.listing.skipped:
        if "outside the project" in skipped.reason or "dangling" in skipped.reason:
            report.add(skipped.path, None, skipped.reason)
    for rel in ws.files():
        try:
            size = (ws.root / rel).stat().st_size
        except OSError:
            continue
        report.files_checked += 1
        if size > LARGE_FILE_BYTES:
            report.notes.append(f"{rel}: {size // (1024 * 1024)} MiB (not read)")
            continue
        head = read_bytes(ws.root, rel, TEXT_SNIFF)
        if head is None or is_binary(head):
            continue
        text = ws.text(rel, report)
        if text is None:
            continue
        for line in conflict_markers(text):
            report.add(rel, line, "merge-conflict marker")
        _parse(rel, text, report)
    return report


def tidy(root: Path, files: list[str]) -> CheckReport:
    """Strip trailing whitespace (not in Markdown, where it is a line break) and end every
    text file with one newline. With no ``files``, every listed text file is tidied."""
    ws = Workspace.open(root)
    report = CheckReport("tidy")
    listed = set(ws.listing.files)
    targets = [f.strip("/") for f in files] or ws.listing.files
    for rel in targets:
        if rel not in listed:
            report.notes.append(f"{rel}: not a listed file of the project, left alone")
            continue
        data = read_bytes(ws.root, rel, TIDY_MAX_BYTES + 1)
        if data is None or len(data) > TIDY_MAX_BYTES or is_binary(data) or not data:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        report.files_checked += 1
        lines = text.splitlines()
        if not rel.endswith((".md", ".markdown")):
            lines = [line.rstrip() for line in lines]
        while lines and not lines[-1].strip():
            lines.pop()
        newline = "\r\n" if "\r\n" in text else "\n"
        fixed = newline.join(lines) + newline if lines else ""
        if fixed != text:
            target = ws.root / rel
            tmp = target.with_name(f".{target.name}.tidy")
            tmp.write_text(fixed, encoding="utf-8", newline="")
            os.replace(tmp, target)
            report.notes.append(f"{rel}: tidied")
    return report

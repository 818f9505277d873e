"""Infrastructure and configuration: YAML and JSON parse; Kubernetes objects name their
apiVersion, kind and metadata.name; Helm charts their name and version; kustomizations list
resources that exist; Terraform files balance their braces."""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

import yaml

from runwright.bootstrap.checks import CheckReport, Workspace, conflict_markers, line_of

KUSTOMIZATIONS = {"kustomization.yaml", "kustomization.yml"}
NO_METADATA_KINDS = {"Kustomization", "Component", "List"}


def _yaml_docs(rel: str, text: str, report: CheckReport) -> list[Any] | None:
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.add(
            rel, mark.line + 1 if mark else None, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        )
        return None


def _check_object(rel: str, index: int, doc: dict[str, Any], report: CheckReport) -> None:
    where = f"document {index + 1}: " if index else ""
    missing = [k for k in ("apiVersion", "kind") if not doc.get(k)]
    if missing:
        report.add(rel, None, f"{where}Kubernetes object without {', '.join(missing)}")
        return
    if doc["kind"] in NO_METADATA_KINDS:
        return
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
        report.add(rel, None, f"{where}{doc['kind']} without metadata.name")


def strip_hcl(text: str) -> str:
    """Terraform/HCL with comments, strings and heredocs blanked (offsets kept)."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        if text.startswith("#", i) or text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            end = j + 1
        elif text.startswith("<<", i):
            m = re.match(r"<<-?([A-Za-z_]\w*)\n", text[i:])
            if not m:
                i += 2
                continue
            close = re.compile(rf"^\s*{m.group(1)}\s*$", re.M)
            found = close.search(text, i + m.end())
            end = n if found is None else found.end()
        else:
            i += 1
            continue
        blank(i, end)
        i = end
    return "".join(out)


def _braces(rel: str, text: str, report: CheckReport) -> None:
    code = strip_hcl(text)
    stack: list[tuple[str, int]] = []
    pairs = {"}": "{", ")": "(", "]": "["}
    for i, ch in enumerate(code):
        if ch in "{([":
            stack.append((ch, i))
        elif ch in pairs:
            if not stack or stack[-1][0] != pairs[ch]:
                report.add(rel, line_of(code, i), f"unmatched {ch!r}")
                return
            stack.pop()
    if stack:
        report.add(rel, line_of(code, stack[-1][1]), f"{stack[-1][0]!r} is never closed")


def _check_chart(rel: str, docs: list[Any], report: CheckReport) -> None:
    chart = docs[0] if docs and isinstance(docs[0], dict) else {}
    for key in ("apiVersion", "name", "version"):
        if not chart.get(key):
            report.add(rel, None, f"Helm chart without {key}")


def _check_kustomization(
    rel: str, doc: dict[str, Any], listed: set[str], report: CheckReport
) -> None:
    base = posixpath.dirname(rel)
    for entry in doc.get("resources") or []:
        if not isinstance(entry, str) or "://" in entry or entry.startswith("github.com"):
            continue
        target = posixpath.normpath(posixpath.join(base, entry))
        if target not in listed and not any(f.startswith(target + "/") for f in listed):
            report.add(rel, None, f"resource {entry!r} does not exist")


def _check_yaml(rel: str, text: str, listed: set[str], report: CheckReport) -> None:
    docs = _yaml_docs(rel, text, report)
    if docs is None:
        return
    name = posixpath.basename(rel)
    if name == "Chart.yaml":
        _check_chart(rel, docs, report)
        return
    for index, doc in enumerate(docs):
        if isinstance(doc, dict) and ("apiVersion" in doc or "kind" in doc):
            _check_object(rel, index, doc, report)
    if name in KUSTOMIZATIONS and docs and isinstance(docs[0], dict):
        _check_kustomization(rel, docs[0], listed, report)


def check_manifests(ws: Workspace) -> CheckReport:
    """Check YAML, JSON and Terraform files under the workspace's paths."""
    report = CheckReport("manifests")
    listed = set(ws.listing.files)
    charts = {posixpath.dirname(f) for f in listed if posixpath.basename(f) == "Chart.yaml"}
    for rel in ws.files(".yaml", ".yml", ".json", ".tf", ".tfvars"):
        if any(rel.startswith(f"{c}/templates/".lstrip("/")) for c in charts):
            report.notes.append(f"{rel}: Helm template, not parsed")
            continue
        text = ws.text(rel, report)
        if text is None:
            continue
        report.files_checked += 1
        for line in conflict_markers(text):
            report.add(rel, line, "merge-conflict marker")
        if rel.endswith(".json"):
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                report.add(rel, exc.lineno, f"not valid JSON: {exc.msg}")
        elif rel.endswith((".tf", ".tfvars")):
            _braces(rel, text, report)
        else:
            _check_yaml(rel, text, listed, report)
    return report

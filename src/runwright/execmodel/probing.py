"""Running probes: each concrete test yields PASS / WARN / FAIL with evidence links."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from runwright.domain.evidence import EvidenceLink
from runwright.domain.execmodel.checks import CheckStatus, ProbeResult
from runwright.domain.execmodel.probes import (
    CommandProbe,
    ExitCodeProbe,
    FileProbe,
    HttpProbe,
    JsonSchemaProbe,
    Probe,
    RegexProbe,
    Sha256Probe,
)
from runwright.engine.evidence import attach_evidence
from runwright.execmodel.procs import run_command
from runwright.execmodel.runtime import RunContext
from runwright.store.blobs import BlobStore, sha256_file

PASS, WARN, FAIL = CheckStatus.PASS, CheckStatus.WARN, CheckStatus.FAIL
HTTP_EVIDENCE_LIMIT = 64 * 1024


@dataclass
class ProbeEnv:
    """What a probe can see: the run's context, the step records and the check's deadline."""

    ctx: RunContext
    run_id: str
    check_id: str
    index: int
    steps: Mapping[str, Mapping[str, Any]]
    deadline: float
    blobs: BlobStore

    def remaining(self, cap: float) -> float:
        """Seconds left for this probe: its own cap, bounded by the check's deadline."""
        return max(min(cap, self.deadline - time.monotonic()), 0.01)

    def attach(self, source: Path | bytes, name: str, label: str) -> EvidenceLink:
        """Store ``source`` as evidence of this check."""
        return attach_evidence(source, name=name, label=label)

    def path(self, value: str, field: str) -> Path:
        """A probe path, confined to the project."""
        return self.ctx.confine(value, field=f"{self.check_id}.probes[{self.index}].{field}")


def _result(
    kind: str, status: CheckStatus, message: str, *links: EvidenceLink, **details: Any
) -> ProbeResult:
    return ProbeResult(
        probe=kind, status=status, message=message, evidence_links=list(links), details=details
    )


def _codes(value: int | list[int]) -> list[int]:
    return [value] if isinstance(value, int) else list(value)


def command(p: CommandProbe, env: ProbeEnv) -> ProbeResult:
    """Run the command; exit as expected with something to link is PASS."""
    cwd = env.path(p.cwd, "cwd") if p.cwd else Path(env.ctx.project_root)
    base = Path(env.ctx.workdir) / "checks" / f"{env.check_id}.{env.index}"
    outcome = run_command(
        p.argv,
        cwd=cwd,
        env=env.ctx.child_env(env.run_id, {}),
        timeout=env.remaining(p.timeout_seconds),
        stdout_path=base.with_suffix(".stdout.txt"),
        stderr_path=base.with_suffix(".stderr.txt"),
    )
    links = []
    for stream, path in (("stdout", outcome.stdout_path), ("stderr", outcome.stderr_path)):
        if path.stat().st_size:
            links.append(
                env.attach(path, f"checks/{env.check_id}.{env.index}.{stream}.txt", stream)
            )
    for i, produced in enumerate(p.produces):
        target = env.path(produced, f"produces[{i}]")
        if target.is_file():
            links.append(env.attach(target, str(produced), "produced"))
    shown = " ".join(p.argv)[:120]
    details = {"argv": outcome.argv, "exit_code": outcome.exit_code, "seconds": outcome.seconds}
    if outcome.timed_out:
        return _result("command", FAIL, f"`{shown}` timed out", *links, **details)
    if outcome.error:
        return _result("command", FAIL, outcome.error, *links, **details)
    if not outcome.exited_with(p.expect_exit):
        message = f"`{shown}` exited {outcome.exit_code} (expected {p.expect_exit})"
        return _result("command", FAIL, message, *links, **details)
    if not links:
        message = f"`{shown}` exited {outcome.exit_code} but left no evidence to link"
        return _result("command", WARN, message, **details)
    return _result("command", PASS, f"`{shown}` exited {outcome.exit_code}", *links, **details)


def exit_code(p: ExitCodeProbe, env: ProbeEnv) -> ProbeResult:
    """Judge a step's recorded exit; its captured output is the evidence."""
    record = env.steps.get(p.step)
    if record is None or record.get("skipped"):
        return _result("exit_code", FAIL, f"step {p.step!r} did not run")
    links = [EvidenceLink.model_validate(e) for e in record.get("evidence", [])]
    if record.get("timed_out"):
        return _result("exit_code", FAIL, f"step {p.step!r} timed out", *links)
    code = record.get("exit_code")
    if code is None:
        code = 0 if record.get("ok") else 1
    if code not in _codes(p.equals):
        return _result(
            "exit_code", FAIL, f"step {p.step!r} exited {code} (expected {p.equals})", *links
        )
    if not links:
        return _result(
            "exit_code", WARN, f"step {p.step!r} exited {code} with no linkable evidence"
        )
    return _result("exit_code", PASS, f"step {p.step!r} exited {code}", *links)


def _rows(path: Path, text: str) -> int:
    if path.suffix.lower() == ".csv":
        return max(sum(1 for row in csv.reader(io.StringIO(text)) if row) - 1, 0)
    return sum(1 for line in text.splitlines() if line.strip())


def file(p: FileProbe, env: ProbeEnv) -> ProbeResult:
    """Existence, size, row/line counts and age of a file."""
    target = env.path(p.path, "path")
    if not target.is_file():
        if p.exists:
            return _result("file", FAIL, f"{p.path} does not exist")
        return _result("file", PASS, f"{p.path} is absent, as expected")
    if not p.exists:
        link = env.attach(target, p.path, "file")
        return _result("file", FAIL, f"{p.path} exists but should not", link)
    link = env.attach(target, p.path, "file")
    size = target.stat().st_size
    if p.non_empty and size == 0:
        return _result("file", FAIL, f"{p.path} is empty", link, size=0)
    text = target.read_text(errors="replace") if (p.min_rows or p.min_lines) else ""
    lines = len(text.splitlines())
    rows = _rows(target, text) if p.min_rows is not None else None
    details = {"size": size, "lines": lines, "rows": rows}
    if p.min_lines is not None and lines < p.min_lines:
        return _result(
            "file", FAIL, f"{p.path} has {lines} lines (< {p.min_lines})", link, **details
        )
    if rows is not None and p.min_rows is not None and rows < p.min_rows:
        return _result("file", FAIL, f"{p.path} has {rows} rows (< {p.min_rows})", link, **details)
    if p.max_age_minutes is not None:
        age = (time.time() - target.stat().st_mtime) / 60
        if age > p.max_age_minutes:
            message = f"{p.path} is stale: {age:.0f} min old (> {p.max_age_minutes:g})"
            return _result("file", WARN, message, link, **details)
    return _result("file", PASS, f"{p.path}: {size} bytes, {lines} lines", link, **details)


def _load_document(path: Path) -> Any:
    text = path.read_text()
    if path.suffix.lower() in {".yaml", ".yml"}:
        return yaml.safe_load(text)
    return json.loads(text)


def json_schema(p: JsonSchemaProbe, env: ProbeEnv) -> ProbeResult:
    """Validate a JSON/YAML document (or each JSON line) against a JSON Schema."""
    import jsonschema

    target = env.path(p.path, "path")
    if not target.is_file():
        return _result("json_schema", FAIL, f"{p.path} does not exist")
    link = env.attach(target, p.path, "document")
    if p.json_schema is not None:
        schema = p.json_schema
    else:
        schema = _load_document(env.path(p.schema_path or "", "schema_path"))
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return _result("json_schema", FAIL, f"the schema is invalid: {exc.message}", link)
    validator = cls(schema)
    try:
        if p.lines:
            docs = [
                (f"line {n}", json.loads(line))
                for n, line in enumerate(target.read_text().splitlines(), start=1)
                if line.strip()
            ]
        else:
            docs = [("document", _load_document(target))]
    except (ValueError, yaml.YAMLError) as exc:
        return _result("json_schema", FAIL, f"{p.path} does not parse: {exc}"[:300], link)
    if not docs:
        return _result("json_schema", WARN, f"{p.path} holds no documents to validate", link)
    problems = []
    for where, doc in docs:
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            at = "$" + "".join(f"[{part!r}]" for part in error.absolute_path)
            problems.append(f"{where} {at}: {error.message}")
    if problems:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        message = f"{p.path}: " + "; ".join(problems[:3]) + more
        return _result("json_schema", FAIL, message[:800], link, errors=len(problems))
    return _result("json_schema", PASS, f"{p.path}: {len(docs)} document(s) valid", link)


def regex(p: RegexProbe, env: ProbeEnv) -> ProbeResult:
    """Find ``pattern`` in a file or a step's output."""
    if p.path is not None:
        target = env.path(p.path, "path")
        if not target.is_file():
            return _result("regex", FAIL, f"{p.path} does not exist")
        link = env.attach(target, p.path, "text")
        text, where = target.read_text(errors="replace"), p.path
    else:
        record = env.steps.get(p.step or "")
        if record is None or record.get("skipped"):
            return _result("regex", FAIL, f"step {p.step!r} did not run")
        found = [
            EvidenceLink.model_validate(e)
            for e in record.get("evidence", [])
            if e.get("label") == p.stream
        ]
        if not found:
            return _result("regex", FAIL, f"step {p.step!r} wrote nothing to {p.stream}")
        link = found[0]
        text, where = env.blobs.read(link.sha256).decode(errors="replace"), f"{p.step}.{p.stream}"
    matches = len(re.findall(p.pattern, text, re.MULTILINE))
    if p.expect == "no_match":
        status = PASS if matches == 0 else FAIL
        return _result("regex", status, f"{where}: {matches} match(es) of /{p.pattern}/", link)
    status = PASS if matches >= p.min_matches else FAIL
    message = f"{where}: {matches} match(es) of /{p.pattern}/ (need {p.min_matches})"
    return _result("regex", status, message, link, matches=matches)


def sha256(p: Sha256Probe, env: ProbeEnv) -> ProbeResult:
    """Compare a file's sha256, or every entry of a manifest, with the recorded hash."""
    if p.manifest is None:
        target = env.path(p.path or "", "path")
        if not target.is_file():
            return _result("sha256", FAIL, f"{p.path} does not exist")
        link = env.attach(target, p.path or target.name, "file")
        actual = sha256_file(target)
        if actual != (p.equals or "").lower():
            return _result(
                "sha256", FAIL, f"{p.path}: sha256 is {actual[:12]}…, not as expected", link
            )
        return _result("sha256", PASS, f"{p.path}: sha256 matches", link)
    manifest = env.path(p.manifest, "manifest")
    if not manifest.is_file():
        return _result("sha256", FAIL, f"manifest {p.manifest} does not exist")
    link = env.attach(manifest, p.manifest, "manifest")
    try:
        entries = json.loads(manifest.read_text())["files"]
    except (ValueError, KeyError, TypeError) as exc:
        return _result("sha256", FAIL, f"manifest {p.manifest} is unreadable: {exc}", link)
    bad = []
    for i, entry in enumerate(entries):
        target = env.ctx.confine(
            str(manifest.parent / entry["path"]), field=f"{p.manifest}: files[{i}].path"
        )
        if not target.is_file() or sha256_file(target) != entry.get("sha256"):
            bad.append(str(entry["path"]))
    if bad:
        return _result(
            "sha256", FAIL, f"manifest {p.manifest}: mismatch for {', '.join(bad)}", link
        )
    if not entries:
        return _result("sha256", WARN, f"manifest {p.manifest} lists no files", link)
    return _result("sha256", PASS, f"manifest {p.manifest}: {len(entries)} file(s) match", link)


def http(p: HttpProbe, env: ProbeEnv) -> ProbeResult:
    """Request ``url`` and compare the status (and body) with what is expected."""
    import httpx

    if not p.url.startswith(("http://", "https://")):
        return _result("http", FAIL, f"{p.url!r} is not an http(s) URL")
    try:
        with httpx.Client(timeout=env.remaining(p.timeout_seconds), follow_redirects=False) as c:
            response = c.request(p.method, p.url)
    except httpx.TimeoutException:
        return _result("http", FAIL, f"{p.method} {p.url} timed out")
    except httpx.HTTPError as exc:
        return _result("http", FAIL, f"{p.method} {p.url} failed: {exc}"[:300])
    body = response.content[:HTTP_EVIDENCE_LIMIT]
    record = f"{p.method} {p.url}\nHTTP {response.status_code}\n".encode()
    record += "".join(f"{k}: {v}\n" for k, v in response.headers.items()).encode() + b"\n" + body
    name = f"checks/{env.check_id}.{env.index}.http.txt"
    link = env.attach(record, name, "http")
    status = response.status_code
    if status not in _codes(p.status):
        return _result("http", FAIL, f"{p.method} {p.url} → {status} (expected {p.status})", link)
    if p.body_regex and not re.search(p.body_regex, body.decode(errors="replace")):
        return _result(
            "http", FAIL, f"{p.method} {p.url} body does not match /{p.body_regex}/", link
        )
    digest = hashlib.sha256(response.content).hexdigest()[:12]
    return _result("http", PASS, f"{p.method} {p.url} → {status}", link, body_sha256=digest)


RUNNERS: dict[str, Callable[[Any, ProbeEnv], ProbeResult]] = {
    "command": command,
    "exit_code": exit_code,
    "file": file,
    "json_schema": json_schema,
    "regex": regex,
    "sha256": sha256,
    "http": http,
}


def run_probe(probe: Probe, env: ProbeEnv) -> ProbeResult:
    """Run one probe; an error inside it is a FAIL that says what went wrong."""
    try:
        return RUNNERS[probe.probe](probe, env)
    except Exception as exc:
        return _result(probe.probe, FAIL, f"{type(exc).__name__}: {exc}"[:500])

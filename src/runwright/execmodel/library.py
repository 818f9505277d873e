"""Step callables for operators (``call: runwright.execmodel.library:NAME``).

Each writes its files atomically and attaches them as evidence of the step, so a step that
declares ``satisfies`` really has evidence behind it. Arguments arrive as strings from the
operator's templates; paths should be absolute (use ``{project_root}`` or ``{workdir}``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

from runwright.engine.evidence import attach_evidence


def _write(target: Path, data: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "w", newline="") as fh:
        fh.write(data)
    os.replace(tmp, target)
    return target


def _columns(value: str | list[str]) -> list[str]:
    return [c.strip() for c in value.split(",")] if isinstance(value, str) else list(value)


def json_to_csv(source: str, target: str, columns: str | list[str]) -> dict[str, Any]:
    """Write the JSON list in ``source`` as CSV with ``columns`` (missing values empty)."""
    rows = json.loads(Path(source).read_text())
    if not isinstance(rows, list):
        raise ValueError(f"{source} does not hold a JSON list")
    names = _columns(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in names])
    path = _write(Path(target), out.getvalue())
    attach_evidence(path, label="written")
    return {"rows": len(rows), "path": str(path)}


def split_json_list(source: str, target: str) -> dict[str, Any]:
    """Write each element of the JSON list in ``source`` as one line of ``target`` (JSONL)."""
    items = json.loads(Path(source).read_text())
    if not isinstance(items, list):
        raise ValueError(f"{source} does not hold a JSON list")
    text = "".join(json.dumps(i, sort_keys=True) + "\n" for i in items)
    path = _write(Path(target), text)
    attach_evidence(path, label="written")
    return {"lines": len(items)}


def _count(path: Path) -> dict[str, int]:
    text = path.read_text(errors="replace")
    lines = len(text.splitlines())
    counts = {"lines": lines}
    if path.suffix.lower() == ".csv":
        counts["rows"] = max(sum(1 for r in csv.reader(io.StringIO(text)) if r) - 1, 0)
    return counts


def write_manifest(files: list[str], target: str) -> dict[str, Any]:
    """Write a manifest of ``files`` (path relative to it, size, sha256, counts)."""
    manifest_path = Path(target)
    entries = []
    for name in files:
        path = Path(name)
        data = path.read_bytes()
        entries.append(
            {
                "path": os.path.relpath(path, manifest_path.parent),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                **_count(path),
            }
        )
    body = {"generated_at": datetime.now(UTC).isoformat(), "files": entries}
    written = _write(manifest_path, json.dumps(body, indent=2) + "\n")
    attach_evidence(written, label="manifest")
    return {"files": len(entries)}


def write_decision(
    target: str, title: str, decision: str, constraint: dict[str, str], review_days: str = "7"
) -> dict[str, Any]:
    """Write a decision record that constrains future work (numbers become numbers)."""
    parsed = {k: int(v) if str(v).isdigit() else v for k, v in constraint.items()}
    now = datetime.now(UTC)
    body = {
        "title": title,
        "decision": decision,
        "constraint": parsed,
        "decided_at": now.isoformat(),
        "review_at": (now + timedelta(days=int(review_days))).date().isoformat(),
    }
    path = _write(Path(target), json.dumps(body, indent=2) + "\n")
    attach_evidence(path, label="decision")
    return body


def send_messages(queue: str, outbox: str, template: str, log: str) -> dict[str, Any]:
    """Render ``template`` for each contact of the ``queue`` CSV (name, email, topic) into the
    ``outbox`` folder (a local stand-in for a mail relay) and log each touch as JSONL."""
    with Path(queue).open(newline="") as fh:
        contacts = list(csv.DictReader(fh))
    text = Template(Path(template).read_text())
    box = Path(outbox)
    lines = []
    for i, contact in enumerate(contacts, start=1):
        body = text.safe_substitute(contact)
        message = _write(box / f"{i:03d}-{contact['email']}.txt", body)
        entry = {
            "to": contact["email"],
            "subject": body.splitlines()[0] if body else "",
            "file": message.name,
            "sent_at": datetime.now(UTC).isoformat(),
        }
        lines.append(json.dumps(entry, sort_keys=True))
    path = _write(Path(log), "".join(line + "\n" for line in lines))
    attach_evidence(path, label="touches")
    return {"sent": len(lines)}


def schedule_follow_ups(sent: str, target: str, days: str = "3") -> dict[str, Any]:
    """One follow-up per touch in ``sent`` (JSONL), ``days`` after it was sent."""
    entries = [json.loads(x) for x in Path(sent).read_text().splitlines() if x.strip()]
    out = []
    for e in entries:
        at = datetime.fromisoformat(e["sent_at"]) + timedelta(days=int(days))
        out.append(json.dumps({"to": e["to"], "follow_up_on": at.date().isoformat()}))
    path = _write(Path(target), "".join(line + "\n" for line in out))
    attach_evidence(path, label="follow_ups")
    return {"scheduled": len(out)}

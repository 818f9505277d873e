"""Files dropped in a folder become rows in a SQLite table, each written exactly once.

A producer scans the folder every 30 seconds and publishes one event per new CSV file (the
file is the input; its name is the stable message id). A consumer reserves one file per run,
reads and sums it in ``prepare``, inserts one row keyed by the file name in ``mutate`` (the
only external write, recorded in the mutation ledger first and reconciled by looking the key
up if the outcome is ever unknown), and counts loaded files in ``next``.

Run the demo (a scratch folder, three CSV files, one worker until idle)::

    .venv/bin/python examples/workflows/files_to_sqlite.py

Or point it at your own folder and database and let a worker run it::

    FILES_INBOX=./inbox FILES_DB=sqlite:///files.db \\
        runwright workflow deploy files_to_sqlite:wf   # from this folder (or on PYTHONPATH)
    FILES_INBOX=./inbox FILES_DB=sqlite:///files.db runwright worker
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

import runwright
from runwright import Prepared
from runwright.workflows.builtin import FileTool, SqlTool

INBOX = Path(os.environ.get("FILES_INBOX", "inbox"))
DB_URL = os.environ.get("FILES_DB", "sqlite:///files.db")

folder = FileTool("folder", INBOX)
table = SqlTool("table", DB_URL, table="files", key="name")
wf = runwright.Workflow(
    "files_to_sqlite",
    topics=["files"],
    tools=[folder, table],
    description="CSV files in a folder → one row per file in a SQLite table",
)


@wf.producer(publishes=["files"], every="30s")
def scan(ctx: Any, state: Any) -> Any:
    """Publish each CSV file not seen before (state remembers the names)."""
    seen = set((state or {}).get("seen", []))
    for name in folder.list_files("*.csv"):
        if name in seen:
            continue
        input_id = ctx.register_input("folder", "csv", name, title=name)
        ctx.publish("files", f"file:{name}", {"name": name}, input_id=input_id)
        seen.add(name)
    return {"seen": sorted(seen)}


@wf.consumer(subscribe=["files"])
class Load:
    """One file per run: sum its second column into one row."""

    def prepare(self, ctx: Any, state: Any) -> Any:
        events = ctx.peek("files", limit=1)
        if not events:
            return None
        name = events[0].payload["name"]
        lines = [ln.split(",") for ln in folder.read_text(name).splitlines()[1:] if ln.strip()]
        row = {"name": name, "lines": len(lines), "total": sum(float(ln[1]) for ln in lines)}
        loaded = (state or {}).get("loaded", 0)
        return Prepared.reserve(events, data={"row": row, "loaded": loaded}, title=f"load {name}")

    def mutate(self, ctx: Any, prepared: Prepared) -> None:
        table.insert(prepared.data["row"])

    def next(self, ctx: Any, prepared: Prepared, result: runwright.MutationResult) -> Any:
        if prepared.data is None:
            return None
        return {"loaded": prepared.data["loaded"] + 1, "last": prepared.data["row"]["name"]}


def create_table(url: str = DB_URL) -> None:
    """The target table (the tool writes rows, it does not create tables)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS files "
                "(name VARCHAR(300) PRIMARY KEY, lines INTEGER, total REAL)"
            )
        )
    engine.dispose()


def sample_files(inbox: Path) -> None:
    """Three small CSV files."""
    inbox.mkdir(parents=True, exist_ok=True)
    for i, rows in enumerate(
        ([("pens", 3), ("ink", 4.5)], [("paper", 10)], [("desk", 120), ("lamp", 35)])
    ):
        body = "item,amount\n" + "".join(f"{n},{a}\n" for n, a in rows)
        (inbox / f"order-{i + 1}.csv").write_text(body)


def rows(url: str = DB_URL) -> list[dict[str, Any]]:
    """What the table holds."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM files ORDER BY name"))]
    engine.dispose()
    return found


def demo(client: runwright.Client) -> list[dict[str, Any]]:
    """Deploy this workflow and run one worker until idle; return the table's rows."""
    create_table()
    client.workflows.deploy(wf)
    client.worker(register=False).run(until_idle=True)
    return rows()


if __name__ == "__main__":
    work = Path(tempfile.mkdtemp(prefix="files-to-sqlite-"))
    os.environ.setdefault("FILES_INBOX", str(work / "inbox"))
    os.environ.setdefault("FILES_DB", f"sqlite:///{work / 'files.db'}")
    sys.path.insert(0, str(Path(__file__).parent))
    sample_files(Path(os.environ["FILES_INBOX"]))
    import files_to_sqlite as example  # the importable module, not __main__

    with runwright.Client.open(home=str(work / ".runwright")) as rw:
        for row in example.demo(rw):
            print(f"{row['name']}: {row['lines']} line(s), total {row['total']:g}")
        for item in rw.workflows.inputs():
            print(f"input {item.title}: {item.status.value}")
        ledger = rw.workflows.mutations()
        print(f"{len(ledger)} mutation(s), all {sorted({m.status.value for m in ledger})}")

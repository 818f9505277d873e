"""The example workflow (files in a folder → rows in a SQLite table) on both stores."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from runwright.api.client import Client
from runwright.domain.workflows import InputStatus, MutationStatus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "workflows"


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The example module, imported afresh against a scratch folder and database."""
    monkeypatch.setenv("FILES_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("FILES_DB", f"sqlite:///{tmp_path / 'files.db'}")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    sys.modules.pop("files_to_sqlite", None)
    module = importlib.import_module("files_to_sqlite")
    module.sample_files(tmp_path / "inbox")
    yield module
    module.table.close()
    sys.modules.pop("files_to_sqlite", None)


def test_each_file_becomes_exactly_one_row(
    client: Client, example: ModuleType, tmp_path: Path
) -> None:
    """Three files → three rows with their totals; a fourth file dropped later is loaded at the
    next scan; nothing is written twice and every input ends done."""
    rows = example.demo(client)
    assert [(r["name"], r["lines"], r["total"]) for r in rows] == [
        ("order-1.csv", 2, 7.5),
        ("order-2.csv", 1, 10.0),
        ("order-3.csv", 2, 155.0),
    ]
    (tmp_path / "inbox" / "order-4.csv").write_text("item,amount\nchair,80\n")
    client.clock.advance(30)  # type: ignore[attr-defined]
    client.worker(register=False).run(until_idle=True)
    assert [r["name"] for r in example.rows()] == [f"order-{i}.csv" for i in range(1, 5)]
    assert {i.status for i in client.workflows.inputs("files_to_sqlite")} == {InputStatus.DONE}
    ledger = client.workflows.mutations("files_to_sqlite")
    assert len(ledger) == 4
    assert {m.status for m in ledger} == {MutationStatus.APPLIED}
    state = {s.handler: s.state for s in client.workflows.states("files_to_sqlite")}
    assert state["Load"]["loaded"] == 4

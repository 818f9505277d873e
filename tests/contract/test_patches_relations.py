"""Patch relations (replaces, rollback_of, chain) on SQLite and PostgreSQL, in the API and
from the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from patches_support import init_repo, make_diff

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.engine.clock import FakeClock
from runwright.errors import NotFound
from tests.acceptance.test_patches_cli import rw, rwj

FILES = {"src/app.py": "def answer():\n    return 41\n"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one committed file."""
    return init_repo(tmp_path / "repo", FILES)


@pytest.fixture
def pc(repo: Path, db_url: str, clock: FakeClock) -> Iterator[Client]:
    """A client whose project is ``repo``, on SQLite or PostgreSQL."""
    settings = load_settings(
        env={}, overrides={"home": repo / ".runwright", "database_url": db_url}
    )
    client = Client.open(settings, clock=clock)
    yield client
    client.close()


def answer(repo: Path, value: int) -> str:
    """A diff that makes answer() return ``value``."""
    return make_diff(repo, {"src/app.py": f"def answer():\n    return {value}\n"})


def test_a_replacement_names_what_it_replaces_and_joins_its_chain(pc: Client, repo: Path) -> None:
    """A patch submitted as replacing another records replaces_patch_id and takes the other's
    chain (its id when it had none); a replacement of a replacement stays in the first chain,
    and so does the revert of a committed member (rollback_of)."""
    first = pc.patches.submit(answer(repo, 42))
    assert first.entry.relations.chain_id is None
    second = pc.patches.submit(answer(repo, 43), replaces=first.patch_id)
    assert second.entry.relations.replaces_patch_id == first.patch_id
    assert second.entry.relations.chain_id == first.patch_id
    third = pc.patches.submit(answer(repo, 44), replaces=second.patch_id)
    assert third.entry.relations.replaces_patch_id == second.patch_id
    assert third.entry.relations.chain_id == first.patch_id
    assert pc.patches.get(third.patch_id).entry.relations == third.entry.relations
    rec = third
    for step in (pc.patches.validate, pc.patches.apply, pc.patches.verify, pc.patches.commit):
        rec = step(rec.patch_id)
    revert = pc.patches.rollback(rec.patch_id)
    assert revert.entry.relations.rollback_of_patch_id == third.patch_id
    assert revert.entry.relations.chain_id == first.patch_id


def test_replacing_an_unknown_patch_is_refused_and_records_nothing(pc: Client, repo: Path) -> None:
    """A replaces id that names no patch is NotFound naming the field; no patch is stored."""
    with pytest.raises(NotFound, match="to be replaced") as caught:
        pc.patches.submit(answer(repo, 42), replaces="01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert caught.value.fields.get("field") == "replaces"
    assert pc.patches.list() == []


def test_patch_submit_replaces_from_the_cli(repo: Path, db_url: str) -> None:
    """`patch submit --replaces ID` records the relation (JSON and `patch show`); an unknown
    id is a one-line error with exit 1."""
    diff_file = repo.parent / "a.diff"
    diff_file.write_text(answer(repo, 42))
    first = rwj(repo, "patch", "submit", str(diff_file), db_url=db_url)["artifact"]["patch_id"]
    diff_file.write_text(answer(repo, 43))
    second = rwj(repo, "patch", "submit", str(diff_file), "--replaces", first, db_url=db_url)
    assert second["entry"]["relations"]["replaces_patch_id"] == first
    assert second["entry"]["relations"]["chain_id"] == first
    shown = rw(repo, "patch", "show", second["artifact"]["patch_id"], db_url=db_url).stdout
    assert f"replaces {first}" in shown
    assert f"chain {first}" in shown
    bad = rw(
        repo,
        "patch",
        "submit",
        str(diff_file),
        "--replaces",
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        db_url=db_url,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1
    assert "to be replaced" in bad.stderr

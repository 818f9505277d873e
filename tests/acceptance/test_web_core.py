"""The dashboard in a real headless Chromium: core pages and actions, and its protections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import engine_jobs
import httpx
import pytest

from runwright.api.client import Client
from runwright.domain.states import RunState, StateReason
from tests.web import TOKEN, dashboard, save_screenshot

pytestmark = pytest.mark.slow


@pytest.fixture
def populated(real_client: Client, tmp_path: Path) -> dict[str, str]:
    """A store with real runs: a finished DAG, a failed run, a demo with evidence, a waiting
    run, and a run paused for a human decision."""
    from runwright.examples.tally import tally, write_sample

    c = real_client
    source = write_sample(tmp_path / "in.csv")
    demo = c.wait(c.start(tally, str(source), str(tmp_path / "report.csv")).run_id, timeout=60)
    dag = c.wait(c.start(engine_jobs.dag_job, str(tmp_path / "dag"), 2, 3).run_id, timeout=60)
    failed = c.wait(c.start(engine_jobs.fatal_job, "nonretryable").run_id, timeout=60)
    sleeper = c.start(engine_jobs.sleeper, 3600)
    c.run_until_idle()
    flag = tmp_path / "flag"
    flag.touch()
    doubt = c.start(engine_jobs.charge_job, str(tmp_path / "charges"), str(flag), "none")
    with pytest.raises(engine_jobs.SimulatedCrash):
        c.worker(register=False, lease_seconds=0.5).run(until_idle=True)
    import time

    time.sleep(0.7)
    c.worker(register=False).run(until_idle=True)
    assert c.get(doubt.run_id).state_reason == StateReason.PAUSED_RECONCILIATION
    op_run, packet, patch, quarantined = _parts(c, tmp_path)
    return {
        "demo": demo.run_id,
        "dag": dag.run_id,
        "failed": failed.run_id,
        "sleeper": sleeper.run_id,
        "doubt": doubt.run_id,
        "op_run": op_run,
        "packet": packet,
        "patch": patch,
        "quarantined": quarantined,
    }


OPERATOR = """
op_id: WriteTable
name: Write a small table
mode_ids: [PIPELINE]
steps:
  - id: write
    run:
      - "{python}"
      - "-c"
      - >-
        import pathlib;
        rows = ['a,b', '1,2', '3,4'];
        pathlib.Path('table.csv').write_text(chr(10).join(rows) + chr(10))
    idempotent: true
acceptance_checks:
  - id: rows
    check_type: content_validation
    probes:
      - {probe: file, path: table.csv, min_rows: 2}
timebox_minutes: 2
next_pointer_rule: "load table.csv into the report ({result})"
"""


def _parts(c: Client, root: Path) -> tuple[str, str, str, str]:
    """An operator run, a debug packet and two patches (one quarantined), all real."""
    from patches_support import init_repo, make_diff

    ops = root / "ops"
    ops.mkdir()
    (ops / "write_table.yaml").write_text(OPERATOR)
    views = c.ops.run_operator(c.ops.operator("WriteTable", ops).operator)
    op_run = views[-1].run.run_id
    c.ops.set_next_pointer(op_run, c.ops.suggested_next_pointer(op_run) or "load the table")
    packet = c.ops.new_packet("export drops the last row", context="seen after the CSV change")
    # The test's SQLite file and logs live in this folder: keep them out of git's reach.
    ignore = ".runwright/\nstate.db*\n*.log\n"
    init_repo(root, {".gitignore": ignore, "calc.py": "def add(a, b):\n    return a - b\n"})
    good = c.patches.submit(
        make_diff(root, {"calc.py": "def add(a, b):\n    return a + b\n"}), summary="fix add"
    )
    c.patches.validate(good.patch_id)
    bad = c.patches.submit(make_diff(root, {"notes.txt": "scratch\n"}), summary="stray file")
    c.patches.quarantine(bad.patch_id, "not part of the task")
    return op_run, packet.packet_id, good.patch_id, bad.patch_id


@pytest.fixture
def site(real_client: Client, populated: dict[str, str], db_url: str) -> Iterator[str]:
    """The dashboard serving the populated store."""
    with dashboard(real_client.settings.home, db_url) as base:
        yield base


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    """A logged-in browser page."""
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    pg.goto(f"{site}/login?token={TOKEN}")
    yield pg
    ctx.close()


def test_the_overview_shows_runs_by_state_and_what_needs_attention(
    page: Any, populated: dict[str, str]
) -> None:
    """The overview counts runs per state and lists the run waiting for a human decision."""
    assert page.locator("[data-testid=state-tiles] .tile.st-ok .count").inner_text() != "0"
    assert page.locator("[data-testid=needs-attention] .n").inner_text() == "1"
    assert populated["doubt"][-4:] in page.locator("#attention").inner_text()
    save_screenshot(page, "overview.png")


def test_runs_can_be_filtered_and_searched(page: Any, site: str, populated: dict[str, str]) -> None:
    """Filtering by state and searching by job narrow the runs table."""
    page.goto(f"{site}/runs?state=failed")
    rows = page.locator("[data-testid=runs-table] tbody tr")
    assert rows.count() == 1
    assert "tests.fatal" in rows.first.inner_text()
    page.goto(f"{site}/runs")
    page.fill("input[name=search]", "examples.tally")
    page.click("[data-testid=run-filters] button")
    assert page.locator("[data-testid=runs-table] tbody tr").count() == 1


def test_a_run_page_shows_steps_timeline_evidence_and_next_pointer(
    page: Any, site: str, populated: dict[str, str]
) -> None:
    """The demo run's page has its steps, hash-chained timeline, evidence with a working
    download, and its next pointer."""
    page.goto(f"{site}/runs/{populated['demo']}")
    assert page.locator("[data-testid=steps] tbody tr").count() == 5
    assert "run_created" in page.locator("[data-testid=timeline]").inner_text()
    assert "report.csv" in page.locator("[data-testid=evidence]").inner_text()
    with page.expect_download() as dl:
        page.click("[data-testid=evidence] a:has-text('download')")
    assert Path(dl.value.path()).read_text().startswith("category,total")
    page.click("text=Verify evidence")
    assert "Evidence verified" in page.locator("[data-testid=verify]").inner_text()
    save_screenshot(page, "run.png")


def test_setting_a_next_pointer_is_recorded_with_who_did_it(
    page: Any, site: str, real_client: Client, populated: dict[str, str]
) -> None:
    """The next-pointer form stores the line and logs a next_pointer_set event by the dashboard."""
    run_id = populated["failed"]
    page.goto(f"{site}/runs/{run_id}")
    page.fill("input[name=next_pointer]", "ask billing why the card was declined")
    page.click("form.inline-form button")
    assert "next pointer recorded" in page.locator("[data-testid=notice]").inner_text()
    assert real_client.get(run_id).next_pointer == "ask billing why the card was declined"
    last = real_client.events(run_id)[-1]
    assert last.kind.value == "next_pointer_set"
    assert "(dashboard)" in last.payload["by"]


def test_cancel_from_the_browser_ends_the_run(
    page: Any, site: str, real_client: Client, populated: dict[str, str]
) -> None:
    """Cancelling the waiting run (after confirming) cancels it in the store."""
    page.goto(f"{site}/runs/{populated['sleeper']}")
    page.on("dialog", lambda d: d.accept())
    page.click("button:has-text('Cancel run')")
    assert real_client.get(populated["sleeper"]).state is RunState.CANCELED


def test_deciding_a_step_in_doubt_resumes_the_run(
    page: Any, site: str, real_client: Client, populated: dict[str, str]
) -> None:
    """'It happened' with a result settles the step; a worker then finishes the run with it."""
    run_id = populated["doubt"]
    page.goto(f"{site}/runs/{run_id}")
    decide = page.locator("[data-testid=decide]")
    decide.locator("input[name=result]").fill('"charged by hand"')
    decide.locator("button:has-text('It happened')").click()
    assert "step resolved" in page.locator("[data-testid=notice]").inner_text()
    done = real_client.wait(run_id, timeout=30)
    assert done.state is RunState.SUCCEEDED
    assert done.result == "charged by hand"


def test_pages_need_the_token_and_actions_refuse_cross_site_posts(
    site: str, populated: dict[str, str]
) -> None:
    """Without the session cookie pages are refused; a POST without the CSRF value or from
    another origin is refused and changes nothing."""
    assert httpx.get(f"{site}/runs").status_code == 401
    assert httpx.get(f"{site}/login?token=wrong").status_code == 403
    with httpx.Client(base_url=site) as http:
        http.get(f"/login?token={TOKEN}")
        assert http.get("/runs").status_code == 200
        url = f"/runs/{populated['sleeper']}/cancel"
        assert http.post(url, data={}).status_code == 403
        assert http.post(url, data={"csrf": "x"}).status_code == 403
        evil = http.post(url, data={"csrf": "x"}, headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403


def test_an_operator_run_shows_its_checks_and_whether_it_counts(
    page: Any, site: str, populated: dict[str, str]
) -> None:
    """An op run's page shows its PASS/WARN/FAIL checks and that it counts (evidence and a
    next pointer)."""
    page.goto(f"{site}/runs/{populated['op_run']}")
    section = page.locator("[data-testid=op-run]")
    assert "WriteTable" in section.inner_text()
    assert "rows" in section.inner_text()
    assert "PASS" in section.inner_text()
    assert page.locator("[data-testid=counts]").inner_text().startswith("counts")


def test_the_patch_ledger_lists_patches_and_renders_a_diff(
    page: Any, site: str, populated: dict[str, str]
) -> None:
    """The ledger filters by state; a patch page shows validation, history and the diff."""
    page.goto(f"{site}/patches?state=quarantined")
    table = page.locator("[data-testid=patches-table]")
    assert "stray file" in table.inner_text()
    assert "fix add" not in table.inner_text()
    page.goto(f"{site}/patches/{populated['patch']}")
    assert "format ✔" in page.locator("[data-testid=validation]").inner_text()
    assert "validated" in page.locator("[data-testid=patch-history]").inner_text()
    assert page.locator("[data-testid=diff] .d-add").first.inner_text() == "+    return a + b"
    assert page.locator("[data-testid=diff] .d-del").first.inner_text() == "-    return a - b"


def test_debug_packets_are_listed_and_shown(
    page: Any, site: str, populated: dict[str, str]
) -> None:
    """The debug-packet list links to a packet page showing its symptom."""
    page.goto(f"{site}/debug")
    page.click("[data-testid=packets-table] a.mono")
    assert page.locator("[data-testid=symptom]").inner_text() == "export drops the last row"

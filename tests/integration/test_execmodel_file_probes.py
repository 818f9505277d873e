"""The file probe's verdicts, each from a real file an op run wrote (SQLite and PostgreSQL)."""

from __future__ import annotations

from execmodel_ops import operator, write_op

from runwright.api.client import Client
from runwright.domain.execmodel.checks import CheckStatus
from runwright.domain.states import RunState


def test_file_probes_fail_on_missing_empty_or_short_files(client: Client) -> None:
    """The operator writes rows.csv (header + 3 rows, 4 lines). A missing file, a file that
    should be absent, an empty file, fewer rows or lines than required are each FAIL with a
    message saying so; an absent file that should be absent and enough rows are PASS. The
    check (and the run) take the worst verdict."""
    root = client.settings.project_root
    (root / "empty.txt").write_text("")
    probes = [
        {"probe": "file", "path": "{workdir}/absent.csv"},
        {"probe": "file", "path": "{workdir}/rows.csv", "exists": False},
        {"probe": "file", "path": "{workdir}/absent.csv", "exists": False},
        {"probe": "file", "path": "empty.txt", "non_empty": True},
        {"probe": "file", "path": "{workdir}/rows.csv", "min_rows": 5},
        {"probe": "file", "path": "{workdir}/rows.csv", "min_lines": 10},
        {"probe": "file", "path": "{workdir}/rows.csv", "non_empty": True, "min_rows": 3},
    ]
    checks = [{"id": "files", "check_type": "content_validation", "probes": probes}]
    source = write_op(root / "ops", operator(op_id="FileVerdicts", acceptance_checks=checks))
    op = client.ops.operator("FileVerdicts", source).operator
    [view] = client.ops.run_operator(op, {})
    [result] = view.record.acceptance_results
    verdicts = [(p.status, p.message) for p in result.probes]
    assert [status for status, _ in verdicts] == [
        CheckStatus.FAIL,
        CheckStatus.FAIL,
        CheckStatus.PASS,
        CheckStatus.FAIL,
        CheckStatus.FAIL,
        CheckStatus.FAIL,
        CheckStatus.PASS,
    ]
    messages = [message for _, message in verdicts]
    assert messages[0].endswith("absent.csv does not exist")
    assert "exists but should not" in messages[1]
    assert "absent, as expected" in messages[2]
    assert messages[3] == "empty.txt is empty"
    assert "has 3 rows (< 5)" in messages[4]
    assert "has 4 lines (< 10)" in messages[5]
    assert result.status == CheckStatus.FAIL
    assert view.record.result == CheckStatus.FAIL
    assert view.run.state == RunState.FAILED
    linked = [bool(p.evidence_links) for p in result.probes]
    assert linked == [False, True, False, True, True, True, True]

"""Broken spec files through `python -m runwright`: one line on stderr naming the file and the
field, exit 1, never `internal error` — for bytes that are not UTF-8, deep nesting, bad YAML
tags, numbers that used to crash later, duplicate decision ids and an unknown router version;
the largest allowed numbers still work end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from execmodel_ops import operator, write_op
from patches_support import init_repo, make_diff
from plans_support import example_plan

from runwright.domain.limits import MAX_FEW, MAX_MINUTES, MAX_SECONDS
from tests.acceptance import spec_fuzz as fz
from tests.workers import worker_env

DEEP = "[" * 500 + "1" + "]" * 500 + "\n"


def rw(root: Path, *args: str, db_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m runwright ARGS` in the project ``root`` (pipes, not a terminal)."""
    home = root / ".runwright"
    return subprocess.run(
        [sys.executable, "-m", "runwright", *args],
        env=worker_env(home, db_url or f"sqlite:///{home / 'state.db'}"),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def error_line(proc: subprocess.CompletedProcess[str], *named: str) -> str:
    """The one `error:` line of a failed command, which names each of ``named``."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    assert "internal error" not in line
    for part in named:
        assert part in line, (part, line)
    return line


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A git project with a valid router, a valid operator and no policy file."""
    root = init_repo(tmp_path / "repo")
    home = root / ".runwright"
    (home / "router.yaml").parent.mkdir(parents=True, exist_ok=True)
    (home / "router.yaml").write_text(yaml.safe_dump(fz.router_doc()))
    write_op(home / "operators", operator())
    return root


def test_files_that_are_not_utf8_are_named(root: Path) -> None:
    """UTF-16 with a BOM (policy.yaml), one flipped byte (an operator), random bytes
    (router.yaml): each command names the file; before, an internal UnicodeDecodeError."""
    home = root / ".runwright"
    (home / "policy.yaml").write_bytes(b"\xff\xfeg\x00")
    error_line(rw(root, "patch", "policy"), str(home / "policy.yaml"), "UTF-16")
    (home / "policy.yaml").unlink()
    op = home / "operators" / "WriteRows.yaml"
    op.write_bytes(op.read_bytes().replace(b"Write a CSV", b"Write a \xffCSV"))
    error_line(rw(root, "op", "list"), str(op), "not UTF-8 text (byte 0xff)")
    op.unlink()
    (home / "router.yaml").write_bytes(bytes(range(256)))
    error_line(rw(root, "route", "--task-kind", "code_edit"), str(home / "router.yaml"))


def test_deep_nesting_is_refused_in_every_kind(root: Path) -> None:
    """500 nested lists in a plan, an operator, router.yaml and policy.yaml: one line naming
    the file, not `internal error: RecursionError`."""
    home = root / ".runwright"
    (root / "d.yaml").write_text(DEEP)
    plan = rw(root, "plan", "validate", "d.yaml")
    assert plan.returncode == 1
    assert "d.yaml is not a valid plan" in plan.stdout
    assert "line 1, column 65: nested deeper than 64 levels" in plan.stdout
    assert "internal error" not in plan.stdout + plan.stderr
    (home / "operators" / "Deep.yaml").write_text(DEEP)
    error_line(rw(root, "op", "list"), "Deep.yaml", "nested deeper")
    (home / "operators" / "Deep.yaml").unlink()
    (home / "policy.yaml").write_text(DEEP)
    error_line(rw(root, "patch", "policy"), "policy.yaml", "nested deeper")
    (home / "policy.yaml").unlink()
    (home / "router.yaml").write_text(DEEP)
    error_line(rw(root, "route", "--task-kind", "code_edit"), "router.yaml", "nested deeper")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!int zz\n", "line 1, column 4: !!int 'zz' cannot be read"),
        ("a: !!timestamp 2024-99-99\n", "!!timestamp '2024-99-99' cannot be read"),
    ],
)
def test_explicit_tags_with_bad_values_are_named(root: Path, text: str, expected: str) -> None:
    """`!!int zz` and `!!timestamp 2024-99-99` in policy.yaml: the file and the line."""
    (root / ".runwright" / "policy.yaml").write_text(text)
    error_line(rw(root, "patch", "policy"), "policy.yaml", expected)


def test_a_yaml_syntax_error_names_the_file_on_one_unwrapped_line(root: Path) -> None:
    """An operator with a syntax error: the path, line and column, not `<unicode string>`;
    `op validate` prints each problem on one line however long, its stdout being a pipe."""
    ops = root / ".runwright" / "operators"
    bad = ops / ("AnOperatorWithAVeryLongFileNameSoTheLineIsWiderThanEightyColumns" + ".yaml")
    bad.write_text("op_id: X\nname: [unclosed\n")
    line = error_line(rw(root, "op", "list"), str(bad), "line 3, column 1: not valid YAML")
    assert "<unicode string>" not in line
    proc = rw(root, "op", "validate")
    assert proc.returncode == 1
    problem = next(x for x in proc.stdout.splitlines() if x.startswith("bad"))
    assert len(problem) > 120
    assert str(bad) in problem
    assert "not valid YAML" in problem


def test_a_huge_oscillation_window_is_refused_and_the_largest_allowed_one_works(
    root: Path, db_url: str
) -> None:
    """oscillation_window 10^30 is refused naming the file and the field (it used to pass and
    overflow SQLite's INTEGER at `patch submit --validate`); the bound, 1000, validates a
    patch on SQLite and PostgreSQL."""
    policy = root / ".runwright" / "policy.yaml"
    policy.write_text("project:\n  oscillation_window: 1000000000000000000000000000000\n")
    error_line(
        rw(root, "patch", "policy", db_url=db_url),
        str(policy),
        "project.oscillation_window",
        "out of range",
    )
    policy.write_text("project:\n  oscillation_window: 1001\n")
    error_line(rw(root, "patch", "policy", db_url=db_url), "oscillation_window", "1000")
    policy.write_text(f"project:\n  oscillation_window: {MAX_FEW}\n")
    diff = root / "fix.diff"
    diff.write_text(make_diff(root, {"src/app.py": "x = 2\n"}))
    proc = rw(root, "patch", "submit", str(diff), "--validate", "--json", db_url=db_url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["entry"]["state"] == "validated"


def runs(root: Path, db_url: str) -> list[Any]:
    """Every run of the project's store."""
    proc = rw(root, "run", "list", "--json", db_url=db_url)
    assert proc.returncode == 0, proc.stderr
    listed: list[Any] = json.loads(proc.stdout)
    return listed


@pytest.mark.parametrize(
    ("change", "field", "what"),
    [
        ({"timebox_minutes": 1e308}, "timebox_minutes", "less than or equal to 10080"),
        ({"timebox_minutes": float("inf")}, "timebox_minutes", "inf is not a finite number"),
        ({"steps_timeout": float("inf")}, "steps[0].timeout_seconds", "not a finite number"),
        ({"steps_timeout": 1e300}, "steps[0].timeout_seconds", "less than or equal to 604800"),
    ],
)
def test_an_operator_with_an_endless_timebox_or_timeout_is_refused_before_any_run(
    root: Path, db_url: str, change: dict[str, float], field: str, what: str
) -> None:
    """`op run` with timebox_minutes or steps[].timeout_seconds at 1e308 or .inf: one line
    naming the file and field, and no run left pending (it used to fail with "run kwargs is
    not JSON-serializable" or an OverflowError after creating the run)."""
    spec = operator()
    if "steps_timeout" in change:
        spec["steps"][0]["timeout_seconds"] = change["steps_timeout"]
    else:
        spec.update(change)
    path = write_op(root / ".runwright" / "operators", spec)
    error_line(rw(root, "op", "run", "WriteRows", db_url=db_url), str(path), field, what)
    assert runs(root, db_url) == []


def test_an_operator_at_the_largest_timebox_and_timeout_runs(root: Path, db_url: str) -> None:
    """The bounds themselves (a week as timebox_minutes and as a step's timeout_seconds) run
    and count on SQLite and PostgreSQL."""
    spec = operator(timebox_minutes=MAX_MINUTES)
    spec["steps"][0]["timeout_seconds"] = MAX_SECONDS
    spec["acceptance_checks"][0]["timeout_seconds"] = MAX_SECONDS
    write_op(root / ".runwright" / "operators", spec)
    proc = rw(root, "op", "run", "WriteRows", "--json", db_url=db_url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["counts"] is True


def test_duplicate_decision_ids_in_a_plan_are_refused(root: Path) -> None:
    """Two decisions with id D1 are a problem, as duplicate requirement and phase ids are."""
    plan = example_plan("greet")
    plan["decisions"].append({"id": "D1", "question": "Again?", "status": "closed"})
    (root / "p.yaml").write_text(yaml.safe_dump(plan))
    proc = rw(root, "plan", "validate", "p.yaml")
    assert proc.returncode == 1
    assert "decisions: id 'D1' appears more than once" in proc.stdout


def test_an_unknown_router_version_is_refused(root: Path) -> None:
    """router.yaml `version: banana` names the file and the field; "1" (or 1, or "1.0") is the
    format."""
    router = fz.router_doc()
    router["version"] = "banana"
    path = root / ".runwright" / "router.yaml"
    path.write_text(yaml.safe_dump(router))
    error_line(rw(root, "route", "--task-kind", "code_edit"), str(path), "version")
    router["version"] = 1
    path.write_text(yaml.safe_dump(router))
    proc = rw(root, "route", "--task-kind", "code_edit", "--dry-run")
    assert proc.returncode == 0, proc.stderr


def test_mode_configuration_files_are_named(root: Path) -> None:
    """modes.yaml in UTF-16 and config.toml with a bad byte or an endless debug_minutes: the
    file, one line (before: an internal UnicodeDecodeError)."""
    home = root / ".runwright"
    (home / "modes.yaml").write_bytes("modes: {}\n".encode("utf-16"))
    error_line(rw(root, "modes"), str(home / "modes.yaml"), "UTF-16")
    (home / "modes.yaml").unlink()
    (home / "config.toml").write_bytes(b'[core]\nproject_id = "caf\xe9"\n')
    error_line(rw(root, "modes"), str(home / "config.toml"), "not UTF-8")
    (home / "config.toml").write_text("[execmodel]\ndebug_minutes = inf\n")
    error_line(rw(root, "modes"), str(home / "config.toml"), "debug_minutes")


def test_a_broken_profile_json_is_named(root: Path) -> None:
    """`schema validate project_profile` on a UTF-16 or 5000-deep profile.json names it."""
    path = root / ".runwright" / "profile.json"
    path.write_bytes(json.dumps(fz.profile_doc()).encode("utf-16"))
    error_line(rw(root, "schema", "validate", "project_profile", str(path)), str(path))
    path.write_text("[" * 5000 + "]" * 5000)
    error_line(
        rw(root, "schema", "validate", "project_profile", str(path)), str(path), "nested deeper"
    )


def test_a_broken_workflow_module_is_named(root: Path) -> None:
    """A workflow module with a syntax error, one that raises on import, and a producer
    every 99999999 days: `workflow deploy` names the module file (or the ref and the handler),
    one line."""
    (root / "wfsyntax.py").write_text("x = (\n")
    error_line(rw(root, "workflow", "deploy", "wfsyntax:wf"), "wfsyntax.py: line 1")
    (root / "wfraise.py").write_text("import json\n\nraise ValueError('[/x] boom')\n")
    error_line(
        rw(root, "workflow", "deploy", "wfraise:wf"), "wfraise.py: line 3: ValueError: [/x] boom"
    )
    (root / "wfevery.py").write_text(
        fz.WORKFLOW.format(name="w", producer='every="99999999d", timeout=1e308')
    )
    error_line(
        rw(root, "workflow", "deploy", "wfevery:wf"), "wfevery:wf", "producer 'poll'", "every"
    )


def test_init_names_a_kept_profile_json_that_does_not_load(tmp_path: Path) -> None:
    """`init` on a project whose edited profile.json is nested 5000 deep: a kept_file_invalid
    finding naming the file, exit 1 (before: `internal error: RecursionError`)."""
    root = init_repo(tmp_path / "repo", {"app.py": "print(1)\n"})
    assert rw(root, "init", ".").returncode == 0
    (root / ".runwright" / "profile.json").write_text("[" * 5000 + "]" * 5000)
    proc = rw(root, "init", ".", "--dry-run")
    assert proc.returncode == 1
    assert "internal error" not in proc.stdout + proc.stderr
    assert "kept_file_invalid profile.json does not load" in proc.stdout
    assert ".runwright/profile.json: (root): nested deeper than 64 levels" in proc.stdout


def test_an_error_naming_a_file_with_a_newline_stays_one_line(root: Path) -> None:
    """`plan validate` of a missing file whose name holds a newline: the name is escaped, so
    the error is one line."""
    proc = rw(root, "plan", "validate", "evil\nname.yaml")
    line = error_line(proc, "evil\\nname.yaml: no such plan file")
    assert line.isprintable()


def test_names_from_spec_files_are_printed_as_text_not_markup(root: Path) -> None:
    """A mode whose intent, risk, keywords and tags look like Rich markup (`[/x]`): `modes`
    and `classify` print them as written (before: `internal error: MarkupError`)."""
    (root / ".runwright" / "modes.yaml").write_text(
        'modes:\n  RESEARCH:\n    intent: "[/x]"\n    primary_risk: "[bold"\n'
        '    keywords: ["[/y]"]\ntags: ["[/z]"]\n'
    )
    listed = rw(root, "modes")
    assert listed.returncode == 0, listed.stderr
    assert "[/x]" in listed.stdout
    assert "MODEL/ANALYZE, [/z]" in listed.stdout
    matched = rw(root, "classify", "do [/y] now")
    assert matched.returncode == 0, matched.stderr
    assert "matched: [/y] → RESEARCH" in matched.stdout
    unmatched = rw(root, "classify", "[/q]")
    assert "no mode for '[/q]'" in unmatched.stdout


def test_tables_print_names_that_look_like_markup(root: Path) -> None:
    """An operator named `[/x]` in `op list` and a forbidden path `[/y]` in `patch policy`
    print as written (before: `internal error: MarkupError`)."""
    write_op(root / ".runwright" / "operators", operator(name="[/x]"))
    (root / ".runwright" / "policy.yaml").write_text('global: {forbid_touching_paths: ["[/y]"]}\n')
    listed = rw(root, "op", "list")
    assert listed.returncode == 0, listed.stderr
    assert "[/x]" in listed.stdout
    policy = rw(root, "patch", "policy")
    assert policy.returncode == 0, policy.stderr
    assert "['[/y]']" in policy.stdout

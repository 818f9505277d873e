"""Broken spec documents for the fuzz tests: a valid document of each kind, hypothesis
strategies that break it (hostile values, out-of-range numbers, bad YAML tags, deep nesting,
aliases, bad encodings, flipped bytes), and a way to run the CLI in-process.

A generated document says whether it must be refused (``must_fail``): a hostile value that no
spec may hold, a number out of a bounded field's range, a byte sequence that is not UTF-8. The
rest (a dropped key, a flipped byte) may or may not still be valid; either way the CLI must
answer without an internal error.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from execmodel_ops import operator
from hypothesis import strategies as st
from plans_support import example_plan

MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class Doc:
    """A generated spec file: its bytes, whether it must be refused, and how it was made."""

    data: bytes
    must_fail: bool
    how: str


# --- valid documents --------------------------------------------------------------------------


def policy_doc() -> dict[str, Any]:
    """A valid policy.yaml."""
    return {
        "global": {"max_lines_changed": 500, "forbid_touching_paths": [".git/**", "secrets/**"]},
        "project": {
            "max_lines_changed": 300,
            "max_files_changed": 10,
            "oscillation_window": 5,
            "oscillation_threshold": 3,
            "max_apply_attempts": 3,
            "max_diff_bytes": 100000,
            "min_reviewers": 0,
        },
        "verify": {"test_command": ["{python}", "-c", "pass"], "timeout_seconds": 60},
    }


def router_doc() -> dict[str, Any]:
    """A valid router.yaml routing code_edit to a tool and checking it with a validator."""
    return {
        "version": "1",
        "apps": {
            "coder": {
                "command": ["{python}", "-c", "pass"],
                "capabilities": {"task_kinds": ["code_edit"]},
                "limits": {"timeout_seconds": 300, "max_parallel": 2},
            },
            "checks": {"kind": "validator", "command": ["{python}", "-c", "pass"]},
        },
        "routing": {
            "rules": [
                {
                    "id": "edits",
                    "match": {"task_kind": ["code_edit"]},
                    "select_from": ["coder"],
                    "validate_with": ["checks"],
                }
            ]
        },
        "defaults": {"max_attempts": 2, "timeout_seconds": 1800, "strategy": "fixed"},
    }


def phase_doc() -> dict[str, Any]:
    """A valid phase spec (phases/fuzz.yaml)."""
    return {
        "phase_id": "fuzz",
        "name": "Fuzzed phase",
        "category": "adhoc",
        "resource_scope": {"type": "files", "read": ["**"], "write": ["src/**"]},
        "constraints": {
            "patch": {"max_lines_changed": 100, "max_files_changed": 5},
            "tests": {"tests_must_pass": False},
        },
    }


def profile_doc() -> dict[str, Any]:
    """A valid .runwright/profile.json (a project profile)."""
    return {
        "project_id": "fuzz",
        "project_name": "fuzz",
        "project_root": ".",
        "domain": "software-dev",
        "profile_id": "software-dev-python",
        "resource_types": {"files": {"root": ".", "tracked_by": "git", "exclusions": [".git/**"]}},
        "available_tools": [
            {"tool_id": "python", "command": ["{python}"], "capabilities": ["run"]},
            {"tool_id": "pytest", "command": ["{python}", "-m", "pytest"], "max_parallel": 2},
        ],
        "constraints": {"patch_only": True, "max_lines_changed": 300, "max_files_changed": 10},
        "domain_confidence": 0.8,
    }


def modes_doc() -> dict[str, Any]:
    """A valid modes.yaml adding a mode and a tag."""
    return {
        "modes": {
            "RESEARCH": {
                "intent": "Find out",
                "primary_risk": "Wandering",
                "keywords": ["spike", "investigate"],
            }
        },
        "tags": ["SPIKE/TIMEBOXED"],
    }


#: Each YAML/JSON kind: its valid document and the paths of its bounded number fields.
KINDS: dict[str, tuple[dict[str, Any], list[tuple[Any, ...]]]] = {
    "operator": (
        operator(),
        [("timebox_minutes",), ("acceptance_checks", 0, "timeout_seconds")],
    ),
    "plan": (
        example_plan("greet"),
        [("phases", 0, "timeout_seconds"), ("constraints", "max_lines_changed"), ("version",)],
    ),
    "policy": (
        policy_doc(),
        [
            ("project", "oscillation_window"),
            ("project", "max_diff_bytes"),
            ("project", "max_apply_attempts"),
            ("verify", "timeout_seconds"),
        ],
    ),
    "router": (
        router_doc(),
        [
            ("apps", "coder", "limits", "timeout_seconds"),
            ("defaults", "max_attempts"),
            ("defaults", "timeout_seconds"),
        ],
    ),
    "phase": (phase_doc(), [("constraints", "patch", "max_lines_changed")]),
    "profile": (profile_doc(), [("constraints", "max_files_changed")]),
    "modes": (modes_doc(), []),
}

# --- hostile values ---------------------------------------------------------------------------

#: Values no spec file may hold anywhere.
FATAL_VALUES: list[Any] = [
    math.inf,
    -math.inf,
    math.nan,
    2**63,
    10**30,
    -(10**40),
    "nul\x00inside",
    "lone \ud800 surrogate",
]
#: Numbers outside every bounded field's range.
OUT_OF_RANGE: list[Any] = [-1, 10**12, 1e308, -1e308, 2**62]
#: Strings that trip parsers of globs, templates, markup and terminals.
NASTY_STRINGS = [
    "",
    " ",
    "[/x]",
    "[bold",
    "[",
    "[!",
    "{",
    "}",
    "{python",
    "{nope}",
    "**",
    "/etc/passwd",
    "../../outside",
    "a\nb",
    "\t",
    "\x1b[31mred",
    "%s%n",
    "banana",
    "é" * 3,
    "x" * 5000,
    "1e308",
    ".inf",
]


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def hostile_values() -> st.SearchStrategy[Any]:
    """Any value a careless or hostile author might write."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(NASTY_STRINGS),
        st.text(max_size=30),
        st.sampled_from(FATAL_VALUES + OUT_OF_RANGE),
    )
    nested = st.integers(min_value=2, max_value=150).map(_deep)
    return st.one_of(
        scalars,
        nested,
        st.lists(scalars, max_size=4),
        st.dictionaries(st.text(max_size=8), scalars, max_size=3),
    )


def is_fatal(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` cannot be in any spec file (refused while reading)."""
    if depth > 64:
        return True
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return abs(value) > MAX_INT
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, list):
        return any(is_fatal(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(is_fatal(k, depth + 1) or is_fatal(v, depth + 1) for k, v in value.items())
    return False


# --- structural changes -----------------------------------------------------------------------


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``data`` (the root excluded)."""
    found = []
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        here = (*prefix, key)
        found.append(here)
        if isinstance(value, dict | list) and value:
            found.extend(paths_of(value, here))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def changed(draw: st.DrawFn, kind: str) -> tuple[Any, bool, str]:
    """The valid document of ``kind`` with one structural change, whether the change alone
    must make it fail, and a description."""
    base, bounded = KINDS[kind]
    doc = copy.deepcopy(base)
    paths = paths_of(doc)
    how = draw(st.sampled_from(["value", "bounded", "drop", "extra", "duplicate", "same"]))
    if how == "bounded" and not bounded:
        how = "value"
    if how == "value":
        path = draw(st.sampled_from(paths))
        value = draw(hostile_values())
        _parent(doc, path)[path[-1]] = value
        return doc, is_fatal(value), f"{'.'.join(map(str, path))} = {value!r:.80}"
    if how == "bounded":
        path = draw(st.sampled_from(bounded))
        value = draw(st.sampled_from(OUT_OF_RANGE + FATAL_VALUES))
        _parent(doc, path)[path[-1]] = value
        return doc, True, f"{'.'.join(map(str, path))} = {value!r:.80}"
    if how == "drop":
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        del parent[path[-1]]
        return doc, False, f"drop {'.'.join(map(str, path))}"
    if how == "extra":
        maps = [()] + [p for p in paths if isinstance(_parent(doc, p)[p[-1]], dict)]
        path = draw(st.sampled_from(maps))
        target = doc
        for key in path:
            target = target[key]
        target[draw(st.sampled_from(["zz_unknown", "[/x]", "id", "version"]))] = draw(
            hostile_values()
        )
        return doc, False, f"extra key in {'.'.join(map(str, path)) or '(root)'}"
    if how == "duplicate":
        lists = [p for p in paths if isinstance(_parent(doc, p)[p[-1]], list)]
        if lists:
            path = draw(st.sampled_from(lists))
            items = _parent(doc, path)[path[-1]]
            if items:
                items.append(copy.deepcopy(items[0]))
            return doc, False, f"duplicate first of {'.'.join(map(str, path))}"
    return doc, False, "unchanged"


# --- text and byte changes --------------------------------------------------------------------

BAD_TAGS = [
    "!!int zz",
    "!!float x",
    "!!timestamp 2024-99-99",
    "!!binary '%%%'",
    "!!python/object:os.system x",
    "!custom x",
    "!!int 1" + "0" * 5000,
]
ALIAS_BOMB = "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10) if i else ', '.join(['x'] * 10)}]\n"
    for i in range(7)
)


def dump(doc: Any, fmt: str) -> str:
    """``doc`` as YAML or JSON text (ASCII only: anything else is escaped)."""
    if fmt == "json":
        return json.dumps(doc, indent=2)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, width=1000)


@st.composite
def mangled(draw: st.DrawFn, text: str, fmt: str) -> tuple[bytes, bool, str]:
    """``text`` as bytes after one text or byte change; whether that change alone must make
    the file fail; a description."""
    data = text.encode("utf-8", "surrogatepass")
    how = draw(
        st.sampled_from(
            ["none", "none", "tag", "utf16", "bad_byte", "flip", "truncate", "deep", "random"]
            + (["alias_bomb", "self_alias", "dup_key"] if fmt == "yaml" else [])
        )
    )
    first_key = text.split(":", 1)[0].strip().strip('"{ \n')
    if how == "tag" and fmt == "yaml":
        tag = draw(st.sampled_from(BAD_TAGS))
        return data + f"\nzz_tagged: {tag}\n".encode(), True, f"tag {tag:.40}"
    if how == "utf16":
        return text.encode("utf-16"), True, "utf-16 with a BOM"
    if how == "bad_byte":
        at = draw(st.integers(min_value=0, max_value=len(data)))
        bad = draw(st.sampled_from([b"\xff", b"\xfe", b"\xc3\x28", b"\xed\xa0\x80"]))
        return data[:at] + bad + data[at:], True, f"bytes {bad!r} at {at}"
    if how == "flip" and data:
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        bit = draw(st.integers(min_value=0, max_value=7))
        return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :], False, f"flip {at}"
    if how == "truncate":
        at = draw(st.integers(min_value=0, max_value=len(data)))
        return data[:at], False, f"truncate at {at}"
    if how == "deep":
        depth = draw(st.sampled_from([100, 500, 5000]))
        if fmt == "json" or draw(st.booleans()):
            return b"[" * depth + b"1" + b"]" * depth, True, f"deep {depth}"
        return data + f"\nzz_deep: {'[' * depth}1{']' * depth}\n".encode(), True, f"deep {depth}"
    if how == "random":
        blob = draw(st.binary(max_size=200))
        return blob, False, f"random {blob[:20]!r}"
    if how == "alias_bomb":
        return data + b"\n" + ALIAS_BOMB.encode(), True, "alias bomb"
    if how == "self_alias":
        return data + b"\nzz_self: &s [1, *s]\n", True, "self alias"
    if how == "dup_key" and first_key and text.startswith(first_key):
        return data + f"\n{first_key}: 1\n".encode(), True, f"duplicate key {first_key}"
    return data, False, "bytes unchanged"


def _lossy(how: str) -> bool:
    """Whether a byte change may have cut the bad value out (or made it valid)."""
    return how.startswith(("flip", "truncate", "random"))


@st.composite
def broken_docs(draw: st.DrawFn, kind: str) -> Doc:
    """A broken (or possibly still valid) document of a YAML or JSON kind."""
    fmt = "json" if kind == "profile" else "yaml"
    doc, fatal, how = draw(changed(kind))
    data, fatal_bytes, how_bytes = draw(mangled(dump(doc, fmt), fmt))
    return Doc(data, fatal_bytes or (fatal and not _lossy(how_bytes)), f"{how}; {how_bytes}")


#: TOML literals for [execmodel] debug_minutes / max_hypotheses: all outside their ranges.
TOML_BAD = ["inf", "-inf", "nan", "1e308", "99999999999999999999999", "0", "-1", '"x"', "[1]"]


@st.composite
def broken_config_toml(draw: st.DrawFn) -> Doc:
    """A config.toml whose [execmodel] table holds an out-of-range value."""
    field = draw(st.sampled_from(["debug_minutes", "max_hypotheses"]))
    value = draw(st.sampled_from(TOML_BAD))
    text = f'[core]\nproject_id = "fuzz"\n\n[execmodel]\n{field} = {value}\n'
    data, fatal_bytes, how = draw(mangled(text, "toml"))
    return Doc(data, fatal_bytes or not _lossy(how), f"{field} = {value}; {how}")


#: Keyword arguments of a producer that a workflow must refuse at deploy.
WORKFLOW_BAD = [
    'every="0s"',
    'every="99999999d"',
    'every="9" * 5000 + "s"',
    'every="5 minutes"',
    "every=5",
    'every="5m", timeout=float("inf")',
    'every="5m", timeout=float("nan")',
    'every="5m", timeout=1e308',
    'every="5m", timeout=-1',
    'every="5m", timeout="soon"',
    'every="5m", cron="* * * * *"',
    'cron="not a cron"',
]
WORKFLOW = """import runwright
from runwright import Prepared

wf = runwright.Workflow("{name}", topics=["t"])


@wf.producer(publishes=["t"], {producer})
def poll(ctx, state):
    return state


@wf.consumer(subscribe=["t"])
class Take:
    def prepare(self, ctx, state):
        return Prepared.reserve(ctx.peek("t"))
"""


@st.composite
def broken_workflows(draw: st.DrawFn, name: str) -> Doc:
    """The source of a workflow module with a bad declaration or bad bytes."""
    producer = draw(st.sampled_from(WORKFLOW_BAD))
    text = WORKFLOW.format(name=name, producer=producer)
    how = draw(st.sampled_from(["declaration", "raise", "bytes"]))
    if how == "raise":
        return Doc(text.encode() + b"\nraise ValueError('[/x] boom')\n", True, "raises")
    if how == "bytes":
        data, _, what = draw(mangled(text, "python"))
        return Doc(data + b"\nraise SystemExit(3)\n", True, f"{producer}; {what}")
    return Doc(text.encode(), True, producer)


# --- running the CLI --------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What a CLI call did."""

    code: int
    out: str
    err: str


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_in_process(cwd: Path, *argv: str) -> Result:
    """``runwright ARGV`` through the CLI's real entry point (its error boundary included),
    in this process, with stdout and stderr captured."""
    from runwright.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with _chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def check_answer(result: Result, doc: Doc, named: str, argv: tuple[str, ...]) -> None:
    """The CLI's answer to ``doc``: exit 0 or 1 (1 when the document must fail), never an
    internal error or a traceback; a refusal of a document that must fail names ``named`` (the
    file, or the module); an ``error:`` on stderr is one line."""
    both = result.out + result.err
    what = f"runwright {' '.join(argv)} on {doc.how}: exit {result.code}\n{both[-3000:]}"
    assert "internal error" not in both, what
    assert "Traceback" not in both, what
    assert result.code in (0, 1), what
    if doc.must_fail:
        assert result.code == 1, what
        assert named in both, what
    errors = [line for line in result.err.splitlines() if line.strip()]
    if any(line.startswith("error:") for line in errors):
        assert len(errors) == 1, what

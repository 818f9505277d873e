"""The shared reader of spec files: every broken input is one SpecFileError naming the file
and the line or field, never a crash; what it returns is plain JSON data."""

from __future__ import annotations

from pathlib import Path

import pytest

from runwright import specfiles
from runwright.errors import ConfigError
from runwright.specfiles import SpecFileError, load_json, load_yaml, parse_toml, parse_yaml


def refused(text: str, source: str = "spec.yaml") -> SpecFileError:
    """The error parse_yaml raises for ``text``."""
    with pytest.raises(SpecFileError) as info:
        parse_yaml(text, source)
    return info.value


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfeg\x00", "(root): UTF-16 text (byte-order mark), not UTF-8"),
        ("a: 1\n".encode("utf-16"), "UTF-16 text"),
        (b"a: 1\nb: caf\xe9\n", "line 2, column 7: not UTF-8 text (byte 0xe9)"),
        (b"\x00\x00\xfe\xffa", "UTF-32 text"),
    ],
)
def test_a_file_that_is_not_utf8_is_named(tmp_path: Path, data: bytes, expected: str) -> None:
    """Random bytes, UTF-16 with a byte-order mark, one bad byte: the file and where."""
    path = tmp_path / "policy.yaml"
    path.write_bytes(data)
    with pytest.raises(SpecFileError) as info:
        load_yaml(path)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 file that starts with a byte-order mark reads as its text."""
    path = tmp_path / "a.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_yaml(path) == {"a": 1}


def test_an_unreadable_or_huge_file_is_named(tmp_path: Path) -> None:
    """A folder where a file should be, and a file over the size limit, name the path."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_yaml(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" + b"#" * specfiles.MAX_BYTES)
    with pytest.raises(SpecFileError, match="too large for a spec file"):
        load_yaml(big)


def test_a_syntax_error_names_the_file_and_line_not_a_unicode_string() -> None:
    """PyYAML's `in "<unicode string>"` snippet is replaced by the file, line and column."""
    err = refused("a: 1\nb: [1, 2\n", "/p/.runwright/operators/x.yaml")
    text = str(err)
    assert text.startswith("/p/.runwright/operators/x.yaml: line 3, column 1: not valid YAML")
    assert "<unicode string>" not in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!int zz\n", "line 1, column 4: !!int 'zz' cannot be read"),
        ("a: !!timestamp 2024-99-99\n", "!!timestamp '2024-99-99' cannot be read"),
        ("a: !!float x\n", "!!float 'x' cannot be read"),
        ("a: !!python/object:os.system x\n", "could not determine a constructor"),
        ("a: !!int 1" + "0" * 5000 + "\n", "!!int"),
    ],
)
def test_explicit_tags_with_bad_values_are_refused(text: str, expected: str) -> None:
    """A tagged value that cannot be built is a YAML error with its place, not a ValueError."""
    assert expected in str(refused(text))


def test_deep_nesting_is_refused_without_recursion() -> None:
    """500 nested lists (a RecursionError before) and nesting through aliases are refused."""
    assert "nested deeper than 64 levels" in str(refused("[" * 500 + "1" + "]" * 500))
    chain = "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 80))
    assert "nested deeper than 64 levels" in str(refused(chain))


def test_aliases_may_not_loop_or_explode() -> None:
    """A self-referencing alias and a billion-laughs document are refused."""
    assert "refers to its own value" in str(refused("a: &x [1, *x]\n"))
    bomb = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 7)
    )
    assert f"more than {specfiles.MAX_VALUES} values" in str(refused(bomb))


@pytest.mark.parametrize(
    ("text", "field", "what"),
    [
        ("w: 1000000000000000000000000000000\n", "w", "out of range"),
        ("a: {b: [.inf]}\n", "a.b[0]", "inf is not a finite number"),
        ("a: .nan\n", "a", "not a finite number"),
        ('a: "x\\0y"\n', "a", "NUL"),
        ('a: "\\ud800"\n', "a", "lone surrogate"),
        ("a: !!binary aGVsbG8=\n", "a", "binary data"),
        ("a: !!set {x}\n", "a", "a set is not allowed"),
    ],
)
def test_values_that_would_crash_later_name_their_field(text: str, field: str, what: str) -> None:
    """Numbers a database or JSON cannot hold and strings no file or argv can carry."""
    err = refused(text)
    assert err.where == field
    assert what in err.detail


def test_a_duplicate_key_is_refused_but_merge_keys_may_override() -> None:
    """`a: 1` twice is an error naming both lines; `<<: *base` then a key is an override."""
    assert "duplicate key 'a' (first on line 1)" in str(refused("a: 1\nb: 2\na: 3\n"))
    merged = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  x: 3\n", "m.yaml")
    assert merged["use"] == {"x": 3, "y": 2}


def test_dates_become_text() -> None:
    """YAML timestamps are returned as ISO text: spec data is JSON data."""
    assert parse_yaml("d: 2024-01-02\nt: 2024-01-02 03:04:05\n", "d.yaml") == {
        "d": "2024-01-02",
        "t": "2024-01-02T03:04:05",
    }


def test_json_and_toml_get_the_same_checks(tmp_path: Path) -> None:
    """JSON: syntax with line and column, 5000-deep nesting, NaN; TOML: infinity, nesting."""
    path = tmp_path / "profile.json"
    path.write_text('{"a": 1,\n "b": }')
    with pytest.raises(SpecFileError, match=r"profile\.json: line 2, column 7: not valid JSON"):
        load_json(path)
    path.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(SpecFileError, match="nested deeper"):
        load_json(path)
    path.write_text('{"a": NaN}')
    with pytest.raises(SpecFileError, match="a: nan is not a finite number"):
        load_json(path)
    with pytest.raises(SpecFileError, match=r"execmodel\.debug_minutes: inf"):
        parse_toml("[execmodel]\ndebug_minutes = inf\n", "config.toml")
    with pytest.raises(SpecFileError, match="nested deeper"):
        parse_toml("a = " + "[" * 500 + "]" * 500, "config.toml")


def test_a_key_with_control_characters_is_named_escaped() -> None:
    """A field path built from a key holding a record separator and a NUL stays one line."""
    with pytest.raises(SpecFileError) as info:
        specfiles.parse_json('{"project_id": {"\\u001e\\u0000": null}}', "p.json")
    assert info.value.where == "project_id.\\x1e\\x00"
    assert str(info.value).isprintable()

"""Reading spec files (YAML, JSON, TOML) so that broken input is one error naming the file.

Every loader of a user-written file (operators, plans, policy, router, phases, profiles, mode
configuration, config.toml) reads it here. A spec file must be UTF-8 text of at most
``MAX_BYTES``; its document is nested at most ``MAX_DEPTH`` levels and holds at most
``MAX_VALUES`` values once YAML aliases are expanded (never a cycle); a YAML mapping's keys are
unique and an explicitly tagged value must build; numbers are finite and fit a 64-bit integer;
strings hold no NUL and no lone surrogate. What comes back is plain JSON
data: YAML dates become their ISO text, tuples become lists; binary data and sets are refused.
Anything else is a :class:`SpecFileError` whose one-line message names the file and the line
(or the field) and says what is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from runwright.errors import ConfigError

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 100_000
MAX_INT = 2**63 - 1

SYNTAX_HINT = "fix the syntax (indentation, quotes, colons)"
UTF8_HINT = "save the file as UTF-8"

_BOMS = {
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
_SURROGATE = re.compile("[\ud800-\udfff]")


class SpecFileError(ConfigError):
    """A spec file cannot be read as data; the message names the file and where."""

    def __init__(self, source: str, where: str, detail: str, *, hint: str | None = None):
        super().__init__(f"{source}: {where}: {detail}", hint=hint, path=source, field=where)
        self.source = source
        self.where = where
        self.detail = detail


# --- text -------------------------------------------------------------------------------------


def _line_col(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def decode(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text (a UTF-8 byte-order mark is dropped), or SpecFileError."""
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            raise SpecFileError(
                source, "(root)", f"{name} text (byte-order mark), not UTF-8", hint=UTF8_HINT
            )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = _line_col(data, exc.start)
        raise SpecFileError(
            source, where, f"not UTF-8 text (byte 0x{data[exc.start]:02x})", hint=UTF8_HINT
        ) from None


def read_text(path: Path) -> str:
    """The text of the spec file ``path``, or one error naming it."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read ({exc.strerror or type(exc).__name__})", path=str(path)
        ) from None
    if len(data) > MAX_BYTES:
        raise SpecFileError(
            str(path),
            "(root)",
            f"larger than {MAX_BYTES // (1024 * 1024)} MiB, too large for a spec file",
        )
    return decode(data, str(path))


# --- YAML -------------------------------------------------------------------------------------


class _Refused(yaml.MarkedYAMLError):
    """Well-formed YAML that is refused: too deep, a duplicate key or a bad tagged value."""


def _refuse(problem: str, node_or_mark: Any) -> _Refused:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return _Refused(None, None, problem, mark)


def _tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


class _Loader(yaml.SafeLoader):
    """The safe loader with a nesting limit, unique keys, and tagged values that fail as
    YAML errors."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _refuse(f"nested deeper than {MAX_DEPTH} levels", event)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            shown = f" {node.value!r}" if isinstance(node, ScalarNode) else ""
            raise _refuse(f"{_tag(node.tag)}{shown} cannot be read ({exc})", node) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], Node] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            first = seen.setdefault((key.tag, key.value), key)
            if first is not key:
                line = first.start_mark.line + 1
                raise _refuse(f"duplicate key {key.value!r} (first on line {line})", key)
        return super().construct_mapping(node, deep)


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[str, str]:
    """Where (line and column) and what, from a PyYAML error, without PyYAML's snippet."""
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return f"line {line}, column {column}", f"character #x{char:04x}: {exc.reason}"
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(root)"
        parts = [p for p in (exc.context, exc.problem) if p]
        return where, ": ".join(parts) or "syntax error"
    return "(root)", str(exc).splitlines()[0] if str(exc) else "syntax error"


def parse_yaml(text: str, source: str) -> Any:
    """The one YAML document of ``text`` (read from ``source``) as checked JSON data."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a subclass of SafeLoader
    except _Refused as exc:
        where, what = _yaml_problem(exc, text)
        raise SpecFileError(source, where, what) from None
    except yaml.YAMLError as exc:
        where, what = _yaml_problem(exc, text)
        raise SpecFileError(source, where, f"not valid YAML: {what}", hint=SYNTAX_HINT) from None
    except RecursionError:
        raise SpecFileError(source, "(root)", "nested too deeply") from None
    return checked(data, source)


# --- JSON and TOML ----------------------------------------------------------------------------


def parse_json(text: str, source: str) -> Any:
    """The JSON document ``text`` (read from ``source``) as checked data."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise SpecFileError(source, where, f"not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise SpecFileError(source, "(root)", f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer with too many digits
        raise SpecFileError(source, "(root)", f"not valid JSON: {exc}") from None
    return checked(data, source)


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """The TOML document ``text`` (read from ``source``) as checked data."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecFileError(
            source, "(root)", f"not valid TOML ({exc})", hint="fix the syntax"
        ) from None
    except RecursionError:
        raise SpecFileError(source, "(root)", f"nested deeper than {MAX_DEPTH} levels") from None
    result: dict[str, Any] = checked(data, source)
    return result


def load_yaml(path: Path) -> Any:
    """Read ``path`` as YAML (JSON is YAML too)."""
    return parse_yaml(read_text(path), str(path))


def load_json(path: Path) -> Any:
    """Read ``path`` as JSON."""
    return parse_json(read_text(path), str(path))


def load_file(path: Path) -> Any:
    """Read ``path`` as JSON (``.json``), TOML (``.toml``) or YAML (anything else)."""
    text = read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return parse_json(text, str(path))
    if suffix == ".toml":
        return parse_toml(text, str(path))
    return parse_yaml(text, str(path))


# --- checking the data ------------------------------------------------------------------------

_CONTAINERS = (dict, list, tuple, set, frozenset)


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    return list(value)


def _shape(root: Any, source: str) -> None:
    """Refuse cycles, nesting past MAX_DEPTH and more than MAX_VALUES values (aliases
    expanded), walking each container once (no recursion, so any input is safe)."""
    done: dict[int, tuple[int, int]] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if not isinstance(node, _CONTAINERS):
            continue
        key = id(node)
        if finished:
            kids = _children(node)
            inner = [done[id(k)] for k in kids if isinstance(k, _CONTAINERS)]
            depth = 1 + max((d for d, _ in inner), default=0)
            size = 1 + len(kids) - len(inner) + sum(s for _, s in inner)
            open_.discard(key)
            done[key] = (depth, size)
            if depth > MAX_DEPTH:
                raise SpecFileError(source, "(root)", f"nested deeper than {MAX_DEPTH} levels")
            if size > MAX_VALUES:
                raise SpecFileError(
                    source,
                    "(root)",
                    f"holds more than {MAX_VALUES} values (YAML aliases expanded)",
                )
            continue
        if key in done:
            continue
        if key in open_:
            raise SpecFileError(source, "(root)", "a YAML alias refers to its own value")
        open_.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in _children(node) if isinstance(kid, _CONTAINERS))


def _at(where: str, key: Any) -> str:
    name = str(key)
    if not name.isprintable():  # a key with a newline or a NUL stays readable on one line
        name = repr(name)[1:-1]
    return f"{where}.{name}" if where else name


def _scalar(value: Any, where: str, source: str) -> Any:
    field = where or "(root)"
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise SpecFileError(source, field, "a NUL character is not allowed in a string")
        if _SURROGATE.search(value):
            raise SpecFileError(source, field, "a lone surrogate (\\ud800-\\udfff) is not text")
        return value
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise SpecFileError(source, field, f"{value} is out of range (at most {MAX_INT})")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecFileError(source, field, f"{value} is not a finite number")
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        raise SpecFileError(source, field, "binary data is not allowed; write a string")
    raise SpecFileError(source, field, f"a {type(value).__name__} is not allowed here")


def _plain(value: Any, where: str, source: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, _CONTAINERS):
                raise SpecFileError(source, where or "(root)", "a key must be a plain value")
            name = _scalar(key, _at(where, key), source)
            out[name] = _plain(item, _at(where, name), source)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]", source) for i, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        raise SpecFileError(source, where or "(root)", "a set is not allowed; write a list")
    return _scalar(value, where, source)


def checked(data: Any, source: str) -> Any:
    """``data`` (parsed from ``source``) as plain JSON data, or SpecFileError naming the field."""
    _shape(data, source)
    return _plain(data, "", source)

"""Control characters in patch paths: refused like NUL by the path check, and printed escaped
on one line by the CLI."""

from __future__ import annotations

import pytest

from runwright.cli.output import one_line
from runwright.patches.paths import path_problem


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("evil\nname", "a control character ('\\n')"),
        ("a\tb", "a control character ('\\t')"),
        ("a\rb", "a control character ('\\r')"),
        ("a\x1b[31m", "a control character ('\\x1b')"),
        ("a\x7f", "a control character ('\\x7f')"),
        ("a\x85", "a control character ('\\x85')"),
        ("txt.\u202epy", "a bidirectional control character ('\\u202e')"),
        ("x\udcff", "a byte that is not UTF-8 ('\\udcff')"),
    ],
)
def test_control_characters_in_a_path_are_named(path: str, what: str) -> None:
    """C0, DEL, C1, bidirectional controls and undecodable bytes are refused, the character
    named with an escape so the reason itself stays on one line."""
    problem = path_problem(path) or ""
    assert what in problem
    assert "\n" not in problem


def test_printable_unicode_paths_pass() -> None:
    """Accents, spaces and joiners in names are fine."""
    for path in ["docs/café.md", "a b/c.txt", "emoji/👩\u200d💻.txt"]:
        assert path_problem(path) is None


def test_one_line_escapes_what_is_not_printable() -> None:
    """A name with a newline or an escape prints as one line; ordinary text is unchanged."""
    assert one_line("evil\nname") == "evil\\nname"
    assert one_line("a\x1b[31mred") == "a\\x1b[31mred"
    assert one_line("café au lait") == "café au lait"

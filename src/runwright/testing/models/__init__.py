"""A scripted model server for dry-running agent CLIs offline.

``runwright model-stub --script FILE --port N`` (or :class:`ModelStub` in a test) answers
Claude Code, Codex CLI and aider from a script of tool calls and texts, on 127.0.0.1, with no
model and no network, and records every request. See docs/agents.md.
"""

from runwright.testing.models.script import Script, load_script, parse_script
from runwright.testing.models.server import ModelStub

__all__ = ["ModelStub", "Script", "load_script", "parse_script"]

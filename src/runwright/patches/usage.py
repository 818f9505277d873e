"""Reading an agent's usage from its own output, as it arrives.

An app declares how its tool reports (``usage:`` in router.yaml, or its adapter's):

- ``claude_json`` — Claude Code with ``-p --output-format json`` prints one ``{"type":
  "result", …}`` object at the end; with ``stream-json`` it prints JSON lines, an ``assistant``
  line per model answer (its ``message.usage``) and the same ``result`` line last. Assistant
  lines give usage as it grows (one count per message id: a message split over several lines
  is counted once); the result line gives the final totals, its ``total_cost_usd`` and
  ``session_id``. Tokens = input + cache creation + cache read + output.
- ``codex_jsonl`` — ``codex exec --json`` prints ``thread.started`` (its ``thread_id``) and a
  ``turn.completed`` line per turn with ``usage`` (input tokens include the cached ones), summed
  over turns; older versions print ``{"id": …, "msg": {"type": "token_count", …}}`` per model
  response (summed) or with ``info.total_token_usage`` (a running total: the last one counts).
  No cost: it is estimated from the app's pricing, if any.
- ``aider_text`` — ``Tokens: 2.3k sent, 85 received. Cost: $0.0074 message, $0.0074 session.``
  lines (with ``… cache write, … cache hit`` between; k/M suffixes; the cost part may be
  missing or on the next line). Tokens are summed over lines (sent already includes the cache
  writes; cache hits are added); the cost is the last session cost.
- ``none`` — nothing is read: usage is unknown.

Anything else on the output (noise, partial lines, broken JSON) is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from runwright.domain.budgets import Remaining
from runwright.domain.spend import Pricing, Usage, UsageFormat

#: Output kept to parse a JSON document printed over several lines (claude's json format).
TAIL_BYTES = 1 << 20
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0
    return int(value)


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def _str(value: object) -> str | None:
    return value[:200] if isinstance(value, str) and value else None


class UsageParser:
    """Feeds on output bytes as they arrive; ``usage()`` is what was reported so far."""

    def __init__(self) -> None:
        self._pending = b""
        self._tail = bytearray()
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cost_usd: float | None = None
        self.session_id: str | None = None

    def feed(self, data: bytes) -> None:
        """Parse every complete line in ``data`` (a partial line waits for the rest)."""
        self._tail += data
        if len(self._tail) > TAIL_BYTES:
            del self._tail[: len(self._tail) - TAIL_BYTES]
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        for raw in lines:
            self._line(raw)

    def finish(self) -> None:
        """The output ended: parse the last line even without its newline."""
        if self._pending:
            self._line(self._pending)
            self._pending = b""
        self.end(bytes(self._tail).decode("utf-8", "replace"))

    def _line(self, raw: bytes) -> None:
        text = _ANSI.sub("", raw.decode("utf-8", "replace")).strip()
        if text:
            self.line(text)

    def line(self, text: str) -> None:
        """One line of output."""

    def end(self, text: str) -> None:
        """The whole output (its last megabyte), once it ended."""

    def usage(self) -> Usage:
        """What the agent reported so far (None where it reported nothing)."""
        return Usage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost_usd=self.cost_usd,
            session_id=self.session_id,
        )


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class ClaudeParser(UsageParser):
    """Claude Code's ``json`` and ``stream-json`` output formats."""

    def __init__(self) -> None:
        super().__init__()
        self._messages: dict[str, tuple[int, int]] = {}
        self._final = False

    def line(self, text: str) -> None:
        """An assistant line adds its message's usage; the result line gives the totals."""
        data = _json_object(text)
        if data is not None:
            self._event(data)

    def end(self, text: str) -> None:
        """The json format may print its result object over several lines."""
        if not self._final:
            data = _json_object(text.strip())
            if data is not None:
                self._event(data)

    def _event(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        self.session_id = _str(data.get("session_id")) or self.session_id
        if kind == "assistant" and not self._final:
            message = data.get("message")
            if not isinstance(message, dict) or not isinstance(message.get("usage"), dict):
                return
            key = _str(message.get("id")) or f"line-{len(self._messages)}"
            self._messages[key] = _claude_tokens(message["usage"])
            self.input_tokens = sum(i for i, _ in self._messages.values())
            self.output_tokens = sum(o for _, o in self._messages.values())
        elif kind == "result":
            usage = data.get("usage")
            if isinstance(usage, dict):
                self.input_tokens, self.output_tokens = _claude_tokens(usage)
                self._final = True
            cost = _float(data.get("total_cost_usd"))
            if cost is not None:
                self.cost_usd = cost


def _claude_tokens(usage: dict[str, Any]) -> tuple[int, int]:
    inputs = sum(
        _int(usage.get(k))
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return inputs, _int(usage.get("output_tokens"))


class CodexParser(UsageParser):
    """Codex CLI's ``exec --json`` lines, and the older ``{"id", "msg"}`` events."""

    def __init__(self) -> None:
        super().__init__()
        self._summed = (0, 0)
        self._running: tuple[int, int] | None = None

    def line(self, text: str) -> None:
        """Turn and token-count events add up; a running total replaces what came before."""
        data = _json_object(text)
        if data is None:
            return
        kind = data.get("type")
        if kind == "thread.started":
            self.session_id = _str(data.get("thread_id")) or self.session_id
        elif kind == "turn.completed" and isinstance(data.get("usage"), dict):
            self._add(data["usage"])
        elif isinstance(data.get("msg"), dict):
            msg = data["msg"]
            if msg.get("type") == "session_configured":
                self.session_id = _str(msg.get("session_id")) or self.session_id
            elif msg.get("type") == "token_count":
                info = msg.get("info")
                total = info.get("total_token_usage") if isinstance(info, dict) else None
                if isinstance(total, dict):
                    self._running = _codex_tokens(total)
                    self._set()
                elif "input_tokens" in msg or "output_tokens" in msg:
                    self._add(msg)

    def _add(self, usage: dict[str, Any]) -> None:
        i, o = _codex_tokens(usage)
        self._summed = (self._summed[0] + i, self._summed[1] + o)
        self._set()

    def _set(self) -> None:
        self.input_tokens, self.output_tokens = self._running or self._summed


def _codex_tokens(usage: dict[str, Any]) -> tuple[int, int]:
    # cached_input_tokens is part of input_tokens; reasoning is part of output_tokens
    return _int(usage.get("input_tokens")), _int(usage.get("output_tokens"))


_COUNT = r"(\d[\d,]*(?:\.\d+)?\s*[kKmM]?)"
_TOKENS = re.compile(
    rf"Tokens:\s*{_COUNT} sent(?:,\s*{_COUNT} cache write)?(?:,\s*{_COUNT} cache hit)?,"
    rf"\s*{_COUNT} received"
)
_COST = re.compile(r"Cost:\s*\$(\d[\d,]*(?:\.\d+)?) message,\s*\$(\d[\d,]*(?:\.\d+)?) session")


def count(text: str) -> int:
    """``2.3k`` → 2300, ``1.2M`` → 1200000, ``1,234`` → 1234."""
    text = text.strip().replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    number = text[:-1] if scale > 1 else text
    return round(float(number.strip()) * scale)


class AiderParser(UsageParser):
    """aider's token and cost report lines."""

    def line(self, text: str) -> None:
        """Each report line adds its tokens; the last session cost stands."""
        tokens = _TOKENS.search(text)
        if tokens:
            sent, _write, hit, received = tokens.groups()
            self.input_tokens = (self.input_tokens or 0) + count(sent) + (count(hit) if hit else 0)
            self.output_tokens = (self.output_tokens or 0) + count(received)
        cost = _COST.search(text)
        if cost:
            self.cost_usd = float(cost.group(2).replace(",", ""))


PARSERS: dict[UsageFormat, type[UsageParser]] = {
    UsageFormat.CLAUDE_JSON: ClaudeParser,
    UsageFormat.CODEX_JSONL: CodexParser,
    UsageFormat.AIDER_TEXT: AiderParser,
    UsageFormat.NONE: UsageParser,
}


def parser_for(fmt: UsageFormat | str | None) -> UsageParser:
    """A fresh parser for ``fmt`` (``none`` and None read nothing)."""
    return PARSERS[UsageFormat(fmt or UsageFormat.NONE)]()


def parse_usage(fmt: UsageFormat | str | None, output: bytes | str) -> Usage:
    """The usage reported in a whole output."""
    parser = parser_for(fmt)
    parser.feed(output.encode() if isinstance(output, str) else output)
    parser.finish()
    return parser.usage()


class UsageMonitor:
    """Watches an agent's output as it arrives and asks to stop it once its reported usage
    passes what the budget has left (``run_command``'s monitor)."""

    def __init__(
        self, parser: UsageParser, remaining: Remaining | None, pricing: Pricing | None
    ) -> None:
        self.parser = parser
        self.remaining = remaining or Remaining()
        self.pricing = pricing
        self.stopped_by: str | None = None

    def __call__(self, chunk: bytes) -> str | None:
        """Read ``chunk``; a reason to stop the agent, or None to let it go on."""
        self.parser.feed(chunk)
        if self.stopped_by is None:
            self.stopped_by = self._over()
        if self.stopped_by is None:
            return None
        return f"budget: reported usage passed the remaining {self.stopped_by}"

    def _over(self) -> str | None:
        usage = self.usage()
        left = self.remaining
        if left.tokens is not None and usage.tokens is not None and usage.tokens > left.tokens:
            return "max_tokens"
        cost = usage.cost_usd
        if left.cost_usd is not None and cost is not None and cost > left.cost_usd:
            return "max_cost_usd"
        return None

    def usage(self) -> Usage:
        """What the agent reported so far, its cost estimated from the pricing if needed."""
        return self.parser.usage().priced(self.pricing)


Monitor = Callable[[bytes], str | None]

"""Agents' usage read from their own output: Claude Code (json and stream-json), Codex CLI
(exec --json and the older event format), aider's report lines; noise, broken JSON and
partial lines are ignored, nothing reported stays unknown, and the monitor asks to stop an
agent as soon as its reported usage passes what its budget has left."""

from __future__ import annotations

import json

import pytest

from runwright.domain.budgets import Remaining
from runwright.domain.spend import Pricing, Usage
from runwright.patches.usage import UsageMonitor, count, parse_usage, parser_for

CLAUDE_RESULT = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "num_turns": 2,
    "result": "Done: greet() added.",
    "session_id": "4f6c1c1e-claude-session",
    "total_cost_usd": 0.0123,
    "usage": {
        "input_tokens": 10,
        "cache_creation_input_tokens": 200,
        "cache_read_input_tokens": 3000,
        "output_tokens": 50,
    },
}


def _assistant(msg_id: str, inp: int, out: int, cache_read: int = 0) -> str:
    return json.dumps(
        {
            "type": "assistant",
            "session_id": "s-1",
            "message": {
                "id": msg_id,
                "role": "assistant",
                "content": [{"type": "text", "text": "working"}],
                "usage": {
                    "input_tokens": inp,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": cache_read,
                    "output_tokens": out,
                },
            },
        }
    )


def test_claude_json_reads_the_final_result_object() -> None:
    """`--output-format json`: tokens are input + cache creation + cache read + output; the cost
    and the session id come from the result."""
    usage = parse_usage("claude_json", json.dumps(CLAUDE_RESULT) + "\n")
    assert (usage.input_tokens, usage.output_tokens) == (3210, 50)
    assert usage.tokens == 3260
    assert usage.cost_usd == pytest.approx(0.0123)
    assert usage.session_id == "4f6c1c1e-claude-session"
    assert not usage.cost_estimated


def test_claude_json_printed_over_several_lines_is_read_at_the_end() -> None:
    """A result object pretty-printed over many lines (no newline at the end) still counts."""
    usage = parse_usage("claude_json", json.dumps(CLAUDE_RESULT, indent=2))
    assert usage.tokens == 3260


def test_claude_stream_json_counts_each_answer_once_then_takes_the_result() -> None:
    """stream-json: assistant lines add up as they come (a message split over two lines is
    counted once, by its id); the result line's totals replace the running sum."""
    parser = parser_for("claude_json")
    system = {"type": "system", "subtype": "init", "session_id": "s-1", "tools": []}
    parser.feed((json.dumps(system) + "\n").encode())
    parser.feed((_assistant("msg_1", 100, 20) + "\n").encode())
    parser.feed((_assistant("msg_1", 100, 20) + "\n").encode())  # same answer, next block
    assert parser.usage().tokens == 120
    assert parser.usage().session_id == "s-1"
    parser.feed((_assistant("msg_2", 150, 30, cache_read=100) + "\n").encode())
    assert parser.usage().tokens == 400
    parser.feed((json.dumps(CLAUDE_RESULT) + "\n").encode())
    parser.finish()
    assert parser.usage().tokens == 3260
    assert parser.usage().session_id == "4f6c1c1e-claude-session"


def test_claude_lines_split_across_reads_and_noise_are_handled() -> None:
    """A line arriving in pieces is parsed once complete; non-JSON text, broken JSON, JSON that
    is not an object and events without usage are ignored."""
    parser = parser_for("claude_json")
    line = _assistant("msg_9", 500, 5) + "\n"
    noise = 'npm WARN something\n{"type": "assistant", "message": \n[1, 2]\n{"type":"user"}\n'
    parser.feed(noise.encode())
    parser.feed(line[:40].encode())
    assert parser.usage().tokens is None
    parser.feed(line[40:].encode())
    assert parser.usage().tokens == 505
    parser.feed(b'\xff\xfe garbage bytes \n{"type": "result", "usage": "nope"}\n')
    parser.finish()
    assert parser.usage().tokens == 505


def test_codex_exec_json_sums_turns_and_keeps_the_thread_id() -> None:
    """`codex exec --json`: turn.completed usage summed (cached input is inside input_tokens);
    the thread id is the session; failed turns and errors change nothing."""
    lines = [
        {"type": "thread.started", "thread_id": "0199a213-thread"},
        {"type": "turn.started"},
        {"type": "item.completed", "item": {"id": "item_0", "type": "reasoning", "text": "…"}},
        {
            "type": "turn.completed",
            "usage": {"input_tokens": 24763, "cached_input_tokens": 24448, "output_tokens": 122},
        },
        {"type": "turn.started"},
        {"type": "turn.failed", "error": {"message": "stream disconnected"}},
        {"type": "error", "message": "retrying"},
        {
            "type": "turn.completed",
            "usage": {"input_tokens": 1000, "cached_input_tokens": 0, "output_tokens": 78},
        },
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\nReading prompt from stdin...\n"
    usage = parse_usage("codex_jsonl", text)
    assert (usage.input_tokens, usage.output_tokens) == (25763, 200)
    assert usage.session_id == "0199a213-thread"
    assert usage.cost_usd is None


def test_codex_older_events_sum_counts_or_take_the_running_total() -> None:
    """Older Codex: token_count events with flat counts add up; with info.total_token_usage
    the last running total stands."""
    flat = [
        {"id": "0", "msg": {"type": "session_configured", "session_id": "old-session"}},
        {"id": "0", "msg": {"type": "token_count", "input_tokens": 300, "output_tokens": 20}},
        {"id": "0", "msg": {"type": "token_count", "input_tokens": 400, "output_tokens": 30}},
    ]
    usage = parse_usage("codex_jsonl", "\n".join(json.dumps(x) for x in flat))
    assert (usage.input_tokens, usage.output_tokens, usage.session_id) == (700, 50, "old-session")
    info = [
        {
            "id": "1",
            "msg": {
                "type": "token_count",
                "info": {
                    "total_token_usage": {"input_tokens": 900, "output_tokens": 40},
                    "last_token_usage": {"input_tokens": 900, "output_tokens": 40},
                },
            },
        },
        {
            "id": "2",
            "msg": {
                "type": "token_count",
                "info": {
                    "total_token_usage": {"input_tokens": 2100, "output_tokens": 90},
                    "last_token_usage": {"input_tokens": 1200, "output_tokens": 50},
                },
            },
        },
        {"id": "3", "msg": {"type": "token_count", "info": None}},
    ]
    usage = parse_usage("codex_jsonl", "\n".join(json.dumps(x) for x in info) + "\n")
    assert (usage.input_tokens, usage.output_tokens) == (2100, 90)


def test_aider_report_lines_are_summed_and_the_last_session_cost_stands() -> None:
    """aider: tokens summed over report lines (k and M suffixes; cache hits added, cache writes
    are already in 'sent'); the cost is the last session cost, on the same line or the next."""
    text = "\n".join(
        [
            "Aider v0.86.1",
            "Main model: claude-sonnet-4 with diff edit format",
            "Tokens: 2.3k sent, 85 received. Cost: $0.0074 message, $0.0074 session.",
            "Applied edit to greet/hello.py",
            "Tokens: 12k sent, 1.2k cache write, 3k cache hit, 1,085 received.",
            "Cost: $0.05 message, $0.0574 session.",
            "Tokens: 1.2M sent, 0 received.",
        ]
    )
    usage = parse_usage("aider_text", text)
    assert usage.input_tokens == 2300 + 12000 + 3000 + 1_200_000
    assert usage.output_tokens == 85 + 1085
    assert usage.cost_usd == pytest.approx(0.0574)


def test_aider_without_a_cost_part_reports_tokens_only() -> None:
    """A model with no known price prints tokens only: the cost stays unknown."""
    usage = parse_usage("aider_text", "\x1b[32mTokens: 950 sent, 12 received.\x1b[0m\n")
    assert (usage.tokens, usage.cost_usd) == (962, None)
    assert count("2.3k") == 2300
    assert count("1.25M") == 1_250_000


def test_an_agent_that_reports_nothing_has_unknown_usage() -> None:
    """'none' reads nothing, and a declared format with nothing in it is unknown, not zero."""
    for fmt in ("none", "claude_json", "codex_jsonl", "aider_text"):
        usage = parse_usage(fmt, "I edited the files.\nAll done.\n")
        assert usage.tokens is None
        assert usage.cost_usd is None


def test_pricing_estimates_a_cost_only_when_tokens_are_known_and_cost_is_not() -> None:
    """Tokens without a cost are priced (and marked estimated); a reported cost stands; no
    tokens, no estimate."""
    pricing = Pricing(input_usd_per_mtok=3.0, output_usd_per_mtok=15.0)
    estimated = Usage(input_tokens=1_000_000, output_tokens=100_000).priced(pricing)
    assert estimated.cost_usd == pytest.approx(4.5)
    assert estimated.cost_estimated
    reported = Usage(input_tokens=10, output_tokens=1, cost_usd=0.5).priced(pricing)
    assert (reported.cost_usd, reported.cost_estimated) == (0.5, False)
    assert Usage().priced(pricing).cost_usd is None


def test_the_monitor_asks_to_stop_once_usage_passes_what_is_left() -> None:
    """Below the remaining tokens the agent goes on; past them the monitor names the limit;
    an estimated cost past the remaining cost stops it too."""
    monitor = UsageMonitor(parser_for("claude_json"), Remaining(tokens=1000), None)
    assert monitor((_assistant("m1", 600, 100) + "\n").encode()) is None
    reason = monitor((_assistant("m2", 300, 50) + "\n").encode())
    assert reason is not None
    assert "max_tokens" in reason
    assert monitor.stopped_by == "max_tokens"
    priced = UsageMonitor(
        parser_for("codex_jsonl"),
        Remaining(cost_usd=0.01),
        Pricing(input_usd_per_mtok=10.0, output_usd_per_mtok=10.0),
    )
    line = {"type": "turn.completed", "usage": {"input_tokens": 2000, "output_tokens": 10}}
    assert priced((json.dumps(line) + "\n").encode()) is not None
    assert priced.stopped_by == "max_cost_usd"
    assert priced.usage().cost_estimated

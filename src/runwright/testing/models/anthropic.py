"""The Anthropic Messages API (``POST /v1/messages``), as Claude Code calls it: streaming
server-sent events with ``text`` and ``tool_use`` blocks, or one JSON message.

Script actions become Claude Code's own tools: ``Write`` (absolute ``file_path``, ``content``),
``Edit`` (``file_path``, ``old_string``, ``new_string``) and ``Bash`` (``command``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from runwright.testing.models.exchange import (
    Answer,
    Exchange,
    Message,
    ToolCall,
    resolve_path,
    text_of,
)

API = "anthropic"
_CWD = re.compile(r"(?:Primary working directory|Working directory):\s*(\S+)")


def read(body: dict[str, Any]) -> Exchange:
    """A Messages request as an exchange."""
    system = text_of(body.get("system"))
    messages = []
    for m in body.get("messages") or []:
        content = m.get("content")
        ids: list[str] = []
        texts: list[str] = []
        role = str(m.get("role", "user"))
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        only_results = bool(blocks)
        for block in blocks:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "tool_use":
                ids.append(str(block.get("id", "")))
            if kind == "tool_result":
                ids.append(str(block.get("tool_use_id", "")))
            else:
                only_results = False
            texts.append(text_of(block.get("text") or block.get("content")))
        if role == "user" and only_results:
            role = "tool"
        messages.append(
            Message(role=role, text="\n".join(t for t in texts if t), call_ids=tuple(ids))
        )
    found = _CWD.search(system)
    return Exchange(
        api=API,
        model=body.get("model"),
        stream=bool(body.get("stream")),
        messages=messages,
        cwd=found.group(1) if found else None,
        tools=tuple(str(t.get("name")) for t in body.get("tools") or [] if isinstance(t, dict)),
    )


def tool_calls(answer: Answer, exchange: Exchange) -> list[ToolCall]:
    """The answer's actions as Claude Code tool calls."""
    calls = []
    for i, action in enumerate(answer.actions):
        call_id = answer.call_id(i, "toolu")
        target = action.write_file or action.edit_file
        if target is not None:
            # Claude Code edits only files it has read in the session: read first (a new file's
            # read fails harmlessly), then write or edit.
            path = resolve_path(exchange.cwd, target.path)
            calls.append(ToolCall(f"{call_id}r", "Read", {"file_path": path}))
        if action.write_file:
            w = action.write_file
            calls.append(
                ToolCall(
                    call_id,
                    "Write",
                    {"file_path": resolve_path(exchange.cwd, w.path), "content": w.content},
                )
            )
        elif action.edit_file:
            e = action.edit_file
            calls.append(
                ToolCall(
                    call_id,
                    "Edit",
                    {
                        "file_path": resolve_path(exchange.cwd, e.path),
                        "old_string": e.old,
                        "new_string": e.new,
                    },
                )
            )
        elif action.run:
            calls.append(
                ToolCall(
                    call_id,
                    "Bash",
                    {"command": action.run.command, "description": "Run a scripted command"},
                )
            )
        elif action.tool:
            calls.append(ToolCall(call_id, action.tool.name, dict(action.tool.input)))
    return calls


def render(answer: Answer, exchange: Exchange) -> tuple[str, bytes]:
    """The answer as a Messages response: (content type, body)."""
    calls = tool_calls(answer, exchange)
    blocks: list[dict[str, Any]] = []
    if answer.text:
        blocks.append({"type": "text", "text": answer.text})
    blocks += [
        {"type": "tool_use", "id": c.call_id, "name": c.name, "input": c.input} for c in calls
    ]
    usage = {
        "input_tokens": answer.usage.input_tokens,
        "output_tokens": answer.usage.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": answer.usage.cache_read_input_tokens,
    }
    message = {
        "id": f"msg_rw{answer.turn_key}",
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": blocks,
        "stop_reason": "tool_use" if calls else "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }
    if not exchange.stream:
        return "application/json", json.dumps(message).encode()
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    **message,
                    "content": [],
                    "stop_reason": None,
                    "usage": {**usage, "output_tokens": 1},
                },
            },
        )
    ]
    for index, block in enumerate(blocks):
        start: dict[str, Any]
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            start = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        events += [
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            ),
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": index}),
        ]
    events += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": answer.usage.output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    data = "".join(f"event: {name}\ndata: {json.dumps(d)}\n\n" for name, d in events)
    return "text/event-stream", data.encode()


def error(status: int, message: str) -> bytes:
    """An error body in the API's shape."""
    kind = "overloaded_error" if status == 529 else "api_error"
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()

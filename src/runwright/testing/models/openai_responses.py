"""The OpenAI Responses API (``POST /v1/responses``), as Codex CLI calls it: streaming
``response.*`` events or one JSON response.

Script actions become Codex's own tools: file writes and edits an ``apply_patch`` call (the
free-form patch grammar: ``*** Add File`` creates, ``*** Update File`` replaces the ``old`` lines
by the ``new`` ones), commands a call to its shell tool (``shell`` with an argv,
``shell_command`` or ``exec_command`` with a command line — whichever the request offers).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from runwright.testing.models.exchange import Answer, Exchange, Message, ToolCall, text_of

API = "openai-responses"
_CWD = re.compile(r"<cwd>([^<]+)</cwd>")
ASSISTANT_ITEMS = {"function_call", "custom_tool_call", "local_shell_call", "reasoning"}
OUTPUT_ITEMS = {"function_call_output", "custom_tool_call_output", "local_shell_call_output"}


def read(body: dict[str, Any]) -> Exchange:
    """A Responses request as an exchange (consecutive assistant items are one message)."""
    raw = body.get("input")
    items: list[Any] = (
        [{"type": "message", "role": "user", "content": raw}]
        if isinstance(raw, str)
        else list(raw or [])
    )
    messages: list[Message] = []
    cwd = None
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message":
            role = str(item.get("role", "user"))
            role = "system" if role == "developer" else role
            text = text_of(item.get("content"))
            found = _CWD.search(text)
            if found:
                cwd = found.group(1).strip()
            if role == "assistant" and messages and messages[-1].role == "assistant":
                last = messages.pop()
                messages.append(Message("assistant", f"{last.text}\n{text}".strip(), last.call_ids))
            else:
                messages.append(Message(role, text))
        elif kind in ASSISTANT_ITEMS:
            call_id = str(item.get("call_id") or item.get("id") or "")
            if messages and messages[-1].role == "assistant":
                last = messages.pop()
                messages.append(Message("assistant", last.text, (*last.call_ids, call_id)))
            else:
                messages.append(Message("assistant", "", (call_id,)))
        elif kind in OUTPUT_ITEMS:
            messages.append(
                Message("tool", text_of(item.get("output")), (str(item.get("call_id", "")),))
            )
    tools = []
    for t in body.get("tools") or []:
        if isinstance(t, dict):
            tools.append(str(t.get("name") or t.get("type")))
    return Exchange(
        api=API,
        model=body.get("model"),
        stream=bool(body.get("stream")),
        messages=messages,
        cwd=cwd,
        tools=tuple(tools),
        extra={
            "custom_tools": [
                t.get("name")
                for t in body.get("tools") or []
                if isinstance(t, dict) and t.get("type") == "custom"
            ]
        },
    )


def patch_add(path: str, content: str) -> str:
    """An apply_patch that creates ``path`` with ``content``."""
    lines = content.splitlines()
    return (
        "*** Begin Patch\n*** Add File: "
        + path
        + "\n"
        + "".join(f"+{line}\n" for line in lines)
        + "*** End Patch\n"
    )


def patch_update(path: str, old: str, new: str) -> str:
    """An apply_patch that replaces the ``old`` lines of ``path`` by the ``new`` ones."""
    body = "".join(f"-{line}\n" for line in old.splitlines()) + "".join(
        f"+{line}\n" for line in new.splitlines()
    )
    return f"*** Begin Patch\n*** Update File: {path}\n@@\n{body}*** End Patch\n"


def tool_calls(answer: Answer, exchange: Exchange) -> list[ToolCall]:
    """The answer's actions as Codex tool calls."""
    calls: list[ToolCall] = []
    custom = set(exchange.extra.get("custom_tools") or [])
    for i, action in enumerate(answer.actions):
        call_id = answer.call_id(i)
        patch = None
        if action.write_file:
            patch = patch_add(action.write_file.path, action.write_file.content)
        elif action.edit_file:
            e = action.edit_file
            patch = patch_update(e.path, e.old, e.new)
        if patch is not None:
            if "apply_patch" in custom:
                calls.append(ToolCall(call_id, "apply_patch", {}, custom_input=patch))
            elif "apply_patch" in exchange.tools:
                calls.append(ToolCall(call_id, "apply_patch", {"input": patch}))
            else:
                calls.append(_shell(call_id, exchange, f"apply_patch <<'EOF'\n{patch}EOF\n"))
        elif action.run:
            calls.append(_shell(call_id, exchange, action.run.command))
        elif action.tool:
            calls.append(ToolCall(call_id, action.tool.name, dict(action.tool.input)))
    return calls


def _shell(call_id: str, exchange: Exchange, command: str) -> ToolCall:
    if "shell_command" in exchange.tools:
        return ToolCall(call_id, "shell_command", {"command": command})
    if "exec_command" in exchange.tools:
        return ToolCall(call_id, "exec_command", {"cmd": command})
    return ToolCall(call_id, "shell", {"command": ["bash", "-lc", command]})


def output_items(answer: Answer, exchange: Exchange) -> list[dict[str, Any]]:
    """The response's output items: a message for the text, then one item per tool call."""
    items: list[dict[str, Any]] = []
    if answer.text:
        items.append(
            {
                "type": "message",
                "id": f"msg_rw{answer.turn_key}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answer.text, "annotations": []}],
            }
        )
    for call in tool_calls(answer, exchange):
        if call.custom_input is not None:
            items.append(
                {
                    "type": "custom_tool_call",
                    "id": f"ctc_{call.call_id}",
                    "status": "completed",
                    "call_id": call.call_id,
                    "name": call.name,
                    "input": call.custom_input,
                }
            )
        else:
            items.append(
                {
                    "type": "function_call",
                    "id": f"fc_{call.call_id}",
                    "status": "completed",
                    "call_id": call.call_id,
                    "name": call.name,
                    "arguments": json.dumps(call.input),
                }
            )
    return items


def render(answer: Answer, exchange: Exchange) -> tuple[str, bytes]:
    """The answer as a Responses response: (content type, body)."""
    items = output_items(answer, exchange)
    usage = {
        "input_tokens": answer.usage.input_tokens,
        "input_tokens_details": {"cached_tokens": answer.usage.cache_read_input_tokens},
        "output_tokens": answer.usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": answer.usage.input_tokens + answer.usage.output_tokens,
    }
    response: dict[str, Any] = {
        "id": f"resp_rw{answer.turn_key}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": answer.model,
        "output": items,
        "usage": usage,
    }
    if not exchange.stream:
        return "application/json", json.dumps(response).encode()
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "response": {**response, "status": "in_progress", "output": [], "usage": None},
        },
        {
            "type": "response.in_progress",
            "response": {**response, "status": "in_progress", "output": [], "usage": None},
        },
    ]
    for index, item in enumerate(items):
        if item["type"] == "message":
            text = item["content"][0]["text"]
            events += [
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "status": "in_progress", "content": []},
                },
                {
                    "type": "response.content_part.added",
                    "item_id": item["id"],
                    "output_index": index,
                    "content_index": 0,
                    "part": {"type": "output_text", "text": "", "annotations": []},
                },
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": index,
                    "content_index": 0,
                    "delta": text,
                },
                {
                    "type": "response.output_text.done",
                    "item_id": item["id"],
                    "output_index": index,
                    "content_index": 0,
                    "text": text,
                },
                {
                    "type": "response.content_part.done",
                    "item_id": item["id"],
                    "output_index": index,
                    "content_index": 0,
                    "part": item["content"][0],
                },
            ]
        else:
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": item}
            )
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": response})
    data = "".join(
        f"event: {e['type']}\ndata: {json.dumps({**e, 'sequence_number': n})}\n\n"
        for n, e in enumerate(events)
    )
    return "text/event-stream", data.encode()


def error(status: int, message: str) -> bytes:
    """An error body in the API's shape."""
    return json.dumps(
        {"error": {"message": message, "type": "server_error", "code": str(status)}}
    ).encode()

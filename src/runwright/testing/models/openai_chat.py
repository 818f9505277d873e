"""The OpenAI Chat Completions API (``POST /v1/chat/completions``), as aider calls it:
streaming ``chat.completion.chunk`` events (with a final usage chunk when asked) or one JSON
completion.

aider edits from the text of the answer, so file actions become SEARCH/REPLACE blocks (its
``diff`` edit format): an empty SEARCH creates a file, and writing a file aider has added to the
chat replaces its whole current text (read from aider's "added these files" message); ``run``
becomes a fenced shell block. A ``tool`` action becomes a function call for clients that pass
tools.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from runwright.testing.models.exchange import Answer, Exchange, Message, text_of

API = "openai-chat"
FENCE = "`" * 3
CHAT_FILES_MARK = "added these files to the chat"
_LISTING = re.compile(
    r"^(?P<path>[^\n`]+)\n(?P<fence>`{3,})[^\n]*\n(?P<body>.*?)^(?P=fence)$", re.M | re.S
)


def read(body: dict[str, Any]) -> Exchange:
    """A chat request as an exchange."""
    messages = []
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            continue
        ids = [str(c.get("id", "")) for c in m.get("tool_calls") or [] if isinstance(c, dict)]
        if m.get("tool_call_id"):
            ids.append(str(m["tool_call_id"]))
        messages.append(
            Message(
                role=str(m.get("role", "user")), text=text_of(m.get("content")), call_ids=tuple(ids)
            )
        )
    tools = tuple(
        str((t.get("function") or {}).get("name"))
        for t in body.get("tools") or []
        if isinstance(t, dict)
    )
    options = body.get("stream_options") or {}
    return Exchange(
        api=API,
        model=body.get("model"),
        stream=bool(body.get("stream")),
        messages=messages,
        tools=tools,
        extra={
            "include_usage": bool(options.get("include_usage")),
            "files": chat_files(messages),
        },
    )


def chat_files(messages: list[Message]) -> dict[str, str]:
    """The files aider says it added to the chat, with their text (the latest listing wins)."""
    files: dict[str, str] = {}
    for m in messages:
        if m.role == "user" and CHAT_FILES_MARK in m.text:
            for found in _LISTING.finditer(m.text):
                files[found.group("path").strip()] = found.group("body")
    return files


def answer_text(answer: Answer, exchange: Exchange) -> str:
    """The answer's text with its file and command actions written as aider edit blocks."""
    parts = [answer.text] if answer.text else []
    files: dict[str, str] = exchange.extra.get("files") or {}
    for action in answer.actions:
        if action.write_file:
            w = action.write_file
            parts.append(_block(w.path, files.get(w.path, ""), w.content))
        elif action.edit_file:
            e = action.edit_file
            parts.append(_block(e.path, e.old, e.new))
        elif action.run:
            parts.append(f"{FENCE}bash\n{action.run.command}\n{FENCE}")
    return "\n\n".join(parts)


def _block(path: str, old: str, new: str) -> str:
    old_part = old if not old or old.endswith("\n") else old + "\n"
    new_part = new if not new or new.endswith("\n") else new + "\n"
    return f"{path}\n{FENCE}\n<<<<<<< SEARCH\n{old_part}=======\n{new_part}>>>>>>> REPLACE\n{FENCE}"


def render(answer: Answer, exchange: Exchange) -> tuple[str, bytes]:
    """The answer as a chat completion: (content type, body)."""
    text = answer_text(answer, exchange)
    calls = [
        {
            "id": answer.call_id(i),
            "type": "function",
            "function": {"name": a.tool.name, "arguments": json.dumps(a.tool.input)},
        }
        for i, a in enumerate(answer.actions)
        if a.tool
    ]
    usage = {
        "prompt_tokens": answer.usage.input_tokens,
        "completion_tokens": answer.usage.output_tokens,
        "total_tokens": answer.usage.input_tokens + answer.usage.output_tokens,
    }
    finish = "tool_calls" if calls else "stop"
    ident = f"chatcmpl-rw{answer.turn_key}"
    created = int(time.time())
    if not exchange.stream:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = calls
        body = {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": answer.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage,
        }
        return "application/json", json.dumps(body).encode()
    base = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": answer.model,
    }
    chunks: list[dict[str, Any]] = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
    ]
    if text:
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": text}}]})
    for i, call in enumerate(calls):
        chunks.append(
            {**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": i, **call}]}}]}
        )
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if exchange.extra.get("include_usage"):
        chunks.append({**base, "choices": [], "usage": usage})
    data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return "text/event-stream", data.encode()


def error(status: int, message: str) -> bytes:
    """An error body in the API's shape."""
    return json.dumps(
        {"error": {"message": message, "type": "server_error", "code": status}}
    ).encode()

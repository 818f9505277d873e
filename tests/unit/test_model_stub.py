"""The model stub answers the three model APIs from a script, over real HTTP on 127.0.0.1:
turns in order per agent session, tool calls in each agent's own terms, usage on every answer,
every request recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runwright.errors import ConfigError
from runwright.testing.models import ModelStub, parse_script

SCRIPT = """
model: stub-1
usage: {input_tokens: 1000, output_tokens: 50}
conversations:
  - name: tests
    match: ["write the tests"]
    turns:
      - text: "Writing."
        actions:
          - write_file: {path: tests/test_a.py, content: "def test_a():\\n    assert True\\n"}
          - run: {command: "python -m pytest -q"}
      - actions:
          - edit_file: {path: tests/test_a.py, old: "assert True", new: "assert 1"}
        usage: {input_tokens: 2000, output_tokens: 70}
      - text: "Tests written."
  - name: code
    match: ["implement"]
    turns:
      - text: "Implemented."
"""


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[ModelStub]:
    """A stub on a free port, recording to a file."""
    with ModelStub(parse_script(SCRIPT), record=tmp_path / "requests.jsonl") as s:
        yield s


def claude_request(history: list[dict[str, Any]], *, stream: bool = False) -> dict[str, Any]:
    return {
        "model": "claude-x",
        "system": [{"type": "text", "text": "Primary working directory: /work/repo\n"}],
        "messages": history,
        "tools": [{"name": "Write"}, {"name": "Edit"}, {"name": "Bash"}],
        "stream": stream,
        "max_tokens": 100,
    }


def sse_events(text: str) -> list[dict[str, Any]]:
    return [
        json.loads(line[len("data: ") :])
        for line in text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def test_anthropic_answers_turns_in_order_with_claude_code_tools(stub: ModelStub) -> None:
    """A Messages session gets its turns in order; file actions become Write/Edit with absolute
    paths in the agent's working directory, commands become Bash; usage is on every answer."""
    url = f"{stub.base_url}/v1/messages?beta=true"
    history: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": "Please write the tests."}]}
    ]
    first = httpx.post(url, json=claude_request(history)).json()
    assert first["stop_reason"] == "tool_use"
    kinds = [(b["type"], b.get("name")) for b in first["content"]]
    assert kinds == [
        ("text", None),
        ("tool_use", "Read"),
        ("tool_use", "Write"),
        ("tool_use", "Bash"),
    ]
    assert first["content"][2]["input"]["file_path"] == "/work/repo/tests/test_a.py"
    assert first["usage"]["input_tokens"] == 1000
    history += [
        {"role": "assistant", "content": first["content"]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": b["id"], "content": "ok"}
                for b in first["content"]
                if b["type"] == "tool_use"
            ],
        },
    ]
    second = httpx.post(url, json=claude_request(history)).json()
    assert [b["name"] for b in second["content"]] == ["Read", "Edit"]
    assert second["content"][1]["input"]["old_string"] == "assert True"
    assert second["usage"]["output_tokens"] == 70
    history += [
        {"role": "assistant", "content": second["content"]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": b["id"], "content": "ok"}
                for b in second["content"]
            ],
        },
    ]
    third = httpx.post(url, json=claude_request(history)).json()
    assert third["stop_reason"] == "end_turn"
    assert third["content"] == [{"type": "text", "text": "Tests written."}]
    turns = [(r["conversation"], r["turn"]) for r in stub.requests]
    assert turns == [("tests", 0), ("tests", 1), ("tests", 2)]


def test_a_retried_request_gets_the_same_answer(stub: ModelStub) -> None:
    """Sending the same request twice (a client retry) answers the same turn twice."""
    url = f"{stub.base_url}/v1/messages"
    body = claude_request([{"role": "user", "content": "write the tests"}])
    one = httpx.post(url, json=body).json()
    two = httpx.post(url, json=body).json()
    assert one["content"] == two["content"]
    assert [r["turn"] for r in stub.requests] == [0, 0]


def test_anthropic_streaming_sends_tool_use_as_server_sent_events(stub: ModelStub) -> None:
    """Streaming answers are message_start, block start/delta/stop per block, message_delta
    with the stop reason and usage, then message_stop; tool input arrives as JSON deltas."""
    body = claude_request([{"role": "user", "content": "write the tests"}], stream=True)
    response = httpx.post(f"{stub.base_url}/v1/messages", json=body)
    assert response.headers["content-type"] == "text/event-stream"
    events = sse_events(response.text)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == 4
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    write = json.loads(deltas[2]["partial_json"])
    assert write["content"].startswith("def test_a")
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    assert events[-2]["usage"]["output_tokens"] == 50


def test_concurrent_sessions_take_their_own_conversations(stub: ModelStub) -> None:
    """Two agents with different prompts are placed in the conversations their prompts match."""
    url = f"{stub.base_url}/v1/messages"
    code = httpx.post(url, json=claude_request([{"role": "user", "content": "implement it"}]))
    tests = httpx.post(url, json=claude_request([{"role": "user", "content": "write the tests"}]))
    assert code.json()["content"] == [{"type": "text", "text": "Implemented."}]
    assert tests.json()["content"][0]["text"] == "Writing."


def test_an_unmatched_prompt_gets_the_fallback(stub: ModelStub) -> None:
    """A prompt no conversation matches is answered with the fallback text."""
    body = claude_request([{"role": "user", "content": "something else"}])
    answer = httpx.post(f"{stub.base_url}/v1/messages", json=body).json()
    assert answer["content"][0]["text"].startswith("Nothing is scripted")
    assert stub.requests[-1]["conversation"] == "fallback"


def test_responses_api_renders_apply_patch_and_shell_calls(stub: ModelStub) -> None:
    """Codex's Responses requests get apply_patch (free-form) for files and a shell call for
    commands, and ``response.completed`` carries usage; the follow-up continues the session."""
    body: dict[str, Any] = {
        "model": "gpt-x",
        "instructions": "You are Codex.",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "<environment_context><cwd>/r</cwd>"}],
            },
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "write the tests"}],
            },
        ],
        "tools": [
            {"type": "custom", "name": "apply_patch"},
            {"type": "function", "name": "shell"},
        ],
        "stream": True,
    }
    response = httpx.post(f"{stub.base_url}/v1/responses", json=body)
    events = sse_events(response.text)
    assert events[0]["type"] == "response.created"
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert [i["type"] for i in done] == ["message", "custom_tool_call", "function_call"]
    assert done[1]["input"].startswith("*** Begin Patch\n*** Add File: tests/test_a.py\n+def")
    assert json.loads(done[2]["arguments"])["command"][-1] == "python -m pytest -q"
    completed = events[-1]
    assert completed["type"] == "response.completed"
    assert completed["response"]["usage"]["input_tokens"] == 1000
    body["input"] += [
        *done,
        {"type": "custom_tool_call_output", "call_id": done[1]["call_id"], "output": "ok"},
        {"type": "function_call_output", "call_id": done[2]["call_id"], "output": "ok"},
    ]
    body["stream"] = False
    second = httpx.post(f"{stub.base_url}/v1/responses", json=body).json()
    patch = second["output"][0]["input"]
    assert "*** Update File: tests/test_a.py\n@@\n-    assert True\n+    assert 1" not in patch
    assert "-assert True\n+assert 1" in patch
    assert stub.requests[-1]["turn"] == 1


def test_chat_completions_write_aider_edit_blocks_and_stream_usage(stub: ModelStub) -> None:
    """Chat answers carry the file actions as SEARCH/REPLACE blocks (an empty SEARCH creates a
    file); a stream ends with a usage chunk when asked and ``[DONE]``."""
    body: dict[str, Any] = {
        "model": "openai/x",
        "messages": [
            {"role": "system", "content": "You are aider."},
            {"role": "user", "content": "example"},
            {"role": "assistant", "content": "example answer"},
            {"role": "user", "content": "write the tests"},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response = httpx.post(f"{stub.base_url}/v1/chat/completions", json=body)
    assert response.text.rstrip().endswith("data: [DONE]")
    chunks = sse_events(response.text)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert "tests/test_a.py\n```\n<<<<<<< SEARCH\n=======\ndef test_a():" in text
    assert "```bash\npython -m pytest -q\n```" in text
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 1000,
        "completion_tokens": 50,
        "total_tokens": 1050,
    }
    body["messages"] += [
        {"role": "assistant", "content": text},
        {"role": "user", "content": "I applied the edits."},
    ]
    body["stream"] = False
    second = httpx.post(f"{stub.base_url}/v1/chat/completions", json=body).json()
    assert (
        "<<<<<<< SEARCH\nassert True\n=======\nassert 1\n>>>>>>> REPLACE"
        in (second["choices"][0]["message"]["content"])
    )
    assert stub.requests[-1]["turn"] == 1


def test_every_request_is_recorded_in_memory_over_http_and_on_disk(
    stub: ModelStub, tmp_path: Path
) -> None:
    """The request log holds the body, its session and turn, and is served and written."""
    httpx.post(
        f"{stub.base_url}/v1/messages",
        json=claude_request([{"role": "user", "content": "write the tests"}]),
    )
    served = httpx.get(f"{stub.base_url}/_stub/requests").json()
    on_disk = [json.loads(x) for x in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert served == on_disk == stub.requests
    assert served[0]["body"]["messages"][0]["content"] == "write the tests"
    assert stub.requests_for("tests")


def test_a_scripted_error_status_is_answered(tmp_path: Path) -> None:
    """A turn with error_status answers that HTTP error in the API's error shape."""
    script = parse_script(
        "conversations: [{turns: [{error_status: 529, text: busy}]}]", source="s.yaml"
    )
    with ModelStub(script) as s:
        response = httpx.post(f"{s.base_url}/v1/messages", json=claude_request([]))
    assert response.status_code == 529
    assert response.json()["error"]["type"] == "overloaded_error"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("conversations: [{turns: []}]", "s.yaml: conversations.0.turns"),
        ("conversations: [{turns: [{}]}]", "a turn needs text, actions or error_status"),
        (
            "conversations: [{turns: [{actions: [{run: {command: x}, tool: {name: y}}]}]}]",
            "exactly one of",
        ),
        ("[1, 2]", "a model script is a mapping"),
        ("a: [", "s.yaml: not valid YAML/JSON"),
    ],
)
def test_a_broken_script_is_refused_naming_the_file_and_field(text: str, expected: str) -> None:
    """Broken scripts are ConfigErrors that name the file and the field."""
    with pytest.raises(ConfigError) as caught:
        parse_script(text, source="s.yaml")
    assert expected in str(caught.value)


def test_the_cli_refuses_a_broken_script_in_one_line(tmp_path: Path) -> None:
    """``runwright model-stub`` with a broken script exits 1 with one line naming the file."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("conversations: [{turns: [{}]}]\n")
    done = subprocess.run(
        [sys.executable, "-m", "runwright", "model-stub", "--script", str(bad), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "bad.yaml" in lines[0]
    assert "internal error" not in lines[0]

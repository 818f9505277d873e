"""The model stub: an HTTP server on 127.0.0.1 that answers agent CLIs from a script.

It speaks the Anthropic Messages API (``/v1/messages``), the OpenAI Responses API
(``/v1/responses``) and Chat Completions (``/v1/chat/completions``), streaming or not, and
records every request so a test can assert what the agent was told (``GET /_stub/requests``,
or a JSON-lines file).

How a request finds its place in the script: an agent session is named by its *prompt* — the
last user message before the stub's first answer in the history the agent sends back. A new
prompt takes the first conversation whose ``match`` strings it all contains (and that has not
served another session, unless ``repeat``); the turn is the number of the stub's answers the
history already holds. So a client retrying a request gets the same answer again, and
concurrent agents never share a conversation.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

from runwright.testing.models import anthropic, openai_chat, openai_responses
from runwright.testing.models.exchange import Answer, Exchange, Message, fingerprint_text
from runwright.testing.models.script import Script, Turn

ROUTES: dict[str, ModuleType] = {
    "/v1/messages": anthropic,
    "/messages": anthropic,
    "/v1/responses": openai_responses,
    "/responses": openai_responses,
    "/v1/chat/completions": openai_chat,
    "/chat/completions": openai_chat,
}
MAX_BODY = 64 * 1024 * 1024


@dataclass
class Session:
    """One agent session: its conversation and the fingerprints of the answers it got."""

    key: str
    conversation: int | None
    prompt: str
    answers: list[set[str]] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    """Where a request falls: its session and turn."""

    session: Session
    turn: int


class ScriptState:
    """The sessions the stub has seen and the conversations they took (thread-safe)."""

    def __init__(self, script: Script):
        self.script = script
        self.sessions: dict[str, Session] = {}
        self.used: set[int] = set()
        self.owner: dict[str, str] = {}  # answer fingerprint → session key
        self.lock = threading.Lock()

    def place(self, exchange: Exchange) -> Placement:
        """The session and turn of a request (a new session for a new prompt)."""
        with self.lock:
            msgs = exchange.messages
            first = next((i for i, m in enumerate(msgs) if self._authored(m)), len(msgs))
            prompt_index = next(
                (i for i in range(first - 1, -1, -1) if msgs[i].role == "user"), None
            )
            prompt = msgs[prompt_index].text if prompt_index is not None else ""
            key = hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]
            session = self.sessions.get(key)
            if session is None:
                session = Session(key, self._choose(prompt), prompt)
                self.sessions[key] = session
            later = msgs[(prompt_index or 0) + 1 :]
            turn = sum(1 for prints in session.answers if any(self._in(m, prints) for m in later))
            return Placement(session, turn)

    def remember(self, session: Session, turn: int, prints: set[str]) -> None:
        """Note the fingerprints of the answer given at ``turn``."""
        with self.lock:
            while len(session.answers) <= turn:
                session.answers.append(set())
            session.answers[turn] |= prints
            for p in prints:
                self.owner[p] = session.key

    def turn_for(self, placement: Placement) -> tuple[Turn, str]:
        """The scripted turn for a placement, and a label for the request log."""
        session = placement.session
        if session.conversation is None:
            return self.script.fallback, "fallback"
        conv = self.script.conversations[session.conversation]
        label = self.script.label(session.conversation)
        if placement.turn < len(conv.turns):
            return conv.turns[placement.turn], label
        return Turn(text=conv.final), label

    def _choose(self, prompt: str) -> int | None:
        for index, conv in enumerate(self.script.conversations):
            if index in self.used and not conv.repeat:
                continue
            if all(needle in prompt for needle in conv.match):
                self.used.add(index)
                return index
        return None

    def _authored(self, message: Message) -> bool:
        if message.role != "assistant":
            return False
        return any(p in self.owner for p in _prints(message))

    @staticmethod
    def _in(message: Message, prints: set[str]) -> bool:
        return message.role == "assistant" and bool(_prints(message) & prints)


def _prints(message: Message) -> set[str]:
    found = {i for i in message.call_ids if i}
    if message.text.strip():
        found.add(fingerprint_text(message.text))
    return found


class ModelStub:
    """A scripted model server; use as a context manager or ``start()``/``stop()``."""

    def __init__(
        self,
        script: Script,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        record: Path | None = None,
    ):
        self.state = ScriptState(script)
        self.requests: list[dict[str, Any]] = []
        self.record = record
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (Anthropic clients add ``/v1`` themselves)."""
        host = self._server.server_address[0]
        return f"http://{host if isinstance(host, str) else host.decode()}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (OpenAI clients expect the version in the base)."""
        return f"{self.base_url}/v1"

    def start(self) -> ModelStub:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ModelStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- requests -----------------------------------------------------------------------
    def requests_for(self, conversation: str) -> list[dict[str, Any]]:
        """The recorded requests answered from one conversation (by name)."""
        with self._lock:
            return [r for r in self.requests if r["conversation"] == conversation]

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, str, bytes, float]:
        """(status, content type, body, delay) for one API request; the request is recorded."""
        api = ROUTES[path]
        exchange: Exchange = api.read(body)
        placement = self.state.place(exchange)
        turn, label = self.state.turn_for(placement)
        script = self.state.script
        answer = Answer(
            text=turn.text,
            actions=list(turn.actions),
            usage=turn.usage or script.usage,
            model=exchange.model or script.model,
            turn_key=f"{placement.session.key[:8]}t{placement.turn}",
        )
        self._log(exchange, placement, label, path, body, turn)
        if turn.error_status is not None:
            message = turn.text or f"scripted error {turn.error_status}"
            return (
                turn.error_status,
                "application/json",
                api.error(turn.error_status, message),
                turn.delay_seconds,
            )
        content_type, data = api.render(answer, exchange)
        prints = {
            f"{answer.call_id(i, p)}{suffix}"
            for i in range(len(answer.actions))
            for p in ("call", "toolu")
            for suffix in ("", "r")
        }
        text = answer.text or ""
        if api is openai_chat:
            text = openai_chat.answer_text(answer, exchange)
        if text.strip():
            prints.add(fingerprint_text(text))
        self.state.remember(placement.session, placement.turn, prints)
        return 200, content_type, data, turn.delay_seconds

    def _log(
        self,
        exchange: Exchange,
        placement: Placement,
        label: str,
        path: str,
        body: dict[str, Any],
        turn: Turn,
    ) -> None:
        entry = {
            "time": time.time(),
            "api": exchange.api,
            "path": path,
            "model": exchange.model,
            "stream": exchange.stream,
            "session": placement.session.key,
            "conversation": label,
            "turn": placement.turn,
            "prompt": placement.session.prompt,
            "cwd": exchange.cwd,
            "tools": list(exchange.tools),
            "scripted_actions": len(turn.actions),
            "body": body,
        }
        with self._lock:
            self.requests.append(entry)
            if self.record is not None:
                with self.record.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")


def _handler(stub: ModelStub) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "runwright-model-stub"

        def log_message(self, format: str, *args: Any) -> None:
            return  # the request log is the record; no stderr chatter

        def do_HEAD(self) -> None:
            self._send(200, "text/plain", b"", head=True)

        def do_GET(self) -> None:
            route = self.path.split("?", 1)[0]
            if route == "/_stub/requests":
                with stub._lock:
                    data = json.dumps(stub.requests).encode()
                self._send(200, "application/json", data)
            elif route.rstrip("/") in {"/v1/models", "/models"}:
                model = stub.state.script.model
                listing = {
                    "object": "list",
                    "data": [{"id": model, "object": "model", "owned_by": "runwright"}],
                }
                self._send(200, "application/json", json.dumps(listing).encode())
            else:
                self._send(200, "text/plain", b"runwright model stub\n")

        def do_POST(self) -> None:
            route = self.path.split("?", 1)[0].rstrip("/")
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self._send(413, "application/json", b'{"error": "request too large"}')
                return
            raw = self.rfile.read(length) if length else b""
            if route.endswith("/count_tokens"):
                estimate = max(1, len(raw) // 4)
                self._send(200, "application/json", json.dumps({"input_tokens": estimate}).encode())
                return
            if route not in ROUTES:
                self._send(
                    404, "application/json", json.dumps({"error": f"no route {route}"}).encode()
                )
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(400, "application/json", b'{"error": "the body is not JSON"}')
                return
            status, content_type, data, delay = stub.answer(route, body)
            if delay:
                time.sleep(delay)
            self._send(status, content_type, data)

        def _send(self, status: int, content_type: str, data: bytes, *, head: bool = False) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            if content_type == "text/event-stream":
                self.send_header("cache-control", "no-cache")
            self.end_headers()
            if not head:
                self.wfile.write(data)

    return Handler

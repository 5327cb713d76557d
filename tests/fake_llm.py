"""A scriptable OpenAI-compatible server on loopback: it records every prompt and answers as a test tells it.

Modes: `reply` (stream or not, token by token), `stall` (sleep before answering), `cut` (drop the
connection after some chunks), `error` (an HTTP error whose body carries a key-like string).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers import free_port


@dataclass
class Script:
    """What the server does with the next requests."""

    reply: str = "not found"
    mode: str = "reply"
    stall_s: float = 0.0
    cut_after: int = 2
    status: int = 500
    body: str = ""
    prompts: list[str] = field(default_factory=list)

    def reset(self) -> None:
        """Back to the defaults: the server keeps this object, so each test starts from a clean script."""
        fresh = Script()
        self.reply, self.mode, self.stall_s = fresh.reply, fresh.mode, fresh.stall_s
        self.cut_after, self.status, self.body = fresh.cut_after, fresh.status, fresh.body
        self.prompts.clear()


class FakeOpenAI(BaseHTTPRequestHandler):
    """POST /v1/chat/completions, as the OpenAI API answers it."""

    script: Script
    protocol_version = "HTTP/1.1"  # chunked streams, as real servers send: a cut is then detectable

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.script.prompts.append("\n".join(str(m.get("content", "")) for m in request.get("messages", [])))
        if self.script.mode == "stall":
            time.sleep(self.script.stall_s)
        if self.script.mode == "error":
            self._send(self.script.status, self.script.body.encode(), "application/json")
            return
        if request.get("stream"):
            self._stream(self.script.reply.split(" "))
        else:
            self._send(200, json.dumps(_completion(self.script.reply)).encode(), "application/json")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, words: list[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for n, word in enumerate(words):
            if self.script.mode == "cut" and n == self.script.cut_after:
                self.wfile.flush()
                self.connection.shutdown(2)  # the server dies mid-answer
                self.close_connection = True
                return
            self._chunk(f"data: {json.dumps(_chunk(word if n == 0 else ' ' + word))}\n\n")
        self._chunk(f"data: {json.dumps(_chunk('', 'stop'))}\n\ndata: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _completion(text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {
        "id": "fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    delta = {"role": "assistant", "content": text} if text or not finish else {}
    return {
        "id": "fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


@contextmanager
def fake_openai() -> Iterator[tuple[str, Script]]:
    """The server's /v1 base URL and the script it follows; change the script between requests."""
    script = Script()
    handler = type("Handler", (FakeOpenAI,), {"script": script})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    finally:
        server.shutdown()
        server.server_close()

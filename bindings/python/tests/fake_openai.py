"""A loopback server that speaks the OpenAI chat-completions wire format.

It stands in for a hosted model: `POST /v1/chat/completions` with a JSON body carrying `model`
and `messages` gets a `chat.completion` object (or an OpenAI-style error body with the scripted
status). Every request is recorded. Each request is served on its own thread, so concurrent
asks reach it concurrently.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple, Union


@dataclass
class Request:
    """One request as the server saw it."""

    path: str
    authorization: Optional[str]
    body: Dict[str, Any]

    @property
    def last_user(self) -> str:
        users = [m["content"] for m in self.body.get("messages", []) if m.get("role") == "user"]
        return users[-1] if users else ""


#: What a script returns: message content for a completion, or (status, error message).
Reply = Union[str, Tuple[int, str]]


def sql_reply(sql: str, explanation: str = "As asked.") -> str:
    """Message content in the JSON form the engine asks models for."""
    return json.dumps({"sql": sql, "explanation": explanation})


class FakeOpenAI:
    """A running fake; use as a context manager or call `close()`."""

    def __init__(self, script: Callable[[Request], Reply]) -> None:
        self.script = script
        self.requests: List[Request] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._send(400, {"error": {"message": "body is not JSON"}})
                if not body.get("model") or not isinstance(body.get("messages"), list):
                    return self._send(400, {"error": {"message": "model and messages are required"}})
                request = Request(self.path, self.headers.get("Authorization"), body)
                with fake._lock:
                    fake.requests.append(request)
                    n = len(fake.requests)
                reply = fake.script(request)
                if isinstance(reply, tuple):
                    status, message = reply
                    return self._send(
                        status,
                        {"error": {"message": message, "type": "server_error", "param": None, "code": None}},
                        {"x-request-id": f"req_{n}"},
                    )
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{n}",
                        "object": "chat.completion",
                        "created": 1700000000,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                    },
                )

            def _send(self, status: int, doc: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}/v1"

    def llm(self, **extra: Any) -> Dict[str, Any]:
        """The `llm=` section that points the engine at this server."""
        section: Dict[str, Any] = {"provider": "openai", "model": "gpt-test", "base_url": self.base_url}
        section.update(extra)
        return section

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

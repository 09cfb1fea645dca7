"""A real local OpenAI-compatible HTTP server answering from scripted steps, for every engine LLM test."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLlm:
    """Each request is answered by the next scripted step, `step(body) -> (status, payload, delay_s)`; the last
    step repeats. Requests are recorded in arrival order with `_path` and `_auth` added."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.steps: list = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body["_path"] = self.path
                body["_auth"] = self.headers.get("Authorization")
                with fake._lock:
                    fake.requests.append(body)
                    step = fake.steps[min(len(fake.requests) - 1, len(fake.steps) - 1)]
                status, payload, delay = step(body)
                if delay:
                    time.sleep(delay)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def completion(content: str, logprob: float | None = None) -> dict:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    if logprob is not None:
        choice["logprobs"] = {"content": [{"token": "x", "logprob": logprob}]}
    return {"id": "c1", "object": "chat.completion", "choices": [choice]}

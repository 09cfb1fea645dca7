"""A local HTTP server that stands for a customer's webhook receiver: it records every POST and answers with the
status the test sets (`receiver.status = 500`). settings.CHUNKR_OUTBOUND_ALLOW_HOSTS must allow 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Receiver:
    url: str
    status: int = 204
    answer: bytes = b""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]


@contextmanager
def webhook_receiver(path: str = "/hooks") -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(receiver.status)
            self.send_header("Content-Length", str(len(receiver.answer)))
            self.end_headers()
            self.wfile.write(receiver.answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()

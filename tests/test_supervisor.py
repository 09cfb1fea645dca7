"""`make run`'s supervisor: everything comes up, and SIGTERM or Ctrl-C leaves no process behind."""

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_supervisor(tmp_path: Path, **env_overrides: str) -> tuple[subprocess.Popen, int, Path]:
    """The supervisor on a scratch var/ and its own web port, one web and one worker process, migrated first;
    returns it once its web server answers /api/v1/health, with the port and its log's path (its environment is
    the log's sibling `env.json`)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "SECRET_KEY"}}
    env.update(
        CHUNKR_VAR_DIR=str(tmp_path / "var"),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        CELERY_CONCURRENCY="1",
        PYTHONUNBUFFERED="1",
        **env_overrides,
    )
    env = {k: v for k, v in env.items() if v != ""}  # "" removes a variable
    (tmp_path / "env.json").write_text(json.dumps(env))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    log_path = tmp_path / "supervisor.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chunkr_web.supervisor"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def healthy():
        if proc.poll() is not None:
            raise AssertionError(f"the supervisor exited with {proc.returncode}\n{log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).text == "OK"
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, timeout=90, interval=0.5, what=f"the web server\n{log_path.read_text()[-2000:]}")
    except BaseException:
        proc.kill()
        raise
    return proc, port, log_path


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find child processes")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_supervisor_serves_then_stops_everything(tmp_path, stop_signal):
    proc, port, log_path = start_supervisor(tmp_path, CHUNKR_EMBEDDED_REDIS_PORT=str(free_port()))
    try:
        login = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=True, timeout=5)
        assert login.url.path == "/accounts/login/"
        # Give the worker and beat time to start their own children, so the check below means something.
        wait_for(lambda: len(descendants(proc.pid)) >= 5, timeout=60, interval=0.5, what="worker and beat")
        family = descendants(proc.pid)

        proc.send_signal(stop_signal)
        assert proc.wait(timeout=60) == 0
        time.sleep(0.5)
        left = [pid for pid in family if alive(pid)]
        assert left == [], f"still running after the signal: {left}\n{log_path.read_text()[-3000:]}"
    finally:
        if proc.poll() is None:
            proc.kill()


def _held(port: int):
    """A listening socket on 127.0.0.1:`port`, standing for another checkout's `make run` (None if something already
    listens there, which does as well)."""
    import socket

    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    sock.listen()
    return sock


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find child processes")
def test_a_second_checkout_runs_beside_the_first_on_another_port(tmp_path):
    """The default embedded Redis port is taken: the supervisor picks a free one and says so; the web port it was
    given serves."""
    holder = _held(6390)
    try:
        proc, _port, log_path = start_supervisor(tmp_path, CHUNKR_EMBEDDED_REDIS_PORT="")
    except BaseException:
        if holder is not None:
            holder.close()
        raise
    try:
        assert "port 6390 is taken" in log_path.read_text()
        from celery import Celery

        picked = int(log_path.read_text().split("the embedded Redis uses ")[1].split()[0])
        probe = Celery(broker=f"redis://127.0.0.1:{picked}/0")
        wait_for(lambda: probe.control.ping(timeout=1), timeout=60, interval=0.5, what="its worker on that Redis")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        if holder is not None:
            holder.close()


def test_a_taken_web_port_stops_make_run_with_one_clear_line(tmp_path):
    with _held(0) as holder:
        port = holder.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "SECRET_KEY"}}
        env.update(CHUNKR_VAR_DIR=str(tmp_path / "var"), PORT=str(port))
        run = subprocess.run(
            [sys.executable, "-m", "chunkr_web.supervisor"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert f"port {port} is taken: set PORT to another port" in run.stderr
    assert "starting" not in run.stderr  # nothing was started


def _child_of(parent: int, *words: str) -> int | None:
    """The pid of `parent`'s direct child whose command line holds all of `words`."""
    for pid in descendants(parent):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat[1]) == parent and all(word in cmdline for word in words) and alive(pid):
            return pid
    return None


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find child processes")
def test_a_killed_worker_or_redis_is_started_again_and_documents_still_parse(tmp_path):
    from celery import Celery

    from tests.factories import pdf_bytes

    redis_port = free_port()
    proc, port, log_path = start_supervisor(tmp_path, CHUNKR_EMBEDDED_REDIS_PORT=str(redis_port))
    env = json.loads((tmp_path / "env.json").read_text())
    made = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "--workspace", "Drill"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    key = made.stdout.strip().splitlines()[-1]
    probe = Celery(broker=f"redis://127.0.0.1:{redis_port}/0")

    def worker_answers() -> bool:
        try:
            return bool(probe.control.ping(timeout=1))
        except Exception:  # noqa: BLE001 - Redis down (being restarted) raises: not yet
            return False

    log = lambda: log_path.read_text()[-3000:]  # noqa: E731
    try:
        wait_for(worker_answers, timeout=60, interval=0.5, what=f"the worker\n{log()}")
        worker = _child_of(proc.pid, "celery", "worker")
        pool = descendants(worker)
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: "worker exited with code -9; restarting it" in log_path.read_text(), timeout=10, what=log())
        wait_for(lambda: _child_of(proc.pid, "celery", "worker") not in (None, worker), timeout=30, what=log())
        wait_for(lambda: not any(alive(pid) for pid in pool), timeout=10, what="the killed worker's pool to go")

        redis = _child_of(proc.pid, "redis-server")
        os.kill(redis, signal.SIGKILL)
        wait_for(lambda: "redis exited with code -9; restarting it" in log_path.read_text(), timeout=10, what=log())
        wait_for(worker_answers, timeout=90, interval=0.5, what=f"the worker again\n{log()}")

        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers={"Authorization": key}) as api:
            created = api.post("/tasks/parse", json={"file": base64.b64encode(pdf_bytes("After the drill")).decode()})
            assert created.status_code == 200, created.text
            task_id = created.json()["task_id"]
            done = wait_for(
                lambda: (a := api.get(f"/tasks/{task_id}").json())["completed"] and a,
                timeout=120,
                interval=0.5,
                what=f"the parse\n{log()}",
            )
        assert done["status"] == "Succeeded", done["message"]
        family = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        time.sleep(0.5)
        assert [pid for pid in family if alive(pid)] == []
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_child_that_keeps_failing_at_once_is_restarted_with_backoff_then_given_up(capsys):
    """The restart rule on a real child that exits at once, with the clock passed in (no waiting)."""
    from chunkr_web.supervisor import MAX_QUICK_FAILURES, Supervisor

    supervisor = Supervisor()
    child = supervisor.start("flaky", [sys.executable, "-c", "import sys; sys.exit(3)"])
    now, delays = child.started_at, []
    while True:
        child.proc.wait()
        if not supervisor._watch(child, now):  # exited: schedule a restart, or give up
            break
        delays.append(child.restart_at - now)
        now = child.restart_at
        assert supervisor._watch(child, now)  # the restart itself
    assert delays == [2**n for n in range(MAX_QUICK_FAILURES)]
    err = capsys.readouterr().err
    assert "flaky exited with code 3; restarting it in 1 s" in err
    assert f"flaky keeps exiting right after it starts (code 3, {MAX_QUICK_FAILURES} restarts)" in err


def test_a_child_that_ran_a_while_starts_its_count_afresh():
    from chunkr_web.supervisor import STABLE_SECONDS, Supervisor

    supervisor = Supervisor()
    child = supervisor.start("steady", [sys.executable, "-c", "pass"])
    child.proc.wait()
    child.quick_failures = 4
    assert supervisor._watch(child, child.started_at + STABLE_SECONDS + 1)
    assert child.quick_failures == 1 and child.restart_at == child.started_at + STABLE_SECONDS + 2


def test_the_worker_make_run_starts_consumes_every_routed_queue_webhooks_included(monkeypatch):
    from django.conf import settings

    from chunkr_web.supervisor import worker_command

    monkeypatch.delenv("CELERY_WORKER_QUEUES", raising=False)
    argv = worker_command()
    consumed = set(argv[argv.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert settings.CELERY_TASK_ROUTES["tasks_app.jobs.deliver_webhook_job"] == {"queue": "webhooks"}
    assert routed <= consumed
    assert routed <= set(settings.CELERY_WORKER_QUEUES)

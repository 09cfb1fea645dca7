"""LOG_FORMAT=json: one JSON object per line, and every line a job logs carries the job's task_id and workspace_id —
checked in the worker users run (a `celery worker` subprocess, prefork pool), not only in this process."""

import json
import logging
import os
import socket

import pytest
import redis
from django.conf import settings

from chunkr_web.logs import ContextFilter, JsonFormatter, PlainFormatter, current_context, log_context
from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tests.conftest import WORKER_TEST_ENV, jobs_routed_to, start_worker_process, wait_for
from tests.factories import encrypted_pdf, parse_task, pdf_bytes


def _record(message: str, *args, exc_info=None) -> logging.LogRecord:
    record = logging.LogRecord("tasks_app.x", logging.WARNING, __file__, 1, message, args, exc_info)
    ContextFilter().filter(record)
    return record


def test_a_json_line_has_time_level_logger_message_and_the_bound_fields():
    with log_context(task_id="t-1", workspace_id="w-1"), log_context(job="j", ignored=None):
        assert current_context() == {"task_id": "t-1", "workspace_id": "w-1", "job": "j"}
        line = JsonFormatter().format(_record("page %d of %d", 2, 3))
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "WARNING" and entry["logger"] == "tasks_app.x" and entry["message"] == "page 2 of 3"
    assert (entry["task_id"], entry["workspace_id"], entry["job"]) == ("t-1", "w-1", "j")
    assert entry["time"].endswith("+00:00")
    assert current_context() == {}  # left behind nothing


def test_an_exception_stays_on_the_one_line():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        import sys

        line = JsonFormatter().format(_record("failed", exc_info=sys.exc_info()))
    assert len(line.splitlines()) == 1
    assert "ValueError: bad\nvalue" in json.loads(line)["exception"]


def test_the_plain_format_appends_the_bound_fields():
    formatter = PlainFormatter("%(levelname)s %(name)s: %(message)s")
    assert formatter.format(_record("outside")) == "WARNING tasks_app.x: outside"
    with log_context(task_id="t-2"):
        assert formatter.format(_record("inside")) == "WARNING tasks_app.x: inside [task_id=t-2]"


def test_a_bad_log_format_fails_at_start_up_naming_the_variable(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "chunkr_web.settings", "LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "LOG_FORMAT must be 'plain' or 'json'" in result.stderr


JSON_PREFIX = "jsonlog-"


@pytest.fixture
def json_worker(_point_at_test_redis, tmp_path):
    """A worker started with LOG_FORMAT=json, reading queues of its own (so the session's worker takes none of it)."""
    from chunkr_web.supervisor import worker_command

    argv = worker_command(hostname=(hostname := f"jsonlog-{os.getpid()}@{socket.gethostname()}"))
    queues = [JSON_PREFIX + q for q in ("default", "parse", "extract", "split", "webhooks")]
    argv[argv.index("-Q") + 1] = ",".join(queues)
    redis.Redis.from_url(settings.REDIS_URL).delete(*queues)  # what an interrupted run left
    env = {**WORKER_TEST_ENV, "LOG_FORMAT": "json"}
    worker = start_worker_process(argv, hostname=hostname, log_path=tmp_path / "worker.log", env=env)
    try:
        with jobs_routed_to(JSON_PREFIX):
            yield worker
    finally:
        worker.stop()


@pytest.mark.django_db(transaction=True)  # the worker only sees committed rows
def test_every_line_of_a_json_worker_is_json_and_a_job_s_lines_carry_its_task_and_workspace(json_worker, workspace):
    ok = parse_task(workspace, pdf_bytes("logged"))
    # A document the engine cannot read: the job logs more than its success line.
    broken = parse_task(workspace, encrypted_pdf())
    for task in (ok, broken):
        wait_for(
            lambda task=task: Task.objects.filter(pk=task.pk, finished_at__isnull=False).exists(),
            timeout=120,
            what="the task to finish",
        )
    assert Task.objects.get(pk=ok.pk).status == TaskStatus.SUCCEEDED
    # The job marks its task finished before Celery logs the job's success line: wait for both jobs' lines.
    for task in (ok, broken):
        wait_for(
            lambda task=task: any(
                str(task.pk) in line and "succeeded" in line for line in json_worker.log_path.read_text().splitlines()
            ),
            timeout=10,
            what=f"the success line of task {task.pk}'s job",
        )

    lines = [line for line in json_worker.log_path.read_text().splitlines() if line.strip()]
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not JSON: {line!r}\n{json_worker.log_tail()}")
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    # The worker's start-up is still logged (hijack_root_logger off: through our handler), without its ASCII banner.
    assert any(e["message"].endswith("ready.") for e in entries), json_worker.log_tail()
    for task in (ok, broken):
        mine = [e for e in entries if e.get("task_id") == str(task.pk)]
        assert any("succeeded" in e["message"] for e in mine), json_worker.log_tail()
        assert all(e["workspace_id"] == str(workspace.pk) for e in mine)
        assert all(e["job"] == "tasks_app.jobs.process_task_job" and e["job_id"] for e in mine)
    # Lines logged between jobs carry no job's ids.
    assert any("task_id" not in e for e in entries)

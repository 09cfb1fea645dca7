"""The job queue as the services see it: put a task's job on it, stop a running job.

Jobs are sent by name, not imported: `tasks_app/jobs.py` is a skin over the services and sits above them.
"""

from __future__ import annotations

import logging
import threading

from celery import current_app
from django.db import transaction

from tasks_app.choices import TaskType
from tasks_app.models import Task

logger = logging.getLogger(__name__)

TASK_QUEUED = "Task queued"
STOP_ORDER_SECONDS = 5.0
DELIVER_WEBHOOK_JOB = "tasks_app.jobs.deliver_webhook_job"
JOB_FOR_TYPE = {
    TaskType.PARSE: "tasks_app.jobs.process_task_job",
    TaskType.EXTRACT: "tasks_app.jobs.extract_task_job",
    TaskType.SPLIT: "tasks_app.jobs.split_task_job",
}


def job_enqueue(task: Task) -> None:
    """Queue the job that processes `task`, once the current transaction commits (a worker must never see an
    uncommitted row)."""
    job_send(JOB_FOR_TYPE.get(task.task_type, JOB_FOR_TYPE[TaskType.PARSE]), str(task.pk))


def job_send(name: str, *args: str) -> None:
    """Queue the job `name` with `args` once the current transaction commits."""
    transaction.on_commit(lambda: current_app.send_task(name, args=list(args)))


def job_stop(job_id: str, *, timeout: float = STOP_ORDER_SECONDS) -> bool:
    """Stop the job `job_id` wherever it runs: every worker drops it if it is still queued, and the worker running it
    kills the process it runs in (SIGKILL: a process stuck in native code never runs a Python signal handler; Celery
    starts a fresh pool process in its place). True when the order went out within `timeout`: a broker that is down
    or stalled must not hold up the request that asked (the caller settles the row either way)."""
    if not job_id:
        return False
    sent = threading.Event()
    failure: list[BaseException] = []

    def send() -> None:
        try:
            current_app.control.revoke(job_id, terminate=True, signal="SIGKILL")
        except Exception as exc:  # noqa: BLE001 - any broker failure: reported below
            failure.append(exc)
        finally:
            sent.set()

    threading.Thread(target=send, name="job-stop", daemon=True).start()
    if not sent.wait(timeout):
        logger.warning("The order to stop job %s did not go out within %s s (broker stalled?)", job_id, timeout)
        return False
    if failure:
        logger.warning("Could not send the order to stop job %s: %r", job_id, failure[0])
        return False
    return True

"""The job queue as the services see it: put a task's job on it, stop a running job.

Jobs are sent by name, not imported: `tasks_app/jobs.py` is a skin over the services and sits above them.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

from tasks_app.choices import TaskType
from tasks_app.models import Task

logger = logging.getLogger(__name__)

TASK_QUEUED = "Task queued"
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


def job_stop(job_id: str) -> bool:
    """Stop the job `job_id` wherever it runs: every worker drops it if it is still queued, and the worker running it
    kills the process it runs in (SIGKILL: a process stuck in native code never runs a Python signal handler; Celery
    starts a fresh pool process in its place). True when the order went out."""
    if not job_id:
        return False
    try:
        current_app.control.revoke(job_id, terminate=True, signal="SIGKILL")
    except Exception as exc:  # the broker is down: the caller still settles the row
        logger.warning("Could not send the order to stop job %s: %r", job_id, exc)
        return False
    return True

"""The job queue as the services see it: put a task's job on it, see which tasks have a job waiting, stop a job.

Jobs are sent by name, not imported: `tasks_app/jobs.py` is a skin over the services and sits above them. The broker
is Redis (kombu's Redis transport): a queue is a list of message envelopes, and the messages a worker has taken but
not yet acknowledged sit in its `unacked` hash.
"""

from __future__ import annotations

import json
import logging
import re
import threading

import redis
from celery import current_app
from django.db import transaction

from tasks_app.choices import JobQueue, TaskType
from tasks_app.errors import ServiceUnavailable
from tasks_app.models import Task

logger = logging.getLogger(__name__)

TASK_QUEUED = "Task queued"
STOP_ORDER_SECONDS = 5.0
QUEUE_DOWN = "The job queue cannot be reached right now, so nothing was queued. Try again in a minute."
QUEUE_DOWN_RETRY_AFTER = 30
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DELIVER_WEBHOOK_JOB = "tasks_app.jobs.deliver_webhook_job"
# One job name per kind of work, each routed to its queue by CELERY_TASK_ROUTES (settings), so that workers can be
# given some kinds and not others.
PARSE_JOB = "tasks_app.jobs.process_task_job"
OCR_JOB = "tasks_app.jobs.process_scanned_task_job"
JOB_FOR_TYPE = {
    TaskType.PARSE: PARSE_JOB,
    TaskType.EXTRACT: "tasks_app.jobs.extract_task_job",
    TaskType.SPLIT: "tasks_app.jobs.split_task_job",
}
TASK_JOBS = frozenset({*JOB_FOR_TYPE.values(), OCR_JOB})
RANGE_JOB_FOR_QUEUE = {JobQueue.PARSE: "tasks_app.jobs.parse_range_job", JobQueue.OCR: "tasks_app.jobs.ocr_range_job"}
MERGE_JOB = "tasks_app.jobs.merge_ranges_job"


def job_enqueue(task: Task) -> None:
    """Queue the job that processes `task`, once the current transaction commits (a worker must never see an
    uncommitted row). Services go through services/dispatch.task_enqueue, which applies the workspace's fair share
    and calls this."""
    job_send(task_job_name(task), str(task.pk))


def task_job_name(task: Task) -> str:
    """The job that processes `task`: by its type, and for a parse by the kind of pages it holds (`Task.queue`)."""
    if task.task_type == TaskType.PARSE and task.queue == JobQueue.OCR:
        return OCR_JOB
    return JOB_FOR_TYPE.get(task.task_type, PARSE_JOB)


def job_send(name: str, *args: str, countdown: float | None = None) -> None:
    """Queue the job `name` with `args` once the current transaction commits. A broker that fails then (the row is
    committed already) is logged, not raised: the resend sweep (maintenance.tasks_resend_unqueued) sends a task's
    job again once the broker is back."""

    def send() -> None:
        try:
            current_app.send_task(name, args=list(args), countdown=countdown)
        except Exception as exc:  # noqa: BLE001 - kombu and redis raise several types for a broker that is down
            logger.warning("Could not queue %s%s (the resend sweep will): %r", name, tuple(args), exc)

    transaction.on_commit(send)


def _broker() -> redis.Redis:
    return redis.Redis.from_url(current_app.conf.broker_url, socket_timeout=5, socket_connect_timeout=2)


def queue_check() -> None:
    """Refuse new work while the broker is down (503 with Retry-After), before anything is stored."""
    try:
        _broker().ping()
    except redis.RedisError:
        raise ServiceUnavailable(QUEUE_DOWN, retry_after=QUEUE_DOWN_RETRY_AFTER) from None


def queue_names() -> set[str]:
    conf = current_app.conf
    return {route["queue"] for route in (conf.task_routes or {}).values()} | {conf.task_default_queue}


def queued_range_task_ids() -> set[str] | None:
    """The ids of the tasks with a page-range job in the broker now (waiting or taken), as queued_task_ids."""
    return queued_task_ids(jobs=frozenset(RANGE_JOB_FOR_QUEUE.values()))


def queued_task_ids(queues: set[str] | None = None, jobs: frozenset[str] = TASK_JOBS) -> set[str] | None:
    """The ids of the tasks with a processing job (one of `jobs`) in the broker now: waiting in `queues` (the routed
    ones by default) or taken by a worker and not yet acknowledged. None when the broker cannot be read."""
    try:
        client = _broker()
        pipe = client.pipeline()
        for name in sorted(queues or queue_names()):
            pipe.lrange(name, 0, -1)
        pipe.hvals("unacked")
        *waiting, taken = pipe.execute()
    except redis.RedisError:
        return None
    envelopes = [raw for items in waiting for raw in items]
    envelopes += [raw for raw in taken]
    found: set[str] = set()
    for raw in envelopes:
        try:
            message = json.loads(raw)
            if isinstance(message, list):  # unacked: [envelope, exchange, routing key]
                message = message[0]
            headers = message["headers"]
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        if headers.get("task") in jobs:
            found.update(_UUID.findall(str(headers.get("argsrepr", ""))))
    return found


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

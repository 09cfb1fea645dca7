"""Task rows on the write side: create (for services/intake.py, which checks the input first), cancel, delete.
Processing lives in processing.py."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tasks_app import engine
from tasks_app.choices import TERMINAL_STATUSES, JobQueue, RangeStatus, TaskStatus, TaskType
from tasks_app.errors import ApplicationError, PermissionDenied
from tasks_app.models import StoredFile, Task, TaskOutput, TaskRange, Workspace
from tasks_app.services.access import authorize_task_change
from tasks_app.services.audit import Actor, actor_fields, audit_record
from tasks_app.services.dispatch import task_enqueue
from tasks_app.services.files import PRIVATE_PREFIX
from tasks_app.services.lifecycle import (
    dependents_orphan,
    dependents_release,
    task_delete_assets,
    task_settle_stopped,
)
from tasks_app.services.metrics import metrics_task_ended
from tasks_app.services.queue import TASK_QUEUED, job_stop
from tasks_app.services.webhooks import webhooks_emit

TASK_CANCELLED = "Task cancelled"
TASK_STOPPED = "Task cancelled. Its worker did not stop on its own, so its job was stopped."
CANCEL_POLL_SECONDS = 0.2


@transaction.atomic
def task_create_parse(
    *,
    workspace: Workspace,
    stored_file: StoredFile | None,
    configuration: engine.ParseConfig,
    source_url: str = "",
    actor: Actor,
    file_name: str | None = None,
    expires_in: int | None = None,
    client_version: object = "Unspecified",
    page_count: int | None = None,
    queue: str = JobQueue.PARSE,
) -> Task:
    """The Starting row of a parse task, queued on commit. `configuration` comes validated (intake); `queue`: the
    kind of work its pages are (JobQueue.OCR for scans and images)."""
    now = timezone.now()
    if expires_in is None:
        expires_in = workspace.default_expires_in
    task = Task.objects.create(
        workspace=workspace,
        task_type=TaskType.PARSE,
        status=TaskStatus.STARTING,
        message=TASK_QUEUED,
        configuration=configuration.to_dict(),
        input_file=stored_file,
        source_url=source_url,
        file_name=file_name or (stored_file.original_name if stored_file else ""),
        mime_type=stored_file.mime_type if stored_file else "",
        page_count=page_count,
        queue=queue,
        created_at=now,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        zdr=workspace.zdr_trigger if workspace.zdr_enabled else "",  # zero data retention, as promised at creation
        client_version=client_version,
        **actor_fields(actor),
    )
    audit_record(workspace=workspace, actor=actor, verb="task.created", target=task)
    webhooks_emit(task)
    task_enqueue(task)
    return task


@dataclass(slots=True)
class CancelOutcome:
    task: Task
    cancelled: bool  # the cancel took effect (Cancelled, or a legacy re-run's previous state restored)
    error: str = ""  # why not, for the person who asked


def task_cancel(*, task: Task, actor: Actor) -> Task:
    """Cancel one task (see tasks_cancel); ApplicationError says why when it cannot be."""
    outcome = tasks_cancel(tasks=[task], actor=actor)[0]
    if not outcome.cancelled:
        raise ApplicationError(outcome.error)
    return outcome.task


def tasks_cancel(*, tasks: list[Task], actor: Actor) -> list[CancelOutcome]:
    """Cancel tasks, and say truthfully for each whether it ended cancelled.

    Starting: cancelled at once. Processing: flagged, and its worker stops at the next page boundary keeping nothing
    partial; a worker that has not stopped within CHUNKR_CANCEL_GRACE_SECONDS (hung, or its process gone) has its job
    stopped from here (`job_stop`: revoked, its process killed) and the row is set Cancelled by this process, with a
    message that says so. A task that finishes on its own meanwhile keeps its result and is reported as not cancelled.
    All the tasks share one grace period.
    """
    outcomes: list[CancelOutcome] = []
    waiting: list[CancelOutcome] = []
    for task in tasks:
        outcome = _cancel_flag(task, actor)
        outcomes.append(outcome)
        if outcome.task.status == TaskStatus.PROCESSING and not outcome.error:
            waiting.append(outcome)
    if waiting:
        _await_or_stop([o.task for o in waiting])
        for outcome in waiting:
            outcome.task.refresh_from_db()
            outcome.cancelled = outcome.task.status == TaskStatus.CANCELLED
            if not outcome.cancelled:
                outcome.error = f"Task finished ({outcome.task.status}) before it could be cancelled"
    return outcomes


@transaction.atomic
def _cancel_flag(task: Task, actor: Actor) -> CancelOutcome:
    """The first step of a cancel: each step is a conditional UPDATE on the status it saw; when the worker moves the
    task on in between (Starting to Processing is the usual race), the task is re-read and the step for its new status
    is tried."""
    try:
        authorize_task_change(actor=actor, task=task)
    except PermissionDenied as exc:
        return CancelOutcome(task, cancelled=False, error=exc.message)
    done = 0
    for _attempt in range(3):
        done = _cancel_step(task)
        if done or task.status in TERMINAL_STATUSES:
            break
        task.refresh_from_db()
    task.refresh_from_db()
    if not done:
        return CancelOutcome(task, cancelled=False, error=f"Task cannot be cancelled: status is {task.status}")
    audit_record(workspace=task.workspace, actor=actor, verb="task.cancel_requested", target=task)
    if task.status == TaskStatus.PROCESSING:  # its worker, or _await_or_stop, settles it
        return CancelOutcome(task, cancelled=False)
    webhooks_emit(task)
    if task.status == TaskStatus.CANCELLED:  # not through lifecycle.task_ended; a legacy re-run's restore is no end
        metrics_task_ended(task.pk)
    dependents_release(task.pk)  # waiting Extract/Split tasks fail, saying why
    return CancelOutcome(task, cancelled=True)


def _await_or_stop(tasks: list[Task]) -> None:
    """Give the workers of flagged Processing tasks the grace period to stop, then stop the jobs still running."""
    ids = [t.pk for t in tasks]
    grace = settings.CHUNKR_CANCEL_GRACE_SECONDS
    if transaction.get_connection().in_atomic_block:
        grace = 0  # the flag is not committed, so no worker can see it: waiting would only delay
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not Task.objects.filter(pk__in=ids, status=TaskStatus.PROCESSING).exists():
            return
        time.sleep(CANCEL_POLL_SECONDS)
    for task_id, job_id in Task.objects.filter(pk__in=ids, status=TaskStatus.PROCESSING).values_list("pk", "job_id"):
        job_stop(job_id)
        # A long document's page ranges run as jobs of their own (services/ranges.py): stop those still running.
        for range_job in TaskRange.objects.filter(task_id=task_id, status=RangeStatus.RUNNING).values_list(
            "job_id", flat=True
        ):
            job_stop(range_job)
        changed = Task.objects.filter(pk=task_id, status=TaskStatus.PROCESSING).update(
            status=TaskStatus.CANCELLED, message=TASK_STOPPED, finished_at=timezone.now()
        )
        if changed:
            task_settle_stopped(task_id)


def _cancel_step(task: Task) -> int:
    """One conditional update for the status `task` holds now; the number of rows it changed (0 or 1)."""
    if task.status == TaskStatus.STARTING and task.previous_state:
        # A legacy re-run that has not started: cancelling it restores the previous result (§3.6).
        state = task.previous_state
        return Task.objects.filter(pk=task.pk, status=TaskStatus.STARTING).update(
            status=state["status"],
            message=state["message"],
            configuration=state["configuration"],
            started_at=parse_datetime(state["started_at"]) if state.get("started_at") else None,
            finished_at=parse_datetime(state["finished_at"]) if state.get("finished_at") else None,
            previous_state=None,
        )
    if task.status == TaskStatus.STARTING:
        return Task.objects.filter(pk=task.pk, status=TaskStatus.STARTING).update(
            status=TaskStatus.CANCELLED, message=TASK_CANCELLED, finished_at=timezone.now(), cancel_requested=True
        )
    if task.status == TaskStatus.PROCESSING:
        return Task.objects.filter(pk=task.pk, status=TaskStatus.PROCESSING).update(cancel_requested=True)
    return 0


def task_delete(*, task: Task, actor: Actor) -> None:
    authorize_task_change(actor=actor, task=task)
    if task.status not in TERMINAL_STATUSES:
        raise ApplicationError(f"Task cannot be deleted: status is {task.status}")
    task_delete_assets(task=task)
    input_file = task.input_file
    with transaction.atomic():
        dependents_orphan(task.pk, reason="was deleted")
        audit_record(workspace=task.workspace, actor=actor, verb="task.deleted", target=task)
        TaskOutput.objects.filter(task=task).delete()
        task.delete()
        # The input copy goes with the task unless a file upload (ch://) or another task still uses it.
        if input_file is not None and _is_private_copy(input_file):
            key = input_file.storage_key
            input_file.delete()
            if key:
                transaction.on_commit(lambda: default_storage.delete(key))


def _is_private_copy(stored: StoredFile) -> bool:
    return stored.storage_key.startswith(PRIVATE_PREFIX + "/") and not stored.tasks.exists()


@transaction.atomic
def task_update_legacy(*, task: Task, configuration: engine.ParseConfig, expires_in: int | None, actor: Actor) -> Task:
    """Legacy PATCH /task/{id}/parse: re-run a finished task in place with a changed configuration (§12.3),
    validated by intake_update_legacy."""
    if task.status not in (TaskStatus.SUCCEEDED, TaskStatus.FAILED):
        raise ApplicationError(f"Task cannot be updated: status is {task.status}")
    merged = configuration.to_dict()
    new_expiry = task.created_at + timedelta(seconds=expires_in) if expires_in else task.expires_at
    if merged == task.configuration and new_expiry == task.expires_at:
        raise ApplicationError("Task cannot be updated: the configuration is unchanged")
    task.previous_state = {
        "status": task.status,
        "message": task.message,
        "configuration": task.configuration,
        "started_at": task.started_at.isoformat() if task.started_at else None,
        "finished_at": task.finished_at.isoformat() if task.finished_at else None,
    }
    task.configuration = merged
    task.expires_at = new_expiry
    task.status = TaskStatus.STARTING
    task.message = TASK_QUEUED
    task.started_at = task.finished_at = None
    task.cancel_requested = False
    task.pages_done = 0
    task.save()
    audit_record(workspace=task.workspace, actor=actor, verb="task.updated", target=task)
    webhooks_emit(task)
    task_enqueue(task)
    return task

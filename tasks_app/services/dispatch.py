"""Which jobs go to the broker now: per-workspace fairness, and each job to the queue of its kind of work.

A task's job — and each page range of a long document (services/ranges.py) — is sent only while its workspace has
fewer than CHUNKR_WORKSPACE_MAX_JOBS jobs queued or running; the others wait in the database (a Starting task without
`queued_at`, a Waiting range) and go, oldest first, as that workspace's jobs end. So one workspace's 10,000-page batch
holds at most that many worker slots and never sits in the broker ahead of another workspace's one page: with the
cap below the workers' slots, a slot is always free for someone else (docs/SCALING.md; bench/scale_bench.py measures
it). 0 turns the cap off; `Workspace.max_jobs` overrides it for one workspace.

`task_enqueue` runs inside the caller's transaction and sends when it commits. It takes no lock that another
transaction could be waiting for in turn (waiting rows are picked with SKIP LOCKED), so it cannot deadlock with a
cancel or a job's end; two dispatchers racing may let a workspace have one job more than its cap for a moment,
which is harmless. A dispatch lost with a process (between commit and send) is made up by the resend sweep
(services/maintenance.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tasks_app.choices import TERMINAL_STATUSES, RangeStatus, TaskStatus
from tasks_app.models import Task, TaskRange, Workspace
from tasks_app.services.queue import RANGE_JOB_FOR_QUEUE, job_enqueue, job_send

NO_CAP = 1_000_000


def task_enqueue(task: Task) -> None:
    """`task` (Starting) may run: send its job now if its workspace has a free slot, else when one frees."""
    Task.objects.filter(pk=task.pk, status=TaskStatus.STARTING).update(queued_at=None)
    workspace_dispatch(task.workspace_id)


def workspace_busy(workspace_id) -> int:
    """The jobs of a workspace queued or running now: tasks (a long document's own job only while it splits) and
    page ranges."""
    tasks = (
        Task.objects.filter(workspace_id=workspace_id, ranges_total=0)
        .filter(Q(status=TaskStatus.PROCESSING) | Q(status=TaskStatus.STARTING, queued_at__isnull=False))
        .count()
    )
    ranges = TaskRange.objects.filter(
        workspace_id=workspace_id, status__in=(RangeStatus.QUEUED, RangeStatus.RUNNING)
    ).count()
    return tasks + ranges


def waiting_tasks():
    """Starting tasks whose job has not been sent and that may run (an Extract/Split whose source has ended)."""
    return Task.objects.filter(status=TaskStatus.STARTING, queued_at__isnull=True).filter(
        Q(source_task__isnull=True) | Q(source_task__status__in=TERMINAL_STATUSES)
    )


def workspace_dispatch(workspace_id) -> int:
    """Send the jobs of `workspace_id` that its free slots allow: waiting ranges first (documents already started
    finish first), then waiting tasks, oldest first. How many were sent."""
    own = Workspace.objects.filter(pk=workspace_id).values_list("max_jobs", flat=True).first()
    cap = (settings.CHUNKR_WORKSPACE_MAX_JOBS if own is None else own) or NO_CAP
    with transaction.atomic():
        free = cap - workspace_busy(workspace_id) if cap < NO_CAP else NO_CAP
        if free <= 0:
            return 0
        now = timezone.now()
        ranges = list(
            TaskRange.objects.select_for_update(skip_locked=True)
            .filter(workspace_id=workspace_id, status=RangeStatus.WAITING)
            .order_by("task__created_at", "index")
            .only("pk", "task_id", "index", "queue")[:free]
        )
        if ranges:
            TaskRange.objects.filter(pk__in=[r.pk for r in ranges], status=RangeStatus.WAITING).update(
                status=RangeStatus.QUEUED, queued_at=now
            )
            for item in ranges:
                job_send(RANGE_JOB_FOR_QUEUE[item.queue], str(item.task_id), str(item.index))
        tasks = []
        if free > len(ranges):
            tasks = list(
                waiting_tasks()
                .filter(workspace_id=workspace_id)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("created_at")
                .only("pk", "task_type", "queue")[: free - len(ranges)]
            )
            Task.objects.filter(pk__in=[t.pk for t in tasks], queued_at__isnull=True).update(queued_at=now)
            for task in tasks:
                job_enqueue(task)
    return len(ranges) + len(tasks)


def dispatch_all() -> int:
    """Dispatch every workspace with work waiting (the beat's sweep: makes up for a dispatch lost with a process)."""
    workspaces = set(waiting_tasks().values_list("workspace_id", flat=True).distinct())
    workspaces |= set(
        TaskRange.objects.filter(status=RangeStatus.WAITING).values_list("workspace_id", flat=True).distinct()
    )
    return sum(workspace_dispatch(workspace_id) for workspace_id in workspaces)

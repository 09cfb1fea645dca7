"""Random interleavings of what happens to tasks — create, a worker taking a task and dying, the job delivered again,
cancel, delete, the stale sweep — and then the system left to settle: every task must end terminal and consistent,
never run after a successful cancel, never run more than MAX_TASK_ATTEMPTS times, never lose or keep an output it
should not. Seeded, so a failure names the seed that reproduces it."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app.choices import TERMINAL_STATUSES, TaskStatus
from tasks_app.errors import ApplicationError
from tasks_app.models import Task, TaskOutput
from tasks_app.services.intake import intake_parse
from tasks_app.services.lifecycle import task_claim
from tasks_app.services.maintenance import tasks_requeue_stale
from tasks_app.services.processing import task_process
from tasks_app.services.tasks import task_cancel, task_delete
from tests.factories import pdf_bytes

PDF = base64.b64encode(pdf_bytes("Interleaved")).decode()
SEEDS = range(20)
STEPS = 24


@dataclass
class World:
    rng: random.Random
    tasks: list = field(default_factory=list)
    jobs: dict = field(default_factory=dict)  # task id → the job id of its last (dead) worker
    cancelled: set = field(default_factory=set)  # cancel answered "cancelled"
    deleted: set = field(default_factory=set)
    runs: dict = field(default_factory=dict)  # task id → claims that ran the parse to its end
    log: list = field(default_factory=list)

    def pick(self):
        alive = [t for t in self.tasks if t not in self.deleted]
        return self.rng.choice(alive) if alive else None


def _status(task_id) -> str:
    return Task.objects.filter(pk=task_id).values_list("status", flat=True).first()


def op_create(world: World) -> None:
    task = intake_parse(workspace=world.workspace, file=PDF, file_name="i.pdf", configuration=None, actor=None)
    world.tasks.append(task.pk)


def op_worker_dies(world: World) -> None:
    """A worker claims the task and its process dies before it ends (no result written)."""
    task_id = world.pick()
    if task_id is None:
        return
    job_id = f"job-{len(world.log)}"
    if task_claim(task_id=task_id, job_id=job_id, message="Processing", pages_done=0):
        world.jobs[task_id] = job_id


def op_redelivered(world: World) -> None:
    """The dead worker's job comes back (acks_late + reject_on_worker_lost) and runs to its end."""
    task_id = world.pick()
    if task_id is None or task_id not in world.jobs:
        return
    before = _status(task_id)
    task_process(task_id=str(task_id), job_id=world.jobs[task_id])
    if before == TaskStatus.PROCESSING and _status(task_id) == TaskStatus.SUCCEEDED:
        world.runs[task_id] = world.runs.get(task_id, 0) + 1


def op_worker_runs(world: World) -> None:
    task_id = world.pick()
    if task_id is None:
        return
    before = _status(task_id)
    task_process(task_id=str(task_id), job_id=f"job-{len(world.log)}")
    if before == TaskStatus.STARTING and _status(task_id) == TaskStatus.SUCCEEDED:
        world.runs[task_id] = world.runs.get(task_id, 0) + 1


def op_cancel(world: World) -> None:
    task_id = world.pick()
    if task_id is None:
        return
    try:
        task_cancel(task=Task.objects.get(pk=task_id), actor=None)
    except ApplicationError as exc:
        assert "cannot be cancelled" in exc.message or "finished" in exc.message, exc.message
        return
    world.cancelled.add(task_id)


def op_delete(world: World) -> None:
    task_id = world.pick()
    if task_id is None:
        return
    status = _status(task_id)
    try:
        task_delete(task=Task.objects.get(pk=task_id), actor=None)
    except ApplicationError as exc:
        assert status not in TERMINAL_STATUSES and "cannot be deleted" in exc.message, (status, exc.message)
        return
    assert status in TERMINAL_STATUSES, f"a {status} task was deleted"
    world.deleted.add(task_id)


def op_stale_sweep(world: World) -> None:
    tasks_requeue_stale(now=timezone.now() + timedelta(hours=1))


OPERATIONS = [
    (op_create, 3),
    (op_worker_dies, 4),
    (op_redelivered, 2),
    (op_worker_runs, 2),
    (op_cancel, 2),
    (op_delete, 1),
    (op_stale_sweep, 2),
]


def settle(world: World) -> None:
    """What the running system does on its own: the sweep requeues or ends stale tasks, workers run what is queued."""
    for _ in range(10):
        op_stale_sweep(world)
        waiting = list(Task.objects.filter(pk__in=world.tasks, status=TaskStatus.STARTING).values_list("pk", flat=True))
        for task_id in waiting:
            task_process(task_id=str(task_id), job_id=f"settle-{task_id}")
            if _status(task_id) == TaskStatus.SUCCEEDED:
                world.runs[task_id] = world.runs.get(task_id, 0) + 1
        if not Task.objects.filter(pk__in=world.tasks).exclude(status__in=TERMINAL_STATUSES).exists():
            return


@pytest.mark.parametrize("seed", SEEDS)
def test_every_interleaving_settles_terminal_and_consistent(seed, workspace, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CHUNKR_CANCEL_GRACE_SECONDS = 0  # a flagged task whose worker is dead is settled at once
    settings.MAX_TASK_ATTEMPTS = 2  # so that some tasks die often enough to fail
    world = World(rng=random.Random(seed))  # noqa: S311 - a reproducible schedule, not a secret
    world.workspace = workspace
    choices, weights = zip(*OPERATIONS, strict=True)
    op_create(world)
    op_create(world)
    for _ in range(STEPS):
        operation = world.rng.choices(choices, weights)[0]
        world.log.append(operation.__name__)
        operation(world)
    settle(world)

    context = f"seed {seed}: {' '.join(world.log)}"
    rows = {t.pk: t for t in Task.objects.filter(pk__in=world.tasks)}
    outputs = set(TaskOutput.objects.filter(task__in=world.tasks).values_list("task_id", flat=True))
    assert set(rows) == set(world.tasks) - world.deleted, context
    assert not outputs & world.deleted, context
    for task_id, task in rows.items():
        where = f"{context}\ntask {task_id}: {task.status} {task.message!r} attempts={task.attempts}"
        assert task.status in TERMINAL_STATUSES, where
        assert (task.status == TaskStatus.SUCCEEDED) == (task_id in outputs), where
        assert task.finished_at is not None and task.message, where
        assert task.attempts <= settings.MAX_TASK_ATTEMPTS, where
        assert world.runs.get(task_id, 0) <= 1, where  # the parse ran to its end at most once
        if task_id in world.cancelled:
            assert task.status == TaskStatus.CANCELLED, where  # a cancel that said so is final

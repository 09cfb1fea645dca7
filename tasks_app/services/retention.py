"""Data retention: a workspace's default expiry, zero data retention (ZDR) and the tombstones it leaves.

Expiry (`expires_in`, contract §4.5) is the beat job's (services/maintenance.py::tasks_purge_expired): the row, its
output, assets and input copy are deleted. ZDR goes further and sooner: once a task's result has been fetched through
the API (api/answers.py calls zdr_note_fetched) or delivered by webhook (services/webhooks.py calls
zdr_note_delivered), whichever comes first or both (Workspace.zdr_trigger, copied to Task.zdr at creation), the input,
output, assets and reviewed values are deleted and the row stays as a tombstone: ids, type, status, sizes, times.

A Parse task whose output an Extract/Split task still has to read (it is Starting or Processing) keeps its content
until that task has ended: the beat job's sweep (zdr_sweep) tombstones it then. The tasks' bytes are deleted from
Django storage (local disk or S3) by key and by listing the task's folder, so nothing a job wrote is left behind.

This module imports neither lifecycle nor webhooks: webhooks calls zdr_note_delivered, and lifecycle imports webhooks.
"""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tasks_app.choices import ACTIVE_STATUSES, TERMINAL_STATUSES, ZdrTrigger
from tasks_app.errors import ApplicationError
from tasks_app.models import ExtractionReview, StoredFile, Task, TaskOutput, WebhookEndpoint, Workspace
from tasks_app.services.access import authorize
from tasks_app.services.audit import Actor, audit_record
from tasks_app.services.storage import storage_delete_below

logger = logging.getLogger(__name__)

# What a tombstone's `message` says (GET /tasks/{id} shows it, with the status kept and no output).
ZDR_MESSAGE = "The output was deleted under zero data retention after it was delivered."
MAX_EXPIRES_IN = 2**31 - 1  # the contract's int32
BAD_EXPIRES_IN = "The retention must be a whole number of seconds between 1 and 2147483647, or none."
PRIVATE_PREFIX = "inputs/"  # services/files.py: a task's own copy of its input, not a /files upload


@transaction.atomic
def retention_update(
    *, workspace: Workspace, actor: Actor, default_expires_in: int | None, zdr_enabled: bool, zdr_trigger: str
) -> Workspace:
    """Change the workspace's default expiry and ZDR settings; recorded as `retention.changed` (before and after).
    Applies to tasks made from now on: a task keeps the expiry and ZDR it was created with."""
    authorize(actor=actor, workspace=workspace, action="retention.manage")
    if default_expires_in is not None and not 0 < default_expires_in <= MAX_EXPIRES_IN:
        raise ApplicationError(BAD_EXPIRES_IN)
    if zdr_trigger not in ZdrTrigger.values:
        raise ApplicationError(f"Unknown zero data retention trigger: {zdr_trigger!r}.")
    fields = ("default_expires_in", "zdr_enabled", "zdr_trigger")
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    before = {name: getattr(workspace, name) for name in fields}
    after = {"default_expires_in": default_expires_in, "zdr_enabled": zdr_enabled, "zdr_trigger": zdr_trigger}
    if before == after:
        return workspace
    for name, value in after.items():
        setattr(workspace, name, value)
    workspace.save(update_fields=list(fields))
    audit_record(
        workspace=workspace, actor=actor, verb="retention.changed", target=workspace, data={"from": before, "to": after}
    )
    return workspace


def zdr_note_fetched(task_id) -> bool:
    """A ZDR task's finished result was answered through the API. Returns True when its content was deleted now.

    One conditional UPDATE (the first answer wins, later ones change nothing); the answer was rendered before this
    is called, so the client that fetched it has it."""
    return _note(task_id, "fetched_at")


def zdr_note_delivered(task_id, *, event_status: str | None = None) -> bool:
    """A ZDR task's terminal-status event was delivered by webhook (a 2xx answer). Returns True when its content was
    deleted now. For the webhook code to call after each successful delivery, passing the delivered event's status:
    a late delivery of an earlier event (Processing) carried no result and changes nothing. Harmless to repeat."""
    if event_status is not None and event_status not in TERMINAL_STATUSES:
        return False
    return _note(task_id, "delivered_at")


def _note(task_id, field: str) -> bool:
    pending = Task.objects.filter(pk=task_id, zdr_deleted_at__isnull=True, status__in=TERMINAL_STATUSES).exclude(zdr="")
    pending.filter(**{f"{field}__isnull": True}).update(**{field: timezone.now()})
    task = pending.only("pk", "workspace_id", "zdr", "fetched_at", "delivered_at", "source_task_id").first()
    if task is None or not zdr_due(task) or not task_tombstone(task_id=task.pk):
        return False
    if task.source_task_id:
        # The Parse task an Extract/Split read (often made just for it, never fetched itself): its result reached the
        # client through this one. It goes too unless another Extract/Split still has to read it.
        _note(task.source_task_id, field)
    return True


def zdr_due(task: Task) -> bool:
    """Whether a ZDR task's trigger has fired. "both" waits for the webhook too, unless the workspace has no enabled
    endpoint to deliver to (then nothing would ever be delivered, and the fetch alone counts)."""
    if task.zdr == ZdrTrigger.BOTH:
        if task.fetched_at is None:
            return False
        return task.delivered_at is not None or not _has_endpoint(task.workspace_id)
    return task.fetched_at is not None or task.delivered_at is not None


def _has_endpoint(workspace_id) -> bool:
    return WebhookEndpoint.objects.filter(workspace_id=workspace_id, enabled=True).exists()


def _has_waiting_dependents(task_id) -> bool:
    return Task.objects.filter(source_task_id=task_id, status__in=ACTIVE_STATUSES).exists()


def task_tombstone(*, task_id, now=None) -> bool:
    """Delete a finished task's content and keep its row as a tombstone. False when it may not go yet (not finished,
    already a tombstone, or an Extract/Split task still has to read its output: zdr_sweep tries again)."""
    now = now or timezone.now()
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))  # the task's row only, not its workspace's
            .filter(pk=task_id, zdr_deleted_at__isnull=True, status__in=TERMINAL_STATUSES)
            .select_related("workspace")
            .first()
        )
        if task is None or _has_waiting_dependents(task_id):
            return False
        asset_keys = TaskOutput.objects.filter(task_id=task_id).values_list("asset_keys", flat=True).first() or []
        TaskOutput.objects.filter(task_id=task_id).delete()
        ExtractionReview.objects.filter(task_id=task_id).delete()  # its decisions (reviewed values) cascade
        Task.objects.filter(pk=task_id).update(
            zdr_deleted_at=now,
            message=ZDR_MESSAGE,
            file_name="",
            source_url="",
            previous_state=None,
            output_revision=task.output_revision + 1,
        )
        stored = task.input_file_id and StoredFile.objects.filter(pk=task.input_file_id).first()
        key = input_scrub(stored, keep_for=Q(zdr_deleted_at__isnull=True)) if stored else ""
        audit_record(
            workspace=task.workspace,
            actor=None,
            verb="task.zdr_deleted",
            target=task,
            data={"task_type": task.task_type, "status": task.status, "pages": task.page_count},
        )
    delete_keys([*asset_keys, key] if key else asset_keys)
    storage_delete_below(f"tasks/{task_id}")
    return True


def input_scrub(stored: StoredFile, *, keep_for: Q) -> str:
    """Scrub a task's own input copy (not a /files upload, which its owner deletes) unless a task matching `keep_for`
    still uses it: an Extract task shares its Parse task's input. The row stays, with its size, for the audit trail.
    Returns the storage key to delete after commit, or ""."""
    if not stored.storage_key.startswith(PRIVATE_PREFIX) or stored.tasks.filter(keep_for).exists():
        return ""
    key = stored.storage_key
    StoredFile.objects.filter(pk=stored.pk).update(
        deleted_at=timezone.now(), metadata=None, original_name="deleted", storage_key=""
    )
    return key


def delete_keys(keys: list[str]) -> None:
    for key in keys:
        try:
            default_storage.delete(key)
        except OSError:
            logger.warning("Could not delete stored file %s", key)


def zdr_sweep(*, now=None) -> int:
    """Tombstone the ZDR tasks whose trigger fired while an Extract/Split task still had to read them (and any whose
    deletion was interrupted). Run by the beat job; returns how many went."""
    pending = (
        Task.objects.filter(zdr_deleted_at__isnull=True, status__in=TERMINAL_STATUSES)
        .exclude(zdr="")
        .filter(Q(fetched_at__isnull=False) | Q(delivered_at__isnull=False))
        .only("pk", "workspace_id", "zdr", "fetched_at", "delivered_at")
    )
    done = 0
    for task in pending.iterator(chunk_size=500):
        if zdr_due(task) and task_tombstone(task_id=task.pk, now=now):
            done += 1
    return done

"""Extract and Split tasks (contract §3.2, §13.5): their rows (for services/intake.py), and running them.

An Extract/Split task reads the output of its source task (`Task.source_task`, the contract's `parse_task_id`):
a Parse task, or for per-topic extraction a Split task (whose own source is the Parse task). It is created
`Starting` and stays so while the parse runs; the parse's end releases it (`lifecycle.dependents_release`), and a
parse that ends Failed/Cancelled fails it with a message saying why.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tasks_app import engine, selectors
from tasks_app.choices import TERMINAL_STATUSES, TaskStatus, TaskType
from tasks_app.errors import ApplicationError
from tasks_app.models import Task, TaskOutput, Workspace
from tasks_app.services.audit import Actor, actor_fields, audit_record
from tasks_app.services.dispatch import task_enqueue
from tasks_app.services.lifecycle import INTERNAL_ERROR, job_pulse, task_claim, task_ended, task_fail_waiting
from tasks_app.services.queue import TASK_QUEUED
from tasks_app.services.review import review_open
from tasks_app.services.webhooks import webhooks_emit, webhooks_emit_for

logger = logging.getLogger(__name__)

WAITING_FOR_PARSE = "Waiting for the parse task to finish"
TASK_SUCCEEDED = "Task succeeded"


@transaction.atomic
def task_create_derived(
    *,
    workspace: Workspace,
    task_type: str,
    source: Task,
    configuration: dict,
    actor: Actor,
    expires_in: int | None = None,
    client_version: object = "Unspecified",
) -> Task:
    """An Extract or Split task over `source`; queued now if `source` is done, else when it finishes."""
    now = timezone.now()
    if expires_in is None:
        expires_in = workspace.default_expires_in
    waiting = source.status not in TERMINAL_STATUSES
    task = Task.objects.create(
        workspace=workspace,
        task_type=task_type,
        status=TaskStatus.STARTING,
        message=WAITING_FOR_PARSE if waiting else TASK_QUEUED,
        configuration=configuration,
        # the schema as written: `configuration` (jsonb) keeps no key order, and the fields' order is the author's
        schema_text=json.dumps(configuration["schema"], ensure_ascii=False) if "schema" in configuration else "",
        source_task=source,
        input_file=source.input_file,
        source_url=source.source_url,
        file_name=source.file_name,
        mime_type=source.mime_type,
        page_count=source.page_count,
        created_at=now,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        zdr=workspace.zdr_trigger if workspace.zdr_enabled else "",  # zero data retention, as promised at creation
        client_version=client_version,
        **actor_fields(actor),
    )
    audit_record(workspace=workspace, actor=actor, verb="task.created", target=task)
    webhooks_emit(task)
    # Always queued: if the source is still running, the job returns at once and the source's end queues it
    # again; queuing anyway closes the window where the source finishes before this row is committed.
    task_enqueue(task)
    return task


def _finish(task: Task, status: str, message: str, output: dict | None = None) -> None:
    with transaction.atomic():
        changed = Task.objects.filter(pk=task.pk, status=TaskStatus.PROCESSING, cancel_requested=False).update(
            status=status, message=message, finished_at=timezone.now()
        )
        if not changed:  # cancelled (or deleted) meanwhile: keep nothing
            changed = Task.objects.filter(pk=task.pk, status=TaskStatus.PROCESSING).update(
                status=TaskStatus.CANCELLED, message="Task cancelled", finished_at=timezone.now()
            )
            output = None
        if changed and output is not None:
            TaskOutput.objects.update_or_create(task=task, defaults={"data": output, "asset_keys": []})
            if task.task_type == TaskType.EXTRACT and status == TaskStatus.SUCCEEDED:
                review_open(task=task, output=output)
    if changed:
        task_ended(task.pk)


def _parse_output_of(task: Task) -> dict:
    output = selectors.parse_output_of(task=task)
    if output is None:
        raise engine.EngineError("The parse task this task reads has been deleted.")
    return output


def extract_options(configuration: dict, pages: tuple[int, ...] | None = None) -> engine.ExtractOptions:
    parse_config = configuration.get("parse_configuration") or {}
    return engine.ExtractOptions(
        system_prompt=configuration.get("system_prompt"),
        error_handling=parse_config.get("error_handling") or "Fail",
        llm_base_url=settings.CHUNKR_LLM_BASE_URL,
        llm_api_key=settings.CHUNKR_LLM_API_KEY,
        llm_model=settings.CHUNKR_LLM_MODEL or "gpt-4o-mini",
        llm_timeout_s=settings.CHUNKR_LLM_TIMEOUT,
        pages=pages,
    )


def task_process_derived(*, task_id: str, job_id: str = "") -> None:
    """The Extract/Split job: wait for the source, claim, run the engine, store the output."""
    task = Task.objects.select_related("source_task").filter(pk=task_id).first()
    redelivered = task is not None and task.status == TaskStatus.PROCESSING and job_id and task.job_id == job_id
    if task is None or (task.status != TaskStatus.STARTING and not redelivered):
        return  # delivered again after it ran, cancelled, deleted or done
    source = task.source_task
    if source is None:
        task_fail_waiting(task, "The source task has been deleted.")
        return
    if source.status not in TERMINAL_STATUSES:
        return  # released again when the source finishes
    if source.status != TaskStatus.SUCCEEDED:
        task_fail_waiting(task, f"The {source.task_type} task ended {source.status}: {source.message}")
        return
    claimed = task_claim(
        task_id=task.pk,
        job_id=job_id,
        message="Extracting" if task.task_type == TaskType.EXTRACT else "Splitting",
        page_count=source.page_count,
    )
    if not claimed:
        return
    webhooks_emit_for(task.pk)
    with job_pulse(task.pk, job_id):
        try:
            parse_output = _parse_output_of(task)
            pages = None
            if source.task_type == TaskType.SPLIT:
                split = TaskOutput.objects.get(task=source).data
                topic = task.configuration.get("topic")
                pages = next((tuple(t["pages"]) for t in split["topics"] if t["name"] == topic), ())
                if not pages:
                    raise engine.EngineError(f"The split assigned no pages to the topic {topic!r}; nothing to extract.")
            options = extract_options(task.configuration, pages)
            if task.task_type == TaskType.SPLIT:
                output = engine.split_document(parse_output, task.configuration["topics"], options)
            else:
                output = engine.run_extraction(parse_output, task.extraction_schema, options)
        except engine.EngineError as exc:
            _finish(task, TaskStatus.FAILED, exc.user_message)
        except Exception:
            ref = uuid.uuid4().hex[:8]
            logger.exception("%s task %s failed (ref %s)", task.task_type, task.pk, ref)
            _finish(task, TaskStatus.FAILED, INTERNAL_ERROR.format(ref=ref))
        else:
            message = TASK_SUCCEEDED
            if options.warnings:
                message += ". " + " ".join(dict.fromkeys(options.warnings))
            _finish(task, TaskStatus.SUCCEEDED, message, output)


def extraction_dry_run(*, source: Task, schema: dict) -> dict:
    """The schema editor's "Try it": `schema` run on a succeeded parse task's output, nothing stored. Raises
    ApplicationError (a clear 400) for a document that cannot be read."""
    if source.task_type != TaskType.PARSE or source.status != TaskStatus.SUCCEEDED:
        raise ApplicationError("Choose a parsed document that succeeded.")
    parse_output = selectors.task_output(task=source)
    if parse_output is None:
        raise ApplicationError("That document's parse output is gone.")
    try:
        return engine.run_extraction(parse_output, schema, extract_options({}))
    except engine.EngineError as exc:
        raise ApplicationError(exc.user_message) from None

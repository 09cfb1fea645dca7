"""v2 task routes (contract §2-§4) and the async-jobs flag (§13.1)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from tasks_app import selectors
from tasks_app.api import common
from tasks_app.api.presenters import client_version, job_to_dict, task_to_dict
from tasks_app.api.schemas import ErrorOut, JobOut, ParseCreateIn, TaskOut, TasksListOut
from tasks_app.choices import TaskStatus, TaskType
from tasks_app.errors import ApplicationError, NotFound
from tasks_app.models import TaskOutput
from tasks_app.services import tasks as task_services
from tasks_app.services.inputs import input_check_supported, input_resolve

router = Router(tags=["tasks"])
TEXT = "text/plain; charset=utf-8"


def create_parse(request, payload: ParseCreateIn, *, legacy: bool = False) -> dict:
    """Shared by POST /tasks/parse and the legacy POST /task/parse."""
    common.rate_limit(request)
    scope = "task.parse"
    previous = common.idempotent_lookup(request, scope)
    if previous:
        try:
            return selectors.task_get(workspace=request.auth.workspace, task_id=previous)
        except NotFound:
            pass
    configuration = payload.configuration()
    task_services.parse_config_resolve(configuration)  # 400 before anything is stored
    with transaction.atomic():
        resolved = input_resolve(
            workspace=request.auth.workspace, file=payload.file, file_name=payload.file_name, actor=request.auth
        )
        if resolved.stored is not None:
            input_check_supported(resolved.stored)
        task = task_services.task_create_parse(
            workspace=request.auth.workspace,
            stored_file=resolved.stored,
            source_url=resolved.source_url,
            configuration=configuration,
            actor=request.auth,
            file_name=resolved.file_name,
            expires_in=payload.expires_in,
            client_version=client_version(request),
        )
    common.idempotent_remember(request, scope, str(task.pk))
    return task


@router.post(
    "/tasks/parse",
    response={200: TaskOut, 202: JobOut, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut, 429: ErrorOut},
    summary="Create a parse task",
)
def parse_task_create(request, payload: ParseCreateIn):
    task = create_parse(request, payload)
    if payload.async_ is True:
        return Status(202, job_to_dict(task, request=request))
    if payload.async_ is False:
        task = common.wait_terminal(task, common.sync_wait_seconds())
        if not task.completed:
            return Status(202, job_to_dict(task, request=request))
    return task_to_dict(task, request=request)


@router.get("/tasks", response={200: TasksListOut, 400: ErrorOut}, summary="List tasks")
def task_list(
    request,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
    start: str | None = None,
    end: str | None = None,
    sort: str = "desc",
    statuses: list[str] | None = Query(None),
    task_types: list[str] | None = Query(None),
    include_chunks: bool = False,
    base64_urls: bool = False,
):
    tasks = selectors.task_list(workspace=request.auth.workspace).select_related("input_file")
    wanted_statuses = common.split_list(statuses)
    bad = [s for s in wanted_statuses if s not in TaskStatus.values]
    if bad:
        raise ApplicationError(f"statuses: unknown status {bad[0]!r}; expected one of {', '.join(TaskStatus.values)}")
    wanted_types = common.split_list(task_types)
    bad = [t for t in wanted_types if t not in TaskType.values]
    if bad:
        raise ApplicationError(f"task_types: unknown type {bad[0]!r}; expected one of {', '.join(TaskType.values)}")
    if wanted_statuses:
        tasks = tasks.filter(status__in=wanted_statuses)
    if wanted_types:
        tasks = tasks.filter(task_type__in=wanted_types)
    page, has_more, next_cursor = common.cursor_page(
        tasks, field="created_at", pk="task_id", cursor=cursor, limit=limit, sort=sort, start=start, end=end
    )
    # One query for the page's outputs instead of one per task.
    succeeded = [t.pk for t in page if t.status == TaskStatus.SUCCEEDED]
    outputs = dict(TaskOutput.objects.filter(task_id__in=succeeded).values_list("task_id", "data"))
    return {
        "tasks": [
            task_to_dict(
                t,
                request=request,
                include_chunks=include_chunks,
                base64_urls=base64_urls,
                output=outputs.get(t.pk),
            )
            for t in page
        ],
        "has_more": has_more,
        "next_cursor": next_cursor,
    }


def _get(request, task_id, *, task_type: str | None = None):
    task = selectors.task_get(workspace=request.auth.workspace, task_id=task_id)
    if task_type is not None and task.task_type != task_type:
        raise NotFound(selectors.TASK_NOT_FOUND)
    return task


@router.get("/tasks/{task_id}", response={200: TaskOut, 404: ErrorOut}, summary="Get a task")
def task_get(request, task_id: str, include_chunks: bool = True, base64_urls: bool = False):
    task = _get(request, task_id)
    return task_to_dict(task, request=request, include_chunks=include_chunks, base64_urls=base64_urls)


@router.get("/tasks/{task_id}/parse", response={200: TaskOut, 404: ErrorOut}, summary="Get a parse task")
def parse_task_get(request, task_id: str, include_chunks: bool = True, base64_urls: bool = False):
    task = _get(request, task_id, task_type=TaskType.PARSE)
    return task_to_dict(task, request=request, include_chunks=include_chunks, base64_urls=base64_urls)


@router.get("/tasks/{task_id}/extract", response={200: TaskOut, 404: ErrorOut}, summary="Get an extract task")
def extract_task_get(request, task_id: str, include_chunks: bool = True, base64_urls: bool = False):
    task = _get(request, task_id, task_type=TaskType.EXTRACT)
    return task_to_dict(task, request=request, include_chunks=include_chunks, base64_urls=base64_urls)


@router.delete("/tasks/{task_id}", response={200: str, 400: ErrorOut, 404: ErrorOut}, summary="Delete a task")
def task_delete(request, task_id: str):
    task = _get(request, task_id)
    task_services.task_delete(task=task, actor=request.auth)
    return HttpResponse("Task deleted", content_type=TEXT)


@router.get("/tasks/{task_id}/cancel", response={200: str, 400: ErrorOut, 404: ErrorOut}, summary="Cancel a task")
def task_cancel(request, task_id: str):
    task = _get(request, task_id)
    task_services.task_cancel(task=task, actor=request.auth)
    return HttpResponse("Task cancelled", content_type=TEXT)

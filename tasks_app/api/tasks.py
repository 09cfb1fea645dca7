"""v2 task routes (contract §2-§4) and the async-jobs flag (§13.1)."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from tasks_app import selectors
from tasks_app.api import common
from tasks_app.api.answers import V2, task_answer, tasks_answer
from tasks_app.api.auth import key_auth
from tasks_app.api.schemas import (
    ErrorOut,
    ExtractCreateIn,
    JobOut,
    ParseCreateIn,
    ReviewOut,
    SplitCreateIn,
    TaskOut,
    TasksListOut,
)
from tasks_app.choices import TaskStatus, TaskType
from tasks_app.errors import ApplicationError, NotFound
from tasks_app.models import Task
from tasks_app.presenters import client_version, job_to_dict, review_to_dict, task_to_dict
from tasks_app.services import intake
from tasks_app.services import tasks as task_services
from tasks_app.services.review import review_for

router = Router(tags=["tasks"])
TEXT = "text/plain; charset=utf-8"


def _idempotent(request, scope: str, create, *, file: str = ""):
    """Run `create()` once per Idempotency-Key (24 h); a repeat returns the task the first call made.

    The per-key rate limit counts documents coming in: a create over a file uploaded with POST /files
    (`ch://files/…`, counted by its upload) or over an existing task (a bare task id) is not counted again."""
    if not intake.names_stored_input(file):
        common.rate_limit(request)
    previous = common.idempotent_lookup(request, scope)
    if previous:
        try:
            return selectors.task_get(workspace=request.auth.workspace, task_id=previous)
        except NotFound:
            pass
    task = create()
    common.idempotent_remember(request, scope, str(task.pk))
    return task


def create_parse(request, payload: ParseCreateIn, *, legacy: bool = False) -> Task:
    """Shared by POST /tasks/parse and the legacy POST /task/parse."""
    return _idempotent(
        request,
        "task.parse",
        file=payload.file,
        create=lambda: intake.intake_parse(
            workspace=request.auth.workspace,
            file=payload.file,
            configuration=payload.configuration(),
            actor=request.auth,
            file_name=payload.file_name,
            expires_in=payload.expires_in,
            client_version=client_version(request),
        ),
    )


def create_extract(request, payload: ExtractCreateIn) -> Task:
    return _idempotent(
        request,
        "task.extract",
        file=payload.file,
        create=lambda: intake.intake_extract(
            workspace=request.auth.workspace,
            file=payload.file,
            schema=payload.schema_,
            actor=request.auth,
            file_name=payload.file_name,
            parse_configuration=payload.parse_configuration,
            system_prompt=payload.system_prompt,
            topic=payload.topic,
            expires_in=payload.expires_in,
            client_version=client_version(request),
        ),
    )


def create_split(request, payload: SplitCreateIn) -> Task:
    return _idempotent(
        request,
        "task.split",
        file=payload.file,
        create=lambda: intake.intake_split(
            workspace=request.auth.workspace,
            file=payload.file,
            topics=[t.model_dump() for t in payload.topics],
            actor=request.auth,
            file_name=payload.file_name,
            parse_configuration=payload.parse_configuration,
            expires_in=payload.expires_in,
            client_version=client_version(request),
        ),
    )


def _respond(request, create, async_: bool | None):
    """Contract §13.1: absent → the task now; true → 202 job; false → wait (bounded), then the task or 202. A wait
    holds a web thread, so it needs a slot (common.sync_waits): none free in this process → the job at once (202);
    this key already holding its share → 429 before anything is made."""
    if async_ is not False:
        task = create()
        return Status(202, job_to_dict(task, request=request)) if async_ else task_to_dict(task, request=request)
    with common.sync_waits.slot(str(request.auth.pk)) as may_wait:
        task = create()
        if may_wait:
            task = common.wait_terminal(task, common.sync_wait_seconds())
        if not task.completed:
            return Status(202, job_to_dict(task, request=request))
    return task_to_dict(task, request=request)


@router.post(
    "/tasks/parse",
    auth=key_auth("task.create"),
    response={200: TaskOut, 202: JobOut, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut, 429: ErrorOut},
    summary="Create a parse task",
)
def parse_task_create(request, payload: ParseCreateIn):
    return _respond(request, lambda: create_parse(request, payload), payload.async_)


@router.post(
    "/tasks/extract",
    auth=key_auth("task.create"),
    response={200: TaskOut, 202: JobOut, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut, 429: ErrorOut},
    summary="Create an extract task",
)
def extract_task_create(request, payload: ExtractCreateIn):
    return _respond(request, lambda: create_extract(request, payload), payload.async_)


@router.post(
    "/tasks/split",
    auth=key_auth("task.create"),
    response={200: TaskOut, 202: JobOut, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut, 429: ErrorOut},
    summary="Create a split task (topics to pages)",
)
def split_task_create(request, payload: SplitCreateIn):
    return _respond(request, lambda: create_split(request, payload), payload.async_)


@router.get("/tasks", auth=key_auth("task.read"), response={200: TasksListOut, 400: ErrorOut}, summary="List tasks")
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
    return tasks_answer(
        request,
        page,
        include_chunks=include_chunks,
        base64_urls=base64_urls,
        has_more=has_more,
        next_cursor=next_cursor,
    )


def _get(request, task_id, *, task_type: str | None = None):
    task = selectors.task_get(workspace=request.auth.workspace, task_id=task_id)
    if task_type is not None and task.task_type != task_type:
        raise NotFound(selectors.TASK_NOT_FOUND)
    return task


@router.get(
    "/tasks/{task_id}", auth=key_auth("task.read"), response={200: TaskOut, 404: ErrorOut}, summary="Get a task"
)
def task_get(request, task_id: str, include_chunks: bool = True, base64_urls: bool = False):
    task = _get(request, task_id)
    return task_answer(request, task, surface=V2, include_chunks=include_chunks, base64_urls=base64_urls)


@router.get(
    "/tasks/{task_id}/parse",
    auth=key_auth("task.read"),
    response={200: TaskOut, 404: ErrorOut},
    summary="Get a parse task",
)
def parse_task_get(request, task_id: str, include_chunks: bool = True, base64_urls: bool = False):
    task = _get(request, task_id, task_type=TaskType.PARSE)
    return task_answer(request, task, surface=V2, include_chunks=include_chunks, base64_urls=base64_urls)


@router.get(
    "/tasks/{task_id}/extract",
    auth=key_auth("task.read"),
    response={200: TaskOut, 404: ErrorOut},
    summary="Get an extract task",
)
def extract_task_get(request, task_id: str, include_chunks: bool = True, base64_urls: bool = False):
    task = _get(request, task_id, task_type=TaskType.EXTRACT)
    return task_answer(request, task, surface=V2, include_chunks=include_chunks, base64_urls=base64_urls)


@router.delete(
    "/tasks/{task_id}",
    auth=key_auth("task.change"),
    response={200: str, 400: ErrorOut, 404: ErrorOut},
    summary="Delete a task",
)
def task_delete(request, task_id: str):
    task = _get(request, task_id)
    task_services.task_delete(task=task, actor=request.auth)
    return HttpResponse("Task deleted", content_type=TEXT)


@router.get(
    "/tasks/{task_id}/cancel",
    auth=key_auth("task.change"),
    response={200: str, 400: ErrorOut, 404: ErrorOut},
    summary="Cancel a task",
)
def task_cancel(request, task_id: str):
    task = _get(request, task_id)
    task_services.task_cancel(task=task, actor=request.auth)
    return HttpResponse("Task cancelled", content_type=TEXT)


@router.get(
    "/tasks/{task_id}/review",
    auth=key_auth("review.read"),
    response={200: ReviewOut, 400: ErrorOut, 404: ErrorOut},
    summary="Get the review of an extract task (extension)",
    description="The reviewers' decisions on each field of a succeeded Extract task: the machine's value, the value "
    "that stands (what GET /tasks/{task_id} returns in `output.results`), the field's state and its history. "
    "`status` is `reviewed` once every field has a decision. An extension of the Chunkr API; the official SDKs do "
    "not call it.",
)
def task_review_get(request, task_id: str):
    task = _get(request, task_id, task_type=TaskType.EXTRACT)
    review = review_for(task=task)
    output = selectors.task_output(task=task)
    return review_to_dict(review, selectors.review_fields(review=review, output=output))

"""Legacy v1 routes for the Python SDK chunkr-ai 0.3.7 (contract §12). Parse tasks only."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tasks_app import selectors
from tasks_app.api.answers import LEGACY, task_answer
from tasks_app.api.auth import key_auth
from tasks_app.api.common import rate_limit
from tasks_app.api.schemas import ErrorOut, LegacyUpdateIn, ParseCreateIn, TaskOut
from tasks_app.api.tasks import TEXT, create_parse
from tasks_app.choices import TaskType
from tasks_app.errors import NotFound
from tasks_app.presenters import task_to_dict
from tasks_app.services import intake
from tasks_app.services import tasks as task_services

router = Router(tags=["legacy v1"])


def _get(request, task_id: str):
    task = selectors.task_get(workspace=request.auth.workspace, task_id=task_id)
    if task.task_type != TaskType.PARSE:
        raise NotFound(selectors.TASK_NOT_FOUND)
    return task


@router.post(
    "/task/parse", auth=key_auth("task.create"), response={200: TaskOut, 400: ErrorOut, 404: ErrorOut, 429: ErrorOut}
)
def legacy_create(request, payload: ParseCreateIn):
    task = create_parse(request, payload, legacy=True)
    return task_to_dict(task, request=request, legacy=True)


@router.get("/task/{task_id}", auth=key_auth("task.read"), response={200: TaskOut, 404: ErrorOut})
def legacy_get(request, task_id: str, include_chunks: bool = True, base64_urls: bool = False):
    task = _get(request, task_id)
    return task_answer(request, task, surface=LEGACY, include_chunks=include_chunks, base64_urls=base64_urls)


@router.patch(
    "/task/{task_id}/parse",
    auth=key_auth("task.change"),
    response={200: TaskOut, 400: ErrorOut, 404: ErrorOut, 429: ErrorOut},
)
def legacy_update(request, task_id: str, payload: LegacyUpdateIn):
    rate_limit(request)
    task = _get(request, task_id)
    task = intake.intake_update_legacy(
        task=task, changes=payload.configuration(), expires_in=payload.expires_in, actor=request.auth
    )
    return task_to_dict(task, request=request, legacy=True)


@router.delete("/task/{task_id}", auth=key_auth("task.change"), response={200: str, 400: ErrorOut, 404: ErrorOut})
def legacy_delete(request, task_id: str):
    task_services.task_delete(task=_get(request, task_id), actor=request.auth)
    return HttpResponse("Task deleted", content_type=TEXT)


@router.get("/task/{task_id}/cancel", auth=key_auth("task.change"), response={200: str, 400: ErrorOut, 404: ErrorOut})
def legacy_cancel(request, task_id: str):
    task_services.task_cancel(task=_get(request, task_id), actor=request.auth)
    return HttpResponse("Task cancelled", content_type=TEXT)

"""Async-jobs convention (contract §13): GET/DELETE /job/{id} over the same tasks."""

from __future__ import annotations

from ninja import Router

from tasks_app import selectors
from tasks_app.api.answers import JOB, task_answer
from tasks_app.api.auth import key_auth
from tasks_app.api.schemas import ErrorOut, JobOut
from tasks_app.choices import TaskStatus
from tasks_app.errors import ApplicationError
from tasks_app.services import tasks as task_services

router = Router(tags=["jobs"])


@router.get("/job/{job_id}", auth=key_auth("task.read"), response={200: JobOut, 404: ErrorOut}, summary="Get a job")
def job_get(request, job_id: str, include_chunks: bool = True, base64_urls: bool = False):
    task = selectors.task_get(workspace=request.auth.workspace, task_id=job_id)
    return task_answer(request, task, surface=JOB, include_chunks=include_chunks, base64_urls=base64_urls)


@router.delete(
    "/job/{job_id}",
    auth=key_auth("task.change"),
    response={200: JobOut, 400: ErrorOut, 404: ErrorOut},
    summary="Cancel a job",
)
def job_cancel(request, job_id: str):
    task = selectors.task_get(workspace=request.auth.workspace, task_id=job_id)
    if task.status == TaskStatus.CANCELLED:
        return {"job_id": str(task.task_id), "status": "canceled"}
    if task.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED):
        raise ApplicationError(f"Job cannot be cancelled: it is {task.status.lower()}. Use DELETE /tasks/{{id}}.")
    task = task_services.task_cancel(task=task, actor=request.auth)  # a running job is stopped before it returns
    return {"job_id": str(task.task_id), "status": "canceled" if task.status == TaskStatus.CANCELLED else "processing"}

"""Read side: querysets for the API and the dashboard, always scoped to a workspace."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from tasks_app.choices import SegmentType, TaskStatus
from tasks_app.errors import NotFound
from tasks_app.models import ApiKey, Membership, Task, TaskOutput, Workspace

TASK_NOT_FOUND = "Task not found"


def api_key_active(*, digest: str) -> ApiKey | None:
    return ApiKey.objects.select_related("workspace").filter(digest=digest, revoked_at__isnull=True).first()


def workspaces_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def task_list(*, workspace: Workspace) -> QuerySet[Task]:
    now = timezone.now()
    tasks = Task.objects.filter(workspace=workspace).exclude(expires_at__lte=now)
    return tasks.order_by("-created_at", "-task_id")


def task_get(*, workspace: Workspace, task_id: UUID | str) -> Task:
    # 404, not 403, for other workspaces: we never confirm that an id exists.
    try:
        task = Task.objects.get(workspace=workspace, pk=task_id)
    except (Task.DoesNotExist, ValueError, ValidationError):
        raise NotFound(TASK_NOT_FOUND) from None
    if task.is_expired:
        raise NotFound(TASK_NOT_FOUND)
    return task


def task_search(
    *,
    workspace: Workspace,
    status: str | None = None,
    task_type: str | None = None,
    created_from=None,
    created_to=None,
    q: str | None = None,
    created_by: str | None = None,
    sort: str = "-created_at",
) -> QuerySet[Task]:
    """The dashboard list: filters and one sort field, ordered so each choice walks one of Task's indexes.

    `created_by` is a user id, or "api" for tasks created with an API key. Never loads TaskOutput.
    """
    tasks = task_list(workspace=workspace)
    if status:
        tasks = tasks.filter(status=status)
    if task_type:
        tasks = tasks.filter(task_type=task_type)
    if created_from:
        tasks = tasks.filter(created_at__gte=created_from)
    if created_to:
        tasks = tasks.filter(created_at__lte=created_to)
    if q:
        tasks = tasks.filter(file_name__icontains=q)
    if created_by == "api":
        tasks = tasks.filter(created_by_key__isnull=False)
    elif created_by:
        tasks = tasks.filter(created_by_user_id=created_by)
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    tiebreak = "created_at" if field == "status" else "task_id"
    order = [field, tiebreak] if field != "created_at" else [field, "task_id"]
    return tasks.order_by(*[f"-{f}" if descending else f for f in order])


@dataclass(frozen=True, slots=True)
class ViewerIndex:
    """A succeeded task's output arranged for the viewer: pages, and segments grouped by page."""

    pages: list[dict]
    segments_by_page: dict[int, list[dict]]  # full contract Segment dicts, reading order
    chunks: list[dict]  # {"chunk_id", "chunk_length", "preview", "segments": [(segment_id, type, page, length)]}
    type_counts: dict[str, int]  # in SegmentType order, only the types present

    @property
    def segment_count(self) -> int:
        return sum(self.type_counts.values())


def task_viewer_index(*, task: Task) -> ViewerIndex | None:
    """None unless the task has an output. Memoised per process: a viewer asks for many pages of one task."""
    if task.status != TaskStatus.SUCCEEDED:
        return None
    return _viewer_index(str(task.pk), task.finished_at.isoformat() if task.finished_at else "")


@lru_cache(maxsize=8)
def _viewer_index(task_id: str, finished: str) -> ViewerIndex | None:
    # `finished` is part of the key so a re-run (new finished_at) never reads a stale index.
    row = TaskOutput.objects.filter(task_id=task_id).only("data").first()
    if row is None or not isinstance(row.data, dict):
        return None
    output = row.data
    by_page: dict[int, list[dict]] = {}
    counts: dict[str, int] = {}
    chunks = []
    for chunk in output.get("chunks") or []:
        members = []
        for segment in chunk.get("segments") or []:
            by_page.setdefault(int(segment.get("page_number") or 1), []).append(segment)
            kind = segment.get("segment_type") or "Unknown"
            counts[kind] = counts.get(kind, 0) + 1
            members.append(
                (segment["segment_id"], kind, segment.get("page_number") or 1, segment.get("segment_length"))
            )
        chunks.append(
            {
                "chunk_id": chunk.get("chunk_id"),
                "chunk_length": chunk.get("chunk_length"),
                "preview": (chunk.get("embed") or chunk.get("content") or "")[:200],
                "segments": members,
            }
        )
    pages = list(output.get("pages") or [])
    if not pages:  # outputs without page entries still get one sheet per page that has segments
        for number, segments in sorted(by_page.items()):
            first = segments[0]
            pages.append(
                {
                    "page_number": number,
                    "page_width": first["page_width"],
                    "page_height": first["page_height"],
                    "image": None,
                }
            )
    order = {t: i for i, t in enumerate(SegmentType.values)}
    type_counts = dict(sorted(counts.items(), key=lambda item: order.get(item[0], len(order))))
    return ViewerIndex(pages=pages, segments_by_page=by_page, chunks=chunks, type_counts=type_counts)

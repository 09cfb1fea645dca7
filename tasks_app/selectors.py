"""Read side: querysets for the API and the dashboard, always scoped to a workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from tasks_app.choices import SegmentType, TaskStatus
from tasks_app.errors import NotFound
from tasks_app.models import ApiKey, Membership, StoredFile, Task, TaskOutput, Workspace

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
        # input_file: every answer about a task carries its input's URL.
        task = Task.objects.select_related("input_file").get(workspace=workspace, pk=task_id)
    except (Task.DoesNotExist, ValueError, ValidationError):
        raise NotFound(TASK_NOT_FOUND) from None
    if task.is_expired:
        raise NotFound(TASK_NOT_FOUND)
    return task


def task_outputs(*, task_ids: list, include_chunks: bool = True) -> dict[UUID, Any]:
    """Stored outputs by task id, for the tasks among `task_ids` that have one. One query for a whole page."""
    rows = TaskOutput.objects.filter(task_id__in=task_ids).values_list("task_id", _output_text(include_chunks))
    return {task_id: json_loads(text) for task_id, text in rows}


def task_outputs_as_read(*, tasks: list[Task], include_chunks: bool = True) -> dict[UUID, Any]:
    """The outputs of `tasks` by task id, as of the rows read into them (see task_output): a task that has finished
    again since is left out, like one without an output. One query for a whole page."""
    if not tasks:
        return {}
    finished = {task.pk: task.finished_at for task in tasks}
    rows = TaskOutput.objects.filter(task_id__in=list(finished), task__status=TaskStatus.SUCCEEDED).values_list(
        "task_id", "task__finished_at", _output_text(include_chunks)
    )
    return {task_id: json_loads(text) for task_id, at, text in rows if at == finished[task_id]}


def task_output(*, task: Task, include_chunks: bool = True) -> Any | None:
    """The output of `task` as of the row read into `task`: None when it has none, or when the task has finished
    again since (a legacy re-run), so that an answer cached under that row's version never carries a newer output."""
    text = (
        TaskOutput.objects.filter(
            task_id=task.pk, task__status=TaskStatus.SUCCEEDED, task__finished_at=task.finished_at
        )
        .values_list(_output_text(include_chunks), flat=True)
        .first()
    )
    return None if text is None else json_loads(text)


def _output_text(include_chunks: bool) -> Cast:
    # The JSON as text, decoded by orjson below rather than by JSONField's json.loads (3.5 instead of 6 ms for 320 KB).
    column = "data" if include_chunks else "data_without_chunks"  # a few KB instead of the whole document
    return Cast(column, output_field=TextField())


# Digits to "0", everything else to " ": a run of 19 zeros then marks a number orjson would not decode exactly.
_DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_NUMBER = b"0" * 19


def json_loads(text: str) -> Any:
    """json.loads(text), faster. orjson decodes an integer beyond 64 bits as a float (an account number an extraction
    typed as integer would lose digits), so text with a 19-digit run goes to json.loads (0.4 ms to look for one in
    320 KB), as does the NaN / Infinity that SQLite's JSON text can hold."""
    raw = text.encode()
    if _LONG_NUMBER in raw.translate(_DIGITS_ONLY):
        return json.loads(text)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(text)


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


SLIM_TEXT = 280  # characters of a segment's text kept for the hover preview
SEGMENT_BOX_FIELDS = ("segment_id", "segment_type", "page_number", "bbox", "page_width", "page_height")


@dataclass(frozen=True, slots=True)
class ViewerIndex:
    """A succeeded task's output arranged for the viewer, without the heavy parts (content, OCR words).

    A dense 500-page output is ~45 MB of JSON (~150 MB as Python objects); this index is a few MB, so a
    process can keep several. Whole segments are read one at a time with `task_segment`.
    """

    pages: list[dict]
    boxes_by_page: dict[int, list[dict]]  # id/type/page/bbox/page size/text preview, reading order
    positions: dict[str, tuple[int, int]]  # segment_id -> (chunk index, index in chunk)
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


def task_segment(*, task: Task, index: ViewerIndex, segment_id: str) -> dict | None:
    """One whole segment (content, OCR words, ...) read by its JSON path, not the whole output."""
    position = index.positions.get(segment_id)
    if position is None:
        return None
    chunk, offset = position
    path = f"data__chunks__{chunk}__segments__{offset}"
    return TaskOutput.objects.filter(task=task).values_list(path, flat=True).first()


def task_output_segments(*, task: Task) -> list[dict]:
    """Every segment of the output, page by page in reading order (downloads)."""
    row = TaskOutput.objects.filter(task=task).only("data").first()
    segments = [s for c in (row.data.get("chunks") or []) for s in c.get("segments") or []] if row else []
    return sorted(segments, key=lambda s: s.get("page_number") or 1)


@lru_cache(maxsize=16)
def _viewer_index(task_id: str, finished: str) -> ViewerIndex | None:
    # `finished` is part of the key so a re-run (new finished_at) never reads a stale index.
    row = TaskOutput.objects.filter(task_id=task_id).only("data").first()
    if row is None or not isinstance(row.data, dict):
        return None
    output = row.data
    by_page: dict[int, list[dict]] = {}
    positions: dict[str, tuple[int, int]] = {}
    counts: dict[str, int] = {}
    chunks = []
    for chunk_index, chunk in enumerate(output.get("chunks") or []):
        members = []
        for offset, segment in enumerate(chunk.get("segments") or []):
            box = {k: segment.get(k) for k in SEGMENT_BOX_FIELDS}
            box["preview"] = (segment.get("text") or segment.get("content") or "").strip()[: SLIM_TEXT + 1]
            page = int(segment.get("page_number") or 1)
            by_page.setdefault(page, []).append(box)
            positions[segment["segment_id"]] = (chunk_index, offset)
            kind = segment.get("segment_type") or "Unknown"
            counts[kind] = counts.get(kind, 0) + 1
            members.append((segment["segment_id"], kind, page, segment.get("segment_length")))
        chunks.append(
            {
                "chunk_id": chunk.get("chunk_id"),
                "chunk_length": chunk.get("chunk_length"),
                "preview": (chunk.get("embed") or chunk.get("content") or "")[:200],
                "segments": members,
            }
        )
    pages = [
        {k: p.get(k) for k in ("page_number", "page_width", "page_height", "image")} for p in output.get("pages") or []
    ]
    if not pages:  # outputs without page entries still get one sheet per page that has segments
        for number, boxes in sorted(by_page.items()):
            pages.append(
                {"page_number": number, "page_width": boxes[0]["page_width"], "page_height": boxes[0]["page_height"]}
            )
    order = {t: i for i, t in enumerate(SegmentType.values)}
    type_counts = dict(sorted(counts.items(), key=lambda item: order.get(item[0], len(order))))
    return ViewerIndex(pages=pages, boxes_by_page=by_page, positions=positions, chunks=chunks, type_counts=type_counts)


@dataclass(frozen=True)
class KeyedTask:
    """A task as `task_for_key` reads it: the row, its input file's shown fields (`task.input_file`, partly filled)
    and whether the key was marked used within `used_since` (otherwise the caller is to mark it)."""

    task: Task
    key_marked_used: bool


def task_for_key(*, digest: str, task_id: UUID, used_since) -> KeyedTask | None:
    """The task `task_id` if the active API key with `digest` may see it (same workspace), in one query; None when it
    may not or there is no such task. Expiry is the caller's to check (Task.is_expired), as for task_get.

    This is what ApiKeyAuth and task_get find between them, for the cached-answer path (api/answers.py), which
    serves every poll: one statement, written once per database vendor, its row turned into a Task with the ORM's own
    converters. The ORM's two queries took ~2 ms of the ~2.6 ms a poll cost, and a RawQuerySet 0.3 ms more than this."""
    plan = _task_for_key_plan(connection.vendor)
    params = [
        plan.used_field.get_db_prep_value(used_since, connection),
        digest,
        plan.pk.get_db_prep_value(task_id, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = next(iter(plan.compiler.apply_converters([row], plan.converters)))
    fields = len(plan.attnames)
    task = Task.from_db(connection.alias, plan.attnames, values[:fields])
    storage_key, original_name, mime_type, key_marked_used = values[fields:]
    if task.input_file_id is not None:
        # task_version and the answer read these; a file row always exists while input_file_id names it.
        task.input_file = StoredFile(
            file_id=task.input_file_id, storage_key=storage_key, original_name=original_name, mime_type=mime_type
        )
    return KeyedTask(task=task, key_marked_used=bool(key_marked_used))


@dataclass(frozen=True)
class _Plan:
    sql: str
    attnames: list[str]
    compiler: Any
    converters: dict
    used_field: Any
    pk: Any


@lru_cache(maxsize=4)
def _task_for_key_plan(vendor: str) -> _Plan:
    """task_for_key's statement and the ORM's converters for its columns, made once (`vendor` keys the cache)."""
    q = connection.ops.quote_name

    def col(model, name: str) -> str:
        return q(model._meta.get_field(name).column)

    fields = Task._meta.concrete_fields
    file_fields = [StoredFile._meta.get_field(name) for name in ("storage_key", "original_name", "mime_type")]
    task, key, file = q(Task._meta.db_table), q(ApiKey._meta.db_table), q(StoredFile._meta.db_table)
    # Identifiers from the models' metadata, quoted; every value is a parameter.
    sql = (
        f"SELECT {', '.join(f't.{q(f.column)}' for f in fields)}, "  # noqa: S608
        f"{', '.join(f'f.{q(f.column)}' for f in file_fields)}, "
        f"(k.{col(ApiKey, 'last_used_at')} >= %s) "
        f"FROM {task} t JOIN {key} k ON k.{col(ApiKey, 'workspace')} = t.{col(Task, 'workspace')} "
        f"LEFT JOIN {file} f ON f.{col(StoredFile, 'file_id')} = t.{col(Task, 'input_file')} "
        f"WHERE k.{col(ApiKey, 'digest')} = %s AND k.{col(ApiKey, 'revoked_at')} IS NULL "
        f"AND t.{col(Task, 'task_id')} = %s"
    )
    compiler = Task.objects.none().query.get_compiler(connection=connection)
    converters = compiler.get_converters([f.get_col("t") for f in fields] + [f.get_col("f") for f in file_fields])
    return _Plan(
        sql=sql,
        attnames=[f.attname for f in fields],
        compiler=compiler,
        converters=converters,
        used_field=ApiKey._meta.get_field("last_used_at"),
        pk=Task._meta.pk,
    )

"""Stored task outputs, read as the JSON text the database holds and decoded once."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import orjson
from django.db.models import TextField
from django.db.models.functions import Cast

from tasks_app.choices import TaskStatus, TaskType
from tasks_app.models import Task, TaskOutput


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


def parse_output_of(*, task: Task) -> Any | None:
    """The parse output an Extract/Split task reads: its source's, or for a Split source, the split's own source's.
    None when that task or its output is gone."""
    source = task.source_task
    parse = source.source_task if source is not None and source.task_type == TaskType.SPLIT else source
    row = TaskOutput.objects.filter(task=parse).only("data").first() if parse is not None else None
    return row.data if row is not None else None

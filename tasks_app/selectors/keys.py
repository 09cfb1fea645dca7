"""API keys and memberships, and the one hand-written statement of the poll path (task_for_key)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from tasks_app.models import ApiKey, Membership, StoredFile, Task


def api_key_active(*, digest: str) -> ApiKey | None:
    """The unrevoked, unexpired key with this digest."""
    return (
        ApiKey.objects.select_related("workspace")
        .filter(digest=digest, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )


def workspaces_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


@dataclass(frozen=True)
class KeyedTask:
    """A task as `task_for_key` reads it: the row, its input file's shown fields (`task.input_file`, partly filled)
    and whether the key was marked used within `used_since` (otherwise the caller is to mark it)."""

    task: Task
    key_marked_used: bool


def task_for_key(*, digest: str, task_id: UUID, used_since) -> KeyedTask | None:
    """The task `task_id` if the active (unrevoked, unexpired) API key with `digest` may see it (same workspace), in
    one query; None when it may not or there is no such task. The task's expiry is the caller's to check
    (Task.is_expired), as for task_get.

    This is what ApiKeyAuth and task_get find between them, for the cached-answer path (api/answers.py), which
    serves every poll: one statement, written once per database vendor, its row turned into a Task with the ORM's own
    converters. The ORM's two queries took ~2 ms of the ~2.6 ms a poll cost, and a RawQuerySet 0.3 ms more than this."""
    plan = _task_for_key_plan(connection.vendor)
    params = [
        plan.used_field.get_db_prep_value(used_since, connection),
        digest,
        plan.used_field.get_db_prep_value(timezone.now(), connection),
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
        f"AND (k.{col(ApiKey, 'expires_at')} IS NULL OR k.{col(ApiKey, 'expires_at')} > %s) "
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

"""Logs as one JSON object a line (LOG_FORMAT=json), and the job a line belongs to on every line it logs.

`log_context(**fields)` binds fields (task_id, workspace_id, job …) to everything logged inside it, in this thread
or task; `ContextFilter` copies them onto each record, for either format. Every Celery job is wrapped through the
task_prerun/task_postrun signals (connected when this module is imported: chunkr_web/celery.py does), so no job has to
bind anything itself. Thirty lines of our own rather than python-json-logger: the fields are fixed and few.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.config
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from celery.signals import celeryd_init, task_postrun, task_prerun
from django.conf import settings

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("chunkr_log_context", default={})  # noqa: B039 - never mutated, only replaced
_tokens: dict[str, list[contextvars.Token]] = {}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
# The jobs whose first argument is a Task's id (tasks_app/jobs.py).
TASK_JOBS = {
    "tasks_app.jobs.process_task_job",
    "tasks_app.jobs.process_scanned_task_job",
    "tasks_app.jobs.parse_range_job",
    "tasks_app.jobs.ocr_range_job",
    "tasks_app.jobs.merge_ranges_job",
    "tasks_app.jobs.extract_task_job",
    "tasks_app.jobs.split_task_job",
}


@contextmanager
def log_context(**fields) -> Iterator[None]:
    """Add `fields` (None values left out) to every record logged inside."""
    token = _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Puts the bound fields on each record (as attributes), so a formatter can print them."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _context.get()
        record.context = fields
        for key, value in fields.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the bound fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **(getattr(record, "context", None) or _context.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """The plain format, with the bound fields appended as key=value (a job's lines can be grepped by task id)."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "context", None) or {}
        return f"{line} [{' '.join(f'{k}={v}' for k, v in fields.items())}]" if fields else line


def _task_workspace_id(task_id: str) -> str | None:
    # Imported here: this module is loaded with the Celery app, before Django's apps are ready.
    from tasks_app.models import Task

    try:
        workspace_id = Task.objects.filter(pk=task_id).values_list("workspace_id", flat=True).first()
    except Exception:  # noqa: BLE001 - a lost database: the job logs why itself; its lines just lack the workspace
        return None
    return str(workspace_id) if workspace_id else None


@task_prerun.connect(weak=False)
def _bind_job(task_id=None, task=None, args=None, **_kwargs) -> None:
    fields = {"job": getattr(task, "name", None), "job_id": task_id}
    first = args[0] if args else None
    if getattr(task, "name", None) in TASK_JOBS and isinstance(first, str) and _UUID.match(first):
        fields |= {"task_id": first, "workspace_id": _task_workspace_id(first)}
    token = _context.set({k: str(v) for k, v in fields.items() if v is not None})
    _tokens.setdefault(task_id or "", []).append(token)


@task_postrun.connect(weak=False)
def _unbind_job(task_id=None, **_kwargs) -> None:
    stack = _tokens.get(task_id or "")
    if not stack:
        return
    token = stack.pop()
    if not stack:
        _tokens.pop(task_id or "", None)
    try:
        _context.reset(token)
    except ValueError:  # set in another context (a thread pool): start clean instead
        _context.set({})


@celeryd_init.connect(weak=False)
def _worker_json_logs(instance=None, **_kwargs) -> None:
    """With JSON logs the worker skips its ASCII-art banner (printed, not logged): a log collector would get a dozen
    lines that are not JSON. Its "Connected to …" and "ready" lines are still logged. Celery warns (running as root,
    …) before Django has configured logging, so logging is configured here already and warnings go through it."""
    if instance is None or settings.LOG_FORMAT != "json":
        return
    instance.quiet = True
    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)

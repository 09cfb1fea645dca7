"""Model -> contract JSON, shared by the REST API and the dashboard: the one place where our model and the
contract's field names meet."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpResponse

from tasks_app import engine, selectors
from tasks_app.choices import TaskStatus
from tasks_app.errors import ApplicationError, NotFound
from tasks_app.models import StoredFile, Task
from tasks_app.services.review import review_export_record
from tasks_app.services.storage import (
    TASK_ASSET_URL_BUCKET_SECONDS,
    AssetLinker,
    bucket_expiry,
    content_type_for,
    data_url,
    url_bucket,
)

# Contract §12.5: the 0.3.7 SDK only knows 12 segment types.
LEGACY_SEGMENT_TYPES = {
    "FormRegion": "Text",
    "GraphicalItem": "Picture",
    "Legend": "Caption",
    "LineNumber": "Text",
    "PageNumber": "PageFooter",
    "Unknown": "Text",
}
JOB_STATUS = {
    TaskStatus.STARTING: "pending",
    TaskStatus.PROCESSING: "processing",
    TaskStatus.SUCCEEDED: "completed",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELLED: "canceled",
}


def iso(value) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/") if request is not None else settings.PUBLIC_BASE_URL


class UrlMaker:
    """Turns storage names into signed URLs (or data: URLs when `base64_urls`).

    Links expire at the end of URL bucket `bucket` (the current one by default, its boundaries moved by `shift`) plus
    the task-asset TTL, so that every answer made within one bucket is the same.
    """

    def __init__(self, request, *, base64_urls: bool, bucket: int | None = None, shift: int = 0) -> None:
        self.base = base_url(request)
        self.base64_urls = base64_urls
        self.links = AssetLinker(self.base)
        self.expires_at = bucket_expiry(url_bucket(shift) if bucket is None else bucket, shift)

    def __call__(self, name: str | None, *, filename: str = "", content_type: str | None = None) -> str | None:
        if not name:
            return None
        if self.base64_urls:
            try:
                return data_url(name, content_type or content_type_for(name))
            except OSError:
                return None
        return self.links.url(name, expires_at=self.expires_at, filename=filename)


def url_shift(task: Task) -> int:
    """Where in the minute the task's URL buckets turn over: spread by task id, so that at a turn-over the cache does
    not miss for every task at once (a burst of renders that showed as 1-2 s p99 spikes under load)."""
    return task.task_id.int % TASK_ASSET_URL_BUCKET_SECONDS


def client_version(request) -> Any:
    package = request.headers.get("X-Stainless-Package-Version")
    if package:
        return {"GeneratedSdk": package[:40]}
    agent = request.headers.get("User-Agent", "")
    if agent.startswith("chunkr-ai/"):
        return {"ManualSdk": agent.split("/", 1)[1].split(" ", 1)[0][:40]}
    return "Unspecified"


def task_output(task: Task, *, include_chunks: bool = True) -> dict | None:
    return selectors.task_outputs(task_ids=[task.pk], include_chunks=include_chunks).get(task.pk)


def _legacy_html_markdown(segment: dict) -> None:
    """§12.5: the 0.3.7 SDK's task.html()/task.markdown() read per-segment html/markdown, which stored v2 output
    lacks; fill them from `content`, whose format (Html or Markdown) shows in its shape."""
    content = segment.get("content") or ""
    is_html = content.lstrip().startswith("<")
    segment.setdefault("html", content if is_html else None)
    segment.setdefault("markdown", None if is_html else content)


def _resolve_output(output: dict, urls: UrlMaker, *, include_chunks: bool, legacy: bool) -> dict:
    """The stored output with storage names turned into URLs, as a new dict.

    Only the dicts that change (the output, its chunks, segments and pages) are copied; OCR words, cells and the
    like are shared with `output`, which is never modified. A deep copy of a long document's output costs tens of
    milliseconds per request, most of it on parts that are either unchanged or (include_chunks=false) dropped.
    """
    output = dict(output)
    if "chunks" in output:
        chunks = []
        for chunk in output["chunks"] if include_chunks else []:
            chunk = dict(chunk)
            if "segments" in chunk:
                chunk["segments"] = [_resolve_segment(dict(s), urls, legacy=legacy) for s in chunk["segments"]]
            chunks.append(chunk)
        output["chunks"] = chunks
        if output.get("pages"):
            output["pages"] = [{**page, "image": urls(page.get("image")) or ""} for page in output["pages"]]
        output["pdf_url"] = urls(output.get("pdf_url"))
    return output


def _resolve_segment(segment: dict, urls: UrlMaker, *, legacy: bool) -> dict:
    segment["image"] = urls(segment.get("image"))
    if legacy:
        segment["segment_type"] = LEGACY_SEGMENT_TYPES.get(segment["segment_type"], segment["segment_type"])
        _legacy_html_markdown(segment)
    return segment


def task_to_dict(
    task: Task,
    *,
    request,
    include_chunks: bool = True,
    base64_urls: bool = False,
    legacy: bool = False,
    output: dict | None | bool = False,
    bucket: int | None = None,
) -> dict[str, Any]:
    """`output=False` reads the stored output when the task succeeded; list views pass it preloaded. Links expire
    with the task's URL bucket `bucket` (the current one by default). What this reads from the row, task_version
    digests."""
    urls = UrlMaker(request, base64_urls=base64_urls, bucket=bucket, shift=url_shift(task))
    stored: StoredFile | None = task.input_file
    file_url = None
    if stored is not None and stored.storage_key:
        file_url = urls(stored.storage_key, filename=stored.original_name, content_type=stored.mime_type)
    file_url = file_url or task.source_url or ""
    if output is False:
        output = task_output(task, include_chunks=include_chunks) if task.status == TaskStatus.SUCCEEDED else None
    if output:
        output = _resolve_output(output, urls, include_chunks=include_chunks, legacy=legacy)
    api_base = base_url(request) + "/api/v1"
    configuration = dict(task.configuration)
    if legacy and task.expires_at is not None:
        configuration["expires_in"] = int((task.expires_at - task.created_at).total_seconds())
    return {
        "task_id": str(task.task_id),
        "task_type": task.task_type,
        "status": task.status,
        "completed": task.completed,
        "message": task.message,
        "configuration": configuration,
        "file_info": {
            "url": file_url,
            "mime_type": task.mime_type or None,
            "name": task.file_name or None,
            "page_count": task.page_count,
            "ss_cell_count": task.ss_cell_count,
        },
        "version_info": {"server_version": settings.SERVER_VERSION, "client_version": task.client_version},
        "created_at": iso(task.created_at),
        "started_at": iso(task.started_at),
        "finished_at": iso(task.finished_at),
        "expires_at": iso(task.expires_at),
        "input_file_url": file_url or None,
        "task_url": f"{api_base}/{'task' if legacy else 'tasks'}/{task.task_id}",
        "output": output or None,
        "parse_task_id": str(task.source_task_id) if task.source_task_id else None,
    }


def task_version(task: Task) -> str:
    """A digest of every row field task_to_dict shows, the input file's included (it can be deleted while the task
    stays): any change to the task gives a new one. Rendered answers are cached under it (api/answers.py)."""
    stored = task.input_file
    shown = (
        task.task_type,
        task.status,
        task.message,
        task.configuration,
        task.source_url,
        task.file_name,
        task.mime_type,
        task.page_count,
        task.ss_cell_count,
        task.client_version,
        task.created_at,
        task.started_at,
        task.finished_at,
        task.expires_at,
        task.source_task_id,
        task.output_revision,
        (stored.pk, stored.storage_key, stored.original_name, stored.mime_type) if stored is not None else None,
        settings.SERVER_VERSION,
    )
    return hashlib.blake2b(orjson.dumps(shown, default=str), digest_size=16).hexdigest()


def job_to_dict(
    task: Task,
    *,
    request,
    include_chunks: bool = True,
    base64_urls: bool = False,
    output: dict | None | bool = False,
    bucket: int | None = None,
) -> dict[str, Any]:
    status = JOB_STATUS[task.status]
    return {
        "job_id": str(task.task_id),
        "status": status,
        "task_type": task.task_type,
        "created_at": iso(task.created_at),
        "started_at": iso(task.started_at),
        "finished_at": iso(task.finished_at),
        "result": task_to_dict(
            task, request=request, include_chunks=include_chunks, base64_urls=base64_urls, output=output, bucket=bucket
        )
        if status == "completed"
        else None,
        "error": task.message if status == "failed" else None,
    }


def file_to_dict(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": str(stored.file_id),
        "file_name": stored.original_name,
        "content_type": stored.mime_type,
        "file_size": stored.size,
        "metadata": stored.metadata,
        "created_at": iso(stored.created_at),
        "url": stored.url,
    }


def user_bytes_headers(response):
    """What every answer carrying stored bytes gets, from the API and the dashboard alike: no type sniffing, and a
    policy under which nothing in it runs (an uploaded HTML or SVG file is the uploader's, not our page)."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self' data:; sandbox"
    return response


def review_to_dict(review, fields) -> dict[str, Any]:
    """GET /api/v1/tasks/{id}/review (an extension, described in the OpenAPI document): a review and its fields."""

    def decision(d) -> dict[str, Any]:
        return {
            "state": d.state,
            "value": d.value,
            "previous_value": d.previous_value,
            "reviewer": d.reviewer.get_username() if d.reviewer else None,
            "decided_at": iso(d.decided_at),
        }

    return {
        "task_id": str(review.task_id),
        "status": review.status,
        "schema_name": review.schema_name or None,
        "schema_version": review.schema_version,
        "fields_total": review.field_count,
        "fields_decided": review.decided_count,
        "reviewed_at": iso(review.reviewed_at),
        "fields": [
            {
                "path": f.path,
                "machine_value": f.machine_value,
                "value": f.value,
                "confidence": f.confidence,
                "state": f.state,
                "reviewer": f.reviewer,
                "decided_at": iso(f.decided_at),
                "history": [decision(d) for d in f.history],
            }
            for f in fields
        ],
    }


EXPORT_FORMATS = ("json", "csv", "csv-items")


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_flat(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def review_export_body(rows, schema: dict, fmt: str) -> tuple[str, str]:
    """(body, content type) of an export of reviewed results: JSON, one object per document; CSV, one row per document
    with a column per field (arrays of strings joined by '; '); csv-items, the rows of arrays of objects, keyed by
    task id. Shared by the API and the dashboard."""
    if fmt == "json":
        documents = [
            {
                "task_id": r.task_id,
                "file_name": r.file_name,
                "review_status": r.review_status,
                "reviewed_at": iso(r.reviewed_at),
                "results": r.results,
            }
            for r in rows
        ]
        return orjson.dumps(documents, option=orjson.OPT_INDENT_2).decode(), "application/json"
    out = io.StringIO()
    writer = csv.writer(out)
    rows = list(rows)
    leaves = [leaf for leaf in engine.leaf_fields(schema, {}) if not any(isinstance(k, int) for k in leaf.keys)]
    if fmt == "csv":
        writer.writerow(["task_id", "file_name", "review_status", *[leaf.path for leaf in leaves]])
        for r in rows:
            values = [_flat(engine.tree_get(r.results, leaf.keys)) for leaf in leaves]
            writer.writerow([r.task_id, r.file_name, r.review_status, *values])
        return out.getvalue(), "text/csv; charset=utf-8"
    # csv-items: the rows of arrays of objects, one line each, keyed by task id, array and row number
    lines: list[tuple[str, str, int, dict[str, str]]] = []
    columns: dict[str, None] = {}
    for leaf in engine.leaf_fields(schema, engine.template_results(schema)):
        at = next((i for i, k in enumerate(leaf.keys) if isinstance(k, int)), None)
        if at is not None:
            columns.setdefault(engine.path_format(leaf.keys[at + 1 :]) or "value", None)
    for r in rows:
        by_row: dict[tuple, dict[str, str]] = {}
        for leaf in engine.leaf_fields(schema, r.results):
            at = next((i for i, k in enumerate(leaf.keys) if isinstance(k, int)), None)
            if at is None:
                continue
            column = engine.path_format(leaf.keys[at + 1 :]) or "value"
            columns.setdefault(column, None)
            cells = by_row.setdefault((engine.path_format(leaf.keys[:at]), leaf.keys[at]), {})
            cells[column] = _flat(engine.tree_get(r.results, leaf.keys))
        lines.extend((r.task_id, array, index + 1, cells) for (array, index), cells in by_row.items())
    writer.writerow(["task_id", "array", "row", *columns])
    for task_id, array, number, cells in lines:
        writer.writerow([task_id, array, number, *[cells.get(c, "") for c in columns]])
    return out.getvalue(), "text/csv; charset=utf-8"


def review_export_download(*, workspace, actor, schema: str, version: int | None, fmt: str) -> HttpResponse:
    """An export of reviewed results as a download, audited; for the API and the dashboard alike."""
    if fmt not in EXPORT_FORMATS:
        raise ApplicationError(f"format: one of {', '.join(EXPORT_FORMATS)}")
    versions = selectors.schema_versions(workspace=workspace, name=schema)
    current = versions.filter(version=version).first() if version is not None else versions.first()
    if current is None:
        raise NotFound("No such schema (or version).")
    rows = list(selectors.review_export(workspace=workspace, schema_name=schema, schema_version=version))
    body, content_type = review_export_body(rows, current.ordered_schema, fmt)
    review_export_record(
        workspace=workspace, actor=actor, schema_name=schema, schema_version=version, fmt=fmt, documents=len(rows)
    )
    suffix = {"json": "json", "csv": "csv", "csv-items": "items.csv"}[fmt]
    name = f"{schema}-v{version}" if version is not None else schema
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_safe(name)}.{suffix}"'
    return response


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "export"

"""Document viewer: page images with segment boxes, a segment panel, chunks, live status, downloads.

Only the page frames are in the first response; each page's boxes arrive as a fragment when the page
scrolls into view, so a 500-page document opens as fast as a 5-page one (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import json
from pathlib import PurePath

import nh3
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tasks_app import engine, selectors
from tasks_app.choices import TaskStatus, TaskType
from tasks_app.errors import ApplicationError
from tasks_app.presenters import base_url, task_to_dict
from tasks_app.services.storage import asset_url, presigned_url, storage_is_local
from tasks_app.services.tasks import task_cancel, task_delete
from tasks_app.views.access import can, workspace_required
from tasks_app.views.documents import can_manage, task_or_404

TEMPLATE = "tasks_app/viewer.html"
# Page images are signed for a working session, not the API's 10 minutes: people read long documents.
PAGE_IMAGE_SECONDS = 6 * 3600
PREVIEW_CHARS = 280
CHUNKS_PER_FETCH = 100
EAGER_PAGES = 2  # boxes of the first pages come with the page: the first screen needs no second request


def _index_or_404(task):
    index = selectors.task_viewer_index(task=task)
    if index is None:
        raise Http404("This task has no output.")
    return index


def _percent(value, whole) -> float:
    return round(100 * float(value or 0) / float(whole or 1), 3)


def overlay_boxes(segments: list[dict]) -> list[dict]:
    """Segment boxes in page-relative percentages: zoom just scales the page, the boxes follow."""
    boxes = []
    for segment in segments:
        bbox = segment.get("bbox") or {}
        width, height = segment.get("page_width"), segment.get("page_height")
        text = segment.get("preview", "")
        boxes.append(
            {
                "id": segment["segment_id"],
                "type": segment.get("segment_type") or "Unknown",
                "page": segment.get("page_number") or 1,
                "left": _percent(bbox.get("left"), width),
                "top": _percent(bbox.get("top"), height),
                "width": _percent(bbox.get("width"), width),
                "height": _percent(bbox.get("height"), height),
                "preview": text[:PREVIEW_CHARS] + ("…" if len(text) > PREVIEW_CHARS else ""),
            }
        )
    return boxes


def segment_views(segment: dict) -> dict:
    """The panel's four renderings. Output holds one format; the other is rebuilt from the plain text."""
    content = segment.get("content") or ""
    kind = segment.get("segment_type") or "Text"
    rebuilt_html, rebuilt_markdown = engine.render_content(kind, segment.get("text") or "")
    is_html = content.lstrip().startswith("<")
    html = content if is_html else rebuilt_html
    return {
        # Generated HTML can carry whatever the document (or an LLM) put in it: never trust it in our page.
        "html": nh3.clean(html),
        "markdown": rebuilt_markdown if is_html else content,
        "text": segment.get("text") or "",
        "json": json.dumps({k: v for k, v in segment.items() if k != "image"}, indent=2, ensure_ascii=False),
    }


def _viewer_context(request, task) -> dict:
    context = {
        "nav": "tasks",
        "task": task,
        "can_manage": can_manage(request.membership, task),
        "can_upload": can(request, "task.create"),
    }
    if task.is_tombstone:
        return context  # zero data retention: nothing left to show
    if task.task_type == TaskType.PARSE and task.status == TaskStatus.SUCCEEDED and context["can_upload"]:
        context["schemas"] = selectors.schemas_latest(workspace=task.workspace)
    if task.status != TaskStatus.SUCCEEDED:
        return context
    index = selectors.task_viewer_index(task=task)
    if index is None:
        return context
    base = base_url(request)
    pages = []
    for page in index.pages:
        number = page["page_number"]
        image = page.get("image")
        pages.append(
            {
                "number": number,
                "width": page.get("page_width") or 1,
                "height": page.get("page_height") or 1,
                "image": asset_url(image, base_url=base, expires_in=PAGE_IMAGE_SECONDS) if image else "",
                "boxes": overlay_boxes(index.boxes_by_page.get(number, [])) if number <= EAGER_PAGES else None,
                "segment_count": len(index.boxes_by_page.get(number, [])),
            }
        )
    return context | {
        "index": index,
        "pages": pages,
        "type_counts": index.type_counts,
        "chunk_count": len(index.chunks),
    }


@require_GET
@workspace_required("task.read")
def task_detail(request, task_id):
    task = task_or_404(request, task_id)
    return render(request, TEMPLATE, _viewer_context(request, task))


@require_GET
@workspace_required("task.read")
def task_body(request, task_id):
    """Polled while the task runs; once it is terminal the answer is the whole viewer, without the poll."""
    task = task_or_404(request, task_id)
    if task.task_type == TaskType.EXTRACT and task.status == TaskStatus.SUCCEEDED and not task.is_tombstone:
        return HttpResponse(headers={"HX-Refresh": "true"})  # it opens as an extraction, a page of its own
    return render(request, TEMPLATE + "#body", _viewer_context(request, task))


@require_GET
@workspace_required("task.read")
def page_segments(request, task_id, page: int):
    task = task_or_404(request, task_id)
    index = _index_or_404(task)
    boxes = overlay_boxes(index.boxes_by_page.get(page, []))
    return render(request, TEMPLATE + "#boxes", {"task": task, "boxes": boxes})


@require_GET
@workspace_required("task.read")
def segment_detail(request, task_id, segment_id: str):
    task = task_or_404(request, task_id)
    index = _index_or_404(task)
    segment = selectors.task_segment(task=task, index=index, segment_id=segment_id)
    if segment is None:
        raise Http404("No such segment.")
    width, height = segment.get("bbox", {}).get("width") or 1, segment.get("bbox", {}).get("height") or 1
    words = [
        {
            "text": word.get("text", ""),
            "confidence": word.get("confidence"),
            # OCR boxes are relative to the segment's top-left corner (API_CONTRACT §9.7).
            "left": _percent(word["bbox"]["left"], width),
            "top": _percent(word["bbox"]["top"], height),
            "width": _percent(word["bbox"]["width"], width),
            "height": _percent(word["bbox"]["height"], height),
        }
        for word in segment.get("ocr") or []
        if word.get("bbox")
    ]
    context = {"task": task, "segment": segment, "views": segment_views(segment), "words": words}
    return render(request, TEMPLATE + "#segment", context)


@require_GET
@workspace_required("task.read")
def chunk_list(request, task_id):
    task = task_or_404(request, task_id)
    index = _index_or_404(task)
    try:
        offset = max(0, int(request.GET.get("offset", 0)))
    except ValueError:
        offset = 0
    chunks = [
        {"number": offset + i + 1, **chunk} for i, chunk in enumerate(index.chunks[offset : offset + CHUNKS_PER_FETCH])
    ]
    more = offset + CHUNKS_PER_FETCH if offset + CHUNKS_PER_FETCH < len(index.chunks) else None
    return render(request, TEMPLATE + "#chunks", {"task": task, "chunks": chunks, "more": more})


def _document_parts(task) -> list[tuple[dict, dict]]:
    return [(segment, segment_views(segment)) for segment in selectors.task_output_segments(task=task)]


@require_GET
@workspace_required("task.read")
def task_download(request, task_id, fmt: str):
    task = task_or_404(request, task_id)
    stem = slugify(PurePath(task.file_name or "document").stem) or "document"
    if fmt == "json":
        response = JsonResponse(task_to_dict(task, request=request), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="{stem}.json"'
        return response
    if fmt == "original":
        stored = task.input_file
        if stored is None or not stored.storage_key:
            raise Http404("The original file is no longer stored.")
        if not storage_is_local():  # the store serves it, named as uploaded, without passing through us
            return redirect(presigned_url(stored.storage_key, filename=stored.original_name))
        handle = default_storage.open(stored.storage_key, "rb")
        return FileResponse(handle, as_attachment=True, filename=stored.original_name, content_type=stored.mime_type)
    if task.status != TaskStatus.SUCCEEDED:
        raise Http404("This task has no output.")
    if fmt == "md":
        body = "\n\n".join(views["markdown"] for _, views in _document_parts(task) if views["markdown"].strip())
        response = HttpResponse(body + "\n", content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}.md"'
        return response
    if fmt == "html":
        html = render(request, "tasks_app/export.html", {"task": task, "parts": _document_parts(task)})
        html["Content-Disposition"] = f'attachment; filename="{stem}.html"'
        return html
    raise Http404("Unknown format.")


@require_POST
@workspace_required("task.change")
def task_action(request, task_id, action: str):
    task = task_or_404(request, task_id)
    if not can_manage(request.membership, task):
        return HttpResponse("Only admins act on other people's tasks.", status=403)
    error = None
    try:
        if action == "cancel":
            task_cancel(task=task, actor=request.user)
        elif action == "delete":
            task_delete(task=task, actor=request.user)
            return HttpResponseClientRedirect(reverse("tasks")) if request.htmx else redirect("tasks")
        else:
            raise Http404("Unknown action.")
    except ApplicationError as exc:
        error = exc.message
    task.refresh_from_db()
    context = _viewer_context(request, task) | {"action_error": error}
    return render(request, TEMPLATE + ("#body" if request.htmx else ""), context)

"""Extraction view and review (QA): the document beside its fields, citations on the page, decisions by keyboard,
the review queue, and running an extraction from the viewer or the task list."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tasks_app import selectors
from tasks_app.choices import TaskStatus, TaskType
from tasks_app.errors import ApplicationError
from tasks_app.presenters import base_url
from tasks_app.services.intake import intake_extract
from tasks_app.services.review import PageBox, review_claim, review_decide, review_for, review_pick
from tasks_app.services.storage import asset_url
from tasks_app.views import viewer
from tasks_app.views.access import can, workspace_required
from tasks_app.views.documents import task_or_404

TEMPLATE = "tasks_app/extraction.html"
QUEUE_TEMPLATE = "tasks_app/review_queue.html"


def _percent(value, whole) -> float:
    return round(100 * float(value or 0) / float(whole or 1), 3)


def citation_boxes(path: str, label: str, citations: list[dict]) -> list[dict]:
    """A field's citation boxes in page percentages, as the viewer draws segment boxes."""
    boxes = []
    for citation in citations or []:
        width, height = citation.get("page_width"), citation.get("page_height")
        for bbox in citation.get("bboxes") or []:
            boxes.append(
                {
                    "path": path,
                    "label": label,
                    "page": citation.get("page_number") or 1,
                    "left": _percent(bbox.get("left"), width),
                    "top": _percent(bbox.get("top"), height),
                    "width": _percent(bbox.get("width"), width),
                    "height": _percent(bbox.get("height"), height),
                }
            )
    return boxes


def display_value(value) -> str:
    if value is None or value == []:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(display_value(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)


def _field_context(field) -> dict:
    return {
        "path": field.path,
        "label": field.leaf.label.rsplit(" › ", 1)[-1],
        "full_label": field.leaf.label,
        "kind": field.leaf.kind,
        "value": display_value(field.value),
        "machine_value": display_value(field.machine_value),
        "confidence": field.confidence,
        "state": field.state or "unreviewed",
        "reviewer": field.reviewer,
        "decided_at": field.decided_at,
        "history": field.history,
        "changed": field.value != field.machine_value,
        "cited": bool(field.citations),
        "enum": [o for o in (field.leaf.node.enum or ()) if o is not None],
    }


def _groups(fields: list) -> list[dict]:
    """Fields in schema order; the rows of an array of objects become one table (a row per item)."""
    groups: list[dict] = []
    for field in fields:
        keys = field.leaf.keys
        index_at = next((i for i, key in enumerate(keys) if isinstance(key, int)), None)
        context = _field_context(field)
        if index_at is None:
            groups.append({"kind": "field", "field": context})
            continue
        array_keys, row, column = keys[:index_at], keys[index_at], keys[index_at + 1 :]
        table = groups[-1] if groups and groups[-1].get("array") == array_keys else None
        if table is None:
            label = " › ".join(str(k).replace("_", " ") for k in array_keys if isinstance(k, str))
            table = {"kind": "table", "array": array_keys, "label": label, "columns": [], "rows": {}}
            groups.append(table)
        column_name = ".".join(str(k) for k in column) or "value"
        if column_name not in table["columns"]:
            table["columns"].append(column_name)
        table["rows"].setdefault(row, {})[column_name] = context
    for group in groups:
        if group["kind"] == "table":
            group["rows"] = [
                [cells.get(column) for column in group["columns"]] for _, cells in sorted(group["rows"].items())
            ]
    return groups


def _extraction_context(request, task) -> dict:
    source = task.source_task
    parse = source.source_task if source is not None and source.task_type == TaskType.SPLIT else source
    can_review = can(request, "review.decide")
    context = {"nav": "tasks", "task": task, "source": parse, "can_review": can_review}
    review = review_for(task=task)
    output = selectors.task_output(task=task) or {}
    fields = selectors.review_fields(review=review, output=output)
    index = selectors.task_viewer_index(task=parse) if parse is not None else None
    cites_by_page: dict[int, list[dict]] = {}
    for field in fields:
        for box in citation_boxes(field.path, field.leaf.label, field.citations):
            cites_by_page.setdefault(box["page"], []).append(box)
    pages = []
    if index is not None:
        base = base_url(request)
        for page in index.pages:
            number = page["page_number"]
            image = page.get("image")
            pages.append(
                {
                    "number": number,
                    "width": page.get("page_width") or 1,
                    "height": page.get("page_height") or 1,
                    "image": asset_url(image, base_url=base, expires_in=viewer.PAGE_IMAGE_SECONDS) if image else "",
                    "cites": cites_by_page.get(number, []),
                }
            )
    counts = {state: 0 for state in ("accepted", "corrected", "rejected", "auto")}
    for field in fields:
        if field.state:
            counts[field.state] += 1
    return context | {
        "review": review,
        "groups": _groups(fields),
        "pages": pages,
        "field_count": len(fields),
        "decided": sum(counts.values()),
        "counts": counts,
        "low_count": sum(1 for f in fields if f.confidence != "High"),
        "claimed_by_other": selectors.claim_is_live(review) and review.claimed_by_id != request.user.pk,
        "queue": request.GET.get("queue") == "1",
    }


@require_GET
@workspace_required("task.read")
def task_page(request, task_id):
    """GET /tasks/<id>/: a succeeded extraction opens for review; everything else in the document viewer."""
    task = task_or_404(request, task_id)
    if task.task_type == TaskType.EXTRACT and task.status == TaskStatus.SUCCEEDED and not task.is_tombstone:
        return extraction_page(request, task)
    return viewer.task_detail(request, task_id)


def extraction_page(request, task):
    context = _extraction_context(request, task)
    if context["queue"] and context["can_review"] and not context["claimed_by_other"]:
        review_claim(review=context["review"], user=request.user)
    return render(request, TEMPLATE, context)


def _field_by_path(request, task, path: str):
    review = review_for(task=task)
    output = selectors.task_output(task=task) or {}
    for field in selectors.review_fields(review=review, output=output):
        if field.path == path:
            return review, field
    raise Http404("No such field.")


def _boxes(raw: str) -> list[PageBox]:
    """`page:left,top,width,height;…` in page percentages, as the page's drawing sends them."""
    boxes = []
    for part in (raw or "").split(";")[:20]:
        if not part.strip():
            continue
        try:
            page, rest = part.split(":", 1)
            number = int(page)
            left, top, width, height = (float(v) for v in rest.split(","))
        except ValueError:
            raise ApplicationError("boxes: expected page:left,top,width,height") from None
        if not all(0 <= v <= 100 for v in (left, top, width, height)):
            raise ApplicationError("boxes: percentages of the page, from 0 to 100")
        boxes.append(PageBox(number, left, top, width, height))
    return boxes


@require_POST
@workspace_required("review.decide")
def review_decide_view(request, task_id):
    """One decision; answers the field re-rendered, its citation boxes and the review's progress (JSON)."""
    task = task_or_404(request, task_id)
    path = request.POST.get("path", "")
    try:
        boxes = _boxes(request.POST.get("boxes", ""))
        text = request.POST.get("value") if "value" in request.POST else None
        review_decide(
            task=task, path=path, action=request.POST.get("action", ""), text=text, boxes=boxes, actor=request.user
        )
    except ApplicationError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    review, field = _field_by_path(request, task, path)
    context = {"f": _field_context(field), "can_review": True, "task": task}
    return JsonResponse(
        {
            "html": render_to_string("tasks_app/extraction.html#field", context, request=request),
            "citations": citation_boxes(field.path, field.leaf.label, field.citations),
            "state": field.state,
            "decided": review.decided_count,
            "total": review.field_count,
            "status": review.status,
        }
    )


@require_GET
@workspace_required("review.decide")
def review_pick_view(request, task_id):
    """The words inside boxes drawn on the page: what a correction would read (nothing is saved)."""
    task = task_or_404(request, task_id)
    try:
        picked = review_pick(task=task, boxes=_boxes(request.GET.get("boxes", "")))
    except ApplicationError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse({"text": picked.text, "words": picked.words})


@require_GET
@workspace_required("review.read")
def review_queue_view(request):
    schema_name = request.GET.get("schema", "")
    try:
        version = int(request.GET["version"]) if request.GET.get("version") else None
    except ValueError:
        version = None
    rows = selectors.review_queue(workspace=request.workspace, schema_name=schema_name, schema_version=version)
    reviews = list(rows[:200])
    for review in reviews:
        review.live_claim = selectors.claim_is_live(review)
    return render(
        request,
        QUEUE_TEMPLATE,
        {
            "nav": "review",
            "reviews": reviews,
            "schemas": selectors.schemas_latest(workspace=request.workspace),
            "schema_name": schema_name,
            "version": version,
            "filter_query": urlencode({k: v for k, v in (("schema", schema_name), ("version", version or "")) if v}),
        },
    )


@require_GET
@workspace_required("review.decide")
def review_next_view(request):
    """`n`: the next document in the queue that nobody else holds, claimed and opened."""
    try:
        version = int(request.GET["version"]) if request.GET.get("version") else None
    except ValueError:
        version = None
    after = request.GET.get("after") or None
    try:
        after = str(UUID(after)) if after else None
    except ValueError:
        after = None  # a mangled link still hands out the next document
    review = selectors.review_next(
        workspace=request.workspace,
        user=request.user,
        exclude_task_id=after,
        schema_name=request.GET.get("schema", ""),
        schema_version=version,
    )
    if review is None:
        return redirect(reverse("review-queue") + "?done=1")
    review_claim(review=review, user=request.user)
    return redirect(reverse("task-detail", args=[review.task_id]) + "?queue=1")


@require_POST
@workspace_required("task.create")
def extract_run_view(request, task_id):
    """Run a saved schema version on this parsed document: a new Extract task reading its parse output."""
    task = task_or_404(request, task_id)
    schema = selectors.schema_get(workspace=request.workspace, schema_id=request.POST.get("schema_id") or None)
    if schema is None:
        return HttpResponse("Choose a schema.", status=400)
    if task.task_type != TaskType.PARSE or task.status != TaskStatus.SUCCEEDED:
        return HttpResponse("Only a succeeded parse task can be extracted from.", status=400)
    try:
        extract = intake_extract(
            workspace=request.workspace, file=str(task.pk), schema=None, schema_ref=schema, actor=request.user
        )
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=exc.status)
    url = reverse("task-detail", args=[extract.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

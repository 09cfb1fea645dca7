"""Schema editor: named, versioned extraction schemas — a visual builder beside the raw JSON Schema (static/js/
schema_builder.js keeps them in sync), inline errors with the JSON path, a dry run on a parsed document, versions and
their diffs. Members edit; viewers read."""

from __future__ import annotations

import difflib
import json

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_POST

from tasks_app import engine, selectors
from tasks_app.choices import TaskStatus, TaskType
from tasks_app.errors import ApplicationError
from tasks_app.models import Task
from tasks_app.presenters import review_export_download
from tasks_app.services.comparison import comparison_start
from tasks_app.services.extraction import extraction_dry_run
from tasks_app.services.intake import extraction_schema_check
from tasks_app.services.review import auto_accept_set
from tasks_app.services.schemas import schema_save
from tasks_app.views.access import can, workspace_required
from tasks_app.views.review import citation_boxes, display_value

EDITOR = "tasks_app/schema_editor.html"
STARTER = {
    "type": "object",
    "properties": {"invoice_number": {"type": "string", "description": "The invoice's number, e.g. INV-1042"}},
    "required": [],
}
TRY_DOCUMENTS = 50  # parsed documents offered for a dry run


@require_GET
@workspace_required("schema.read")
def schema_list(request):
    latest = selectors.schemas_latest(workspace=request.workspace)
    return render(
        request,
        "tasks_app/schemas.html",
        {"schemas": latest, "nav": "schemas", "can_edit": can(request, "schema.edit")},
    )


def _try_documents(request):
    return (
        Task.objects.filter(workspace=request.workspace, task_type=TaskType.PARSE, status=TaskStatus.SUCCEEDED)
        .only("task_id", "file_name", "created_at")
        .order_by("-created_at")[:TRY_DOCUMENTS]
    )


def _editor(request, *, name: str, schema: dict, description: str, current=None, status: int = 200, **extra):
    versions = list(selectors.schema_versions(workspace=request.workspace, name=name)) if name else []
    context = {
        "nav": "schemas",
        "name": name,
        "description": description,
        "schema_json": json.dumps(schema, indent=2, ensure_ascii=False),
        "current": current,
        "versions": versions,
        "latest": versions[0] if versions else None,
        "can_edit": can(request, "schema.edit"),
        "documents": _try_documents(request),
    }
    return render(request, EDITOR, context | extra, status=status)


@require_GET
@workspace_required("schema.read")
def schema_new(request):
    return _editor(request, name="", schema=STARTER, description="")


@require_GET
@workspace_required("schema.read")
def schema_detail(request, name: str):
    versions = selectors.schema_versions(workspace=request.workspace, name=name)
    wanted = request.GET.get("version")
    current = versions.filter(version=int(wanted)).first() if wanted and wanted.isdigit() else versions.first()
    if current is None:
        raise Http404("No such schema.")
    return _editor(
        request,
        name=name,
        schema=current.ordered_schema,
        description=current.description,
        current=current,
        saved=request.GET.get("saved"),
    )


def _schema_from_post(request) -> dict:
    raw = request.POST.get("schema_json", "")
    try:
        schema = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApplicationError(
            f"schema_json: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return extraction_schema_check(schema)


@require_POST
@workspace_required("schema.edit")
def schema_save_view(request):
    name = request.POST.get("name", "")
    try:
        saved, created = schema_save(
            workspace=request.workspace,
            name=name,
            schema=_schema_from_post(request),
            description=request.POST.get("description", ""),
            actor=request.user,
        )
    except ApplicationError as exc:
        try:
            schema = json.loads(request.POST.get("schema_json", ""))
        except json.JSONDecodeError:
            schema = STARTER
        return _editor(
            request,
            name=name,
            schema=schema if isinstance(schema, dict) else STARTER,
            description=request.POST.get("description", ""),
            error=exc.message,
            raw_json=request.POST.get("schema_json", ""),
            status=400,
        )
    url = reverse("schema-detail", args=[saved.name]) + f"?version={saved.version}&saved={'new' if created else 'same'}"
    return redirect(url)


@require_POST
@workspace_required("schema.read")
def schema_check_view(request):
    """The builder asks as you type: `{ok}` or `{error, path}` with the engine's JSON path."""
    try:
        _schema_from_post(request)
    except ApplicationError as exc:
        path = exc.message.split(":", 1)[0].removeprefix("Invalid schema at ") if " at $" in exc.message else ""
        return JsonResponse({"ok": False, "error": exc.message, "path": path})
    return JsonResponse({"ok": True})


@require_POST
@workspace_required("schema.read")
def schema_try_view(request):
    """Run the unsaved schema on a parsed document and show what it finds, with citations; nothing is stored."""
    try:
        schema = _schema_from_post(request)
        source = selectors.task_get(workspace=request.workspace, task_id=request.POST.get("task_id", ""))
        output = extraction_dry_run(source=source, schema=schema)
    except ApplicationError as exc:
        # 200, so htmx shows it where the result would be
        return HttpResponse(f'<p class="alert alert-error" role="alert">{escape(exc.message)}</p>')
    rows = []
    for leaf in engine.leaf_fields(schema, output.get("results")):
        citations = engine.tree_get(output.get("citations"), leaf.keys) or []
        metrics = engine.tree_get(output.get("metrics"), leaf.keys) or {}
        rows.append(
            {
                "path": leaf.path,
                "label": leaf.label,
                "value": display_value(engine.tree_get(output.get("results"), leaf.keys)),
                "confidence": metrics.get("confidence", "Low") if isinstance(metrics, dict) else "Low",
                "evidence": [(c.get("page_number"), c.get("content")) for c in citations],
                "boxes": len(citation_boxes(leaf.path, leaf.label, citations)),
            }
        )
    return render(request, EDITOR + "#try-result", {"rows": rows, "source": source})


@require_GET
@workspace_required("schema.read")
def schema_diff(request, name: str):
    versions = {s.version: s for s in selectors.schema_versions(workspace=request.workspace, name=name)}
    if not versions:
        raise Http404("No such schema.")
    newest = max(versions)
    try:
        b = int(request.GET.get("b") or newest)
        a = int(request.GET.get("a") or max(1, b - 1))
    except ValueError:
        a, b = max(1, newest - 1), newest
    if a not in versions or b not in versions:
        raise Http404("No such version.")

    def lines(version: int) -> list[str]:
        return json.dumps(versions[version].ordered_schema, indent=2, ensure_ascii=False).splitlines()

    diff = list(difflib.unified_diff(lines(a), lines(b), f"v{a}", f"v{b}", lineterm="", n=3))
    return render(
        request,
        "tasks_app/schema_diff.html",
        {"nav": "schemas", "name": name, "a": a, "b": b, "diff": diff, "versions": sorted(versions, reverse=True)},
    )


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


@require_GET
@workspace_required("schema.read")
def schema_stats(request, name: str):
    versions = list(selectors.schema_versions(workspace=request.workspace, name=name).values_list("version", flat=True))
    if not versions:
        raise Http404("No such schema.")
    wanted = request.GET.get("version", "")
    version = int(wanted) if wanted.isdigit() and int(wanted) in versions else None
    stats = selectors.review_stats(workspace=request.workspace, schema_name=name, schema_version=version)
    chart_rows = []
    for i, f in enumerate(stats.fields):
        chart_rows.append(
            {
                "y": 28 + i * 34,
                "key": f.field_key,
                "high": _pct(f.high.share),
                "low": _pct(f.low.share),
                "high_n": f.high.n,
                "low_n": f.low.n,
                "high_w": round(3.2 * (_pct(f.high.share) or 0), 1),
                "low_w": round(3.2 * (_pct(f.low.share) or 0), 1),
            }
        )
    return render(
        request,
        "tasks_app/schema_stats.html",
        {
            "nav": "schemas",
            "name": name,
            "versions": versions,
            "version": version,
            "stats": stats,
            "chart_rows": chart_rows,
            "chart_height": 40 + 34 * len(chart_rows),
            "threshold_x": 180 + 3.2 * 100 * selectors.AUTO_ACCEPT_MIN_LOWER_BOUND,
            "min_reviews": selectors.AUTO_ACCEPT_MIN_REVIEWS,
            "min_lower": _pct(selectors.AUTO_ACCEPT_MIN_LOWER_BOUND),
            "can_admin": can(request, "review.auto_accept"),
            "can_edit": can(request, "schema.edit"),
            "comparisons": selectors.comparisons_recent(workspace=request.workspace, schema_name=name),
        },
    )


@require_POST
@workspace_required("review.auto_accept")
def schema_auto_accept(request, name: str):
    """Switch a field's auto-accept rule on (with the evidence on screen) or off."""
    if not selectors.schema_versions(workspace=request.workspace, name=name).exists():
        raise Http404("No such schema.")
    key = request.POST.get("field_key", "")
    enabled = request.POST.get("enabled") == "1"
    stats = selectors.review_stats(workspace=request.workspace, schema_name=name)
    field = next((f for f in stats.fields if f.field_key == key), None)
    if field is None:
        return HttpResponse("No such field in the reviews of this schema.", status=400)
    evidence = {"high_right": field.high.right, "high_reviews": field.high.n, "lower_bound": round(field.high.lower, 4)}
    auto_accept_set(
        workspace=request.workspace,
        schema_name=name,
        field_key=key,
        enabled=enabled,
        actor=request.user,
        evidence=evidence,
    )
    return redirect(
        reverse("schema-stats", args=[name])
        + (f"?version={request.POST['version']}" if request.POST.get("version", "").isdigit() else "")
    )


@require_GET
@workspace_required("review.read")
def schema_export(request, name: str):
    """Reviewed results of this schema (a version, else all) as JSON, CSV or the CSV of table rows."""
    wanted = request.GET.get("version", "")
    try:
        return review_export_download(
            workspace=request.workspace,
            actor=request.user,
            schema=name,
            version=int(wanted) if wanted.isdigit() else None,
            fmt=request.GET.get("format", "json"),
        )
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")


@require_POST
@workspace_required("schema.edit")
def schema_compare_start(request, name: str):
    if not selectors.schema_versions(workspace=request.workspace, name=name).exists():
        raise Http404("No such schema in this workspace.")
    try:
        comparison = comparison_start(
            workspace=request.workspace,
            schema_name=name,
            base_version=int(request.POST.get("base_version", "0") or 0),
            new_version=int(request.POST.get("new_version", "0") or 0),
            actor=request.user,
        )
    except (ApplicationError, ValueError) as exc:
        message = exc.message if isinstance(exc, ApplicationError) else "Choose two versions."
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    return redirect("schema-compare", name=name, comparison_id=comparison.pk)


@require_GET
@workspace_required("schema.read")
def schema_compare(request, name: str, comparison_id):
    comparison = selectors.comparison_get(workspace=request.workspace, comparison_id=comparison_id)
    if comparison is None or comparison.schema_name != name:
        raise Http404("No such comparison.")
    rows = []
    for key, score in sorted((comparison.result or {}).items()):
        rows.append(
            {
                "key": key,
                "n": score["n"],
                "before": score["before"],
                "after": score["after"],
                "delta": score["after"] - score["before"],
            }
        )
    template = "tasks_app/schema_compare.html" + ("#body" if request.htmx else "")
    totals = {k: sum(r[k] for r in rows) for k in ("n", "before", "after")}
    return render(
        request, template, {"nav": "schemas", "name": name, "comparison": comparison, "rows": rows, "totals": totals}
    )

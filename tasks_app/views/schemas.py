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
from tasks_app.choices import Role, TaskStatus, TaskType
from tasks_app.errors import ApplicationError
from tasks_app.models import Task
from tasks_app.services.extraction import extraction_dry_run
from tasks_app.services.intake import extraction_schema_check
from tasks_app.services.schemas import schema_save
from tasks_app.views.review import citation_boxes, display_value
from tasks_app.views.shell import workspace_required

EDITOR = "tasks_app/schema_editor.html"
STARTER = {
    "type": "object",
    "properties": {"invoice_number": {"type": "string", "description": "The invoice's number, e.g. INV-1042"}},
    "required": [],
}
TRY_DOCUMENTS = 50  # parsed documents offered for a dry run


@require_GET
@workspace_required()
def schema_list(request):
    latest = selectors.schemas_latest(workspace=request.workspace)
    return render(
        request,
        "tasks_app/schemas.html",
        {"schemas": latest, "nav": "schemas", "can_edit": request.membership.has_role(Role.MEMBER)},
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
        "can_edit": request.membership.has_role(Role.MEMBER),
        "documents": _try_documents(request),
    }
    return render(request, EDITOR, context | extra, status=status)


@require_GET
@workspace_required()
def schema_new(request):
    return _editor(request, name="", schema=STARTER, description="")


@require_GET
@workspace_required()
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
@workspace_required(Role.MEMBER)
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
@workspace_required()
def schema_check_view(request):
    """The builder asks as you type: `{ok}` or `{error, path}` with the engine's JSON path."""
    try:
        _schema_from_post(request)
    except ApplicationError as exc:
        path = exc.message.split(":", 1)[0].removeprefix("Invalid schema at ") if " at $" in exc.message else ""
        return JsonResponse({"ok": False, "error": exc.message, "path": path})
    return JsonResponse({"ok": True})


@require_POST
@workspace_required()
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
@workspace_required()
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

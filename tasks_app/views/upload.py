"""Upload page: many files (drag and drop or picker) or a URL, a processing panel, saved presets.

static/js/upload.js sends each file in its own request so each gets a progress bar and its own answer;
without JavaScript the form posts all files at once and the page lists the outcomes.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tasks_app.errors import ApplicationError
from tasks_app.forms import ParseConfigForm, retention_label
from tasks_app.models import ParsePreset
from tasks_app.services.intake import intake_parse, intake_url
from tasks_app.services.presets import preset_delete, preset_save
from tasks_app.views.access import can, workspace_required

TEMPLATE = "tasks_app/upload.html"
NO_FILE = "Choose a file (or drop one on the page) first."


def _presets(request):
    return ParsePreset.objects.filter(workspace=request.workspace).select_related("created_by")


def _panel_context(request, form: ParseConfigForm, *, selected=None, preset_error: str = "") -> dict:
    return {
        "form": form,
        "presets": _presets(request),
        "selected_preset": selected,
        "preset_error": preset_error,
        "can_admin": can(request, "task.change_any"),
        "workspace_retention": retention_label(request.workspace.default_expires_in),
    }


def _form_for_preset(request, preset_id: str | None):
    preset = None
    if preset_id:
        preset = ParsePreset.objects.filter(workspace=request.workspace, pk=preset_id).first()
    return ParseConfigForm(initial=ParseConfigForm.initial_for(preset.configuration if preset else None)), preset


@require_http_methods(["GET", "POST"])
@workspace_required("task.create")
def upload(request):
    if request.method == "POST":  # the no-JavaScript path: every file in one request
        form = ParseConfigForm(request.POST)
        results = [_create_one(request, form, upload) for upload in request.FILES.getlist("file")] or [
            {"name": "", "error": NO_FILE}
        ]
        context = _panel_context(request, form) | {"nav": "upload", "results": results}
        return render(request, TEMPLATE, context, status=200 if all(r.get("task") for r in results) else 400)
    form, preset = _form_for_preset(request, request.GET.get("preset"))
    return render(request, TEMPLATE, _panel_context(request, form, selected=preset) | {"nav": "upload"})


def _create_one(request, form: ParseConfigForm, upload=None, url: str = "") -> dict:
    name = upload.name if upload is not None else url
    if not form.is_valid():
        return {"name": name, "error": form.first_error()}
    try:
        if upload is not None:
            task = intake_parse(
                workspace=request.workspace,
                file=upload,
                configuration=form.configuration(),
                actor=request.user,
                expires_in=form.retention_seconds(),
            )
        else:
            task = intake_url(
                workspace=request.workspace,
                url=url,
                configuration=form.configuration(),
                actor=request.user,
                expires_in=form.retention_seconds(),
            )
    except ApplicationError as exc:
        return {"name": name, "error": exc.message}
    return {"name": task.file_name or name, "task": task}


@require_POST
@workspace_required("task.create")
def upload_file(request):
    """One file from upload.js; answers the result row (400 with the engine's message when refused)."""
    upload = request.FILES.get("file")
    result = _create_one(request, ParseConfigForm(request.POST), upload) if upload else {"name": "", "error": NO_FILE}
    return render(request, TEMPLATE + "#result", {"result": result}, status=200 if result.get("task") else 400)


@require_POST
@workspace_required("task.create")
def upload_url(request):
    url = request.POST.get("url", "").strip()
    result = _create_one(request, ParseConfigForm(request.POST), url=url)
    return render(request, TEMPLATE + "#result", {"result": result}, status=200 if result.get("task") else 400)


@require_GET
@workspace_required("task.create")
def preset_panel(request):
    form, preset = _form_for_preset(request, request.GET.get("preset"))
    return render(request, TEMPLATE + "#panel", _panel_context(request, form, selected=preset))


@require_POST
@workspace_required("preset.edit")
def preset_create(request):
    form = ParseConfigForm(request.POST)
    selected, error = None, ""
    if form.is_valid():
        try:
            selected = preset_save(
                workspace=request.workspace,
                name=request.POST.get("preset_name", ""),
                configuration=form.configuration(),
                actor=request.user,
            )
        except ApplicationError as exc:
            error = exc.message
    else:
        error = form.first_error()
    return render(request, TEMPLATE + "#panel", _panel_context(request, form, selected=selected, preset_error=error))


@require_POST
@workspace_required("preset.edit")
def preset_remove(request, preset_id):
    preset = get_object_or_404(ParsePreset, workspace=request.workspace, pk=preset_id)
    if not (can(request, "task.change_any") or preset.created_by_id == request.user.pk):
        form, _ = _form_for_preset(request, str(preset.pk))
        context = _panel_context(
            request, form, selected=preset, preset_error="Only its author or an admin can delete it."
        )
        return render(request, TEMPLATE + "#panel", context, status=403)
    preset_delete(preset=preset, actor=request.user)
    return render(request, TEMPLATE + "#panel", _panel_context(request, ParseConfigForm()))

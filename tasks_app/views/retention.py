"""Settings › Retention: the default expiry for new tasks and zero data retention (services/retention.py)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from tasks_app.errors import ApplicationError
from tasks_app.forms import RetentionForm
from tasks_app.services.retention import retention_update
from tasks_app.views.access import workspace_required

TEMPLATE = "tasks_app/settings/retention.html"


@require_http_methods(["GET", "POST"])
@workspace_required("retention.manage")
def retention_page(request):
    """GET: the settings; POST: save them (htmx swaps the form, without JavaScript the page comes back)."""
    saved, error, status = False, "", 200
    if request.method == "POST":
        form = RetentionForm(request.POST)
        if form.is_valid():
            try:
                request.workspace = retention_update(
                    workspace=request.workspace,
                    actor=request.user,
                    default_expires_in=form.expires_in(),
                    zdr_enabled=form.cleaned_data["zdr"],
                    zdr_trigger=form.cleaned_data["zdr_trigger"],
                )
            except ApplicationError as exc:
                error, status = exc.message, 400
            else:
                saved, form = True, RetentionForm.for_workspace(request.workspace)
        else:
            status = 400
    else:
        form = RetentionForm.for_workspace(request.workspace)
    context = {"nav": "settings", "tab": "retention", "form": form, "saved": saved, "error": error}
    return render(request, TEMPLATE + ("#retention-form" if request.htmx else ""), context, status=status)

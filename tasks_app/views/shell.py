"""Dashboard shell: choosing the workspace to work in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tasks_app import selectors
from tasks_app.middleware import SESSION_KEY
from tasks_app.views.access import open_to_anyone


@open_to_anyone
@require_POST
@login_required
def workspace_switch(request):
    wanted = request.POST.get("workspace_id", "")
    if selectors.workspaces_for_user(user=request.user).filter(workspace_id=wanted).exists():
        request.session[SESSION_KEY] = wanted
    return redirect("tasks")

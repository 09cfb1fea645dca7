"""Getting in: accepting an invitation, open sign-up (when on), and the workspace menu (switch, make another)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tasks_app import selectors
from tasks_app.errors import ApplicationError
from tasks_app.middleware import SESSION_KEY
from tasks_app.models import Invitation
from tasks_app.services.members import (
    invitation_accept,
    invitation_digest,
    invitation_problem,
    signup,
    workspace_create_for,
)
from tasks_app.views.access import open_to_anyone

BACKEND = "django.contrib.auth.backends.ModelBackend"


@open_to_anyone
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request, token: str):
    """GET: who invites you where, as what; POST: join (signed in) or make an account and join."""
    invitation = (
        Invitation.objects.select_related("workspace", "created_by").filter(digest=invitation_digest(token)).first()
    )
    problem = invitation_problem(invitation)
    context = {"invitation": invitation, "problem": problem, "token": token, "form": request.POST}
    if problem:
        return render(request, "registration/invitation.html", context, status=410 if invitation else 404)
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = invitation_accept(token=token, user=request.user)
            else:
                membership = invitation_accept(
                    token=token,
                    username=request.POST.get("username", ""),
                    password=request.POST.get("password", ""),
                    email=request.POST.get("email", ""),
                )
                login(request, membership.user, backend=BACKEND)
        except ApplicationError as exc:
            return render(request, "registration/invitation.html", context | {"error": exc.message}, status=400)
        request.session[SESSION_KEY] = str(membership.workspace_id)
        return redirect("tasks")
    return render(request, "registration/invitation.html", context)


@open_to_anyone
@require_http_methods(["GET", "POST"])
def signup_view(request):
    if not settings.CHUNKR_OPEN_SIGNUP:
        raise Http404("Sign-up is closed on this server.")
    if request.method == "POST":
        try:
            user, workspace = signup(
                username=request.POST.get("username", ""),
                password=request.POST.get("password", ""),
                email=request.POST.get("email", ""),
            )
        except ApplicationError as exc:
            return render(request, "registration/signup.html", {"error": exc.message, "form": request.POST}, status=400)
        login(request, user, backend=BACKEND)
        request.session[SESSION_KEY] = str(workspace.pk)
        return redirect("tasks")
    return render(request, "registration/signup.html", {"form": {}})


@open_to_anyone
@require_POST
@login_required
def workspace_switch(request):
    wanted = request.POST.get("workspace_id", "")
    if selectors.workspaces_for_user(user=request.user).filter(workspace_id=wanted).exists():
        request.session[SESSION_KEY] = wanted
    return redirect("tasks")


@open_to_anyone
@require_POST
@login_required
def workspace_create_view(request):
    try:
        workspace = workspace_create_for(user=request.user, name=request.POST.get("workspace_name", ""))
    except ApplicationError as exc:
        return render(request, "tasks_app/workspace_error.html", {"error": exc.message}, status=400)
    request.session[SESSION_KEY] = str(workspace.pk)
    return redirect("settings-members")

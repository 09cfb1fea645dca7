"""The dashboard's one access check: signed in, a workspace, and a role the permission table allows."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render, resolve_url
from django_htmx.http import HttpResponseClientRedirect

from tasks_app.permissions import PERMISSIONS, role_allows


def workspace_required(action: str = "task.read"):
    """Login, a workspace, and a role that allows `action` (tasks_app.permissions); htmx requests get a client
    redirect to log in. The action is kept on the view (`view.permission`) for the permission-matrix test."""
    if action not in PERMISSIONS:
        raise KeyError(f"{action!r} is not in tasks_app.permissions.PERMISSIONS")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(resolve_url(settings.LOGIN_URL))
                return login_required(view)(request, *args, **kwargs)
            if request.membership is None:
                return render(request, "tasks_app/no_workspace.html", status=403)
            if not role_allows(request.membership.role, action):
                return render(
                    request,
                    "tasks_app/forbidden.html",
                    {"needed": PERMISSIONS[action], "role": request.membership.get_role_display()},
                    status=403,
                )
            return view(request, *args, **kwargs)

        wrapper.permission = action
        return wrapper

    return decorator


def can(request, action: str) -> bool:
    """For templates and views: may the signed-in member do `action` here?"""
    membership = getattr(request, "membership", None)
    return membership is not None and role_allows(membership.role, action)


def open_to_anyone(view):
    """Marks a dashboard view that needs no workspace role (sign-up, accepting an invitation): the permission-matrix
    test reads `permission = None` as a deliberate choice, not a forgotten check."""
    view.permission = None
    return view

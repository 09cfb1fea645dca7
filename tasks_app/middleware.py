"""Sets request.workspace / request.membership (and request.memberships, for the workspace menu) for signed-in
dashboard users."""

from __future__ import annotations

from tasks_app.models import Membership

SESSION_KEY = "workspace_id"


class WorkspaceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.workspace = None
        request.membership = None
        request.memberships = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = list(
                Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")
            )
            chosen = request.session.get(SESSION_KEY)
            membership = next((m for m in memberships if str(m.workspace_id) == chosen), None) if chosen else None
            membership = membership or (memberships[0] if memberships else None)
            request.memberships = memberships
            if membership is not None:
                request.workspace = membership.workspace
                request.membership = membership
        return self.get_response(request)

"""Sets request.workspace / request.membership for signed-in dashboard users."""

from __future__ import annotations

from tasks_app.models import Membership

SESSION_KEY = "workspace_id"


class WorkspaceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.workspace = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = Membership.objects.filter(user=user).select_related("workspace")
            chosen = request.session.get(SESSION_KEY)
            membership = (memberships.filter(workspace_id=chosen).first() if chosen else None) or (
                memberships.order_by("workspace__name").first()
            )
            if membership is not None:
                request.workspace = membership.workspace
                request.membership = membership
        return self.get_response(request)

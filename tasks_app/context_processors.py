from django.conf import settings

from tasks_app.permissions import actions_for


def workspace(request):
    membership = getattr(request, "membership", None)
    return {
        "workspace": getattr(request, "workspace", None),
        "membership": membership,
        "memberships": getattr(request, "memberships", []),
        # What the signed-in member may do here (tasks_app.permissions): {% if "member.manage" in allowed %}
        "open_signup": settings.CHUNKR_OPEN_SIGNUP,
        "allowed": actions_for(membership.role) if membership is not None else frozenset(),
    }

from django.conf import settings

from tasks_app.permissions import actions_for
from tasks_app.selectors.webhooks import webhooks_failing


def workspace(request):
    membership = getattr(request, "membership", None)
    allowed = actions_for(membership.role) if membership is not None else frozenset()
    context = {
        "workspace": getattr(request, "workspace", None),
        "membership": membership,
        "memberships": getattr(request, "memberships", []),
        # What the signed-in member may do here (tasks_app.permissions): {% if "member.manage" in allowed %}
        "open_signup": settings.CHUNKR_OPEN_SIGNUP,
        "allowed": allowed,
    }
    if "webhook.manage" in allowed:
        # A callable: the template calls it (one query) only on the pages that show the banner.
        context["failing_webhooks"] = lambda: webhooks_failing(workspace=request.workspace)
    return context

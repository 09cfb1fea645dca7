"""Settings › Audit log: who did what in the workspace (never document content), filtered and paged."""

from __future__ import annotations

from datetime import date

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tasks_app import selectors
from tasks_app.views.access import workspace_required

PAGE_SIZE = 50


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_GET
@workspace_required("audit.read")
def audit_page(request):
    params = request.GET
    kind, actor = params.get("kind", ""), params.get("actor", "")
    since, until = _day(params.get("since", "")), _day(params.get("until", ""))
    events = selectors.audit_events(workspace=request.workspace, kind=kind, actor=actor, since=since, until=until)
    page = Paginator(events, PAGE_SIZE).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "tasks_app/settings/audit.html",
        {
            "nav": "settings",
            "tab": "audit",
            "page": page,
            "kinds": [(value, label) for value, (label, _) in selectors.AUDIT_KINDS.items()],
            "actors": selectors.audit_actors(workspace=request.workspace),
            "filters": {"kind": kind, "actor": actor, "since": since, "until": until},
            "query": query.urlencode(),
        },
    )

"""Settings › Usage: pages and tasks over the last 30 days, as a server-drawn SVG bar chart, tables and a CSV."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tasks_app.selectors.usage import Usage, workspace_usage
from tasks_app.views.access import workspace_required

TEMPLATE = "tasks_app/settings/usage.html"
CHART_WIDTH, CHART_HEIGHT, CHART_TOP = 900, 170, 16  # SVG user units; the bars fill the height below CHART_TOP


@require_GET
@workspace_required("usage.read")
def usage_page(request):
    usage = workspace_usage(workspace=request.workspace)
    if request.GET.get("format") == "csv":
        return _csv(request, usage)
    context = {"nav": "settings", "tab": "usage", "usage": usage, "chart": _chart(usage)}
    return render(request, TEMPLATE, context)


@require_GET
@workspace_required("usage.read")
def usage_csv(request):
    return _csv(request, workspace_usage(workspace=request.workspace))


def _chart(usage: Usage) -> dict:
    """Bars per day (pages processed; tasks when no page was processed), as SVG rectangles: no JavaScript library."""
    measure = "pages" if usage.total_pages else "tasks"
    values = [pages if measure == "pages" else tasks for _, tasks, pages in usage.per_day]
    peak = max(values, default=0) or 1
    slot = CHART_WIDTH / max(len(values), 1)
    bars = []
    for i, ((day, tasks, pages), value) in enumerate(zip(usage.per_day, values, strict=True)):
        height = round((CHART_HEIGHT - CHART_TOP) * value / peak, 1)
        bars.append(
            {
                "x": round(i * slot + slot * 0.15, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(slot * 0.7, 1),
                "height": height,
                "day": day,
                "tasks": tasks,
                "pages": pages,
                "label": i % 5 == 0 or i == len(values) - 1,
                "label_x": round(i * slot + slot / 2, 1),
            }
        )
    return {
        "measure": measure,
        "peak": max(values, default=0),
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }


def _csv(request, usage: Usage) -> HttpResponse:
    """One line per group (day, member or key, type, status): a spreadsheet pivots it any way a team lead wants."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"usage-{usage.start:%Y%m%d}-{usage.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(["date", "member_or_key", "task_type", "status", "tasks", "pages_processed"])
    for row in usage.rows:
        # A name starting with = + - @ would be a formula in a spreadsheet (CSV injection): quote it as text.
        creator = "'" + row.creator if row.creator.startswith(("=", "+", "-", "@")) else row.creator
        writer.writerow([row.day.isoformat(), creator, row.task_type, row.status, row.tasks, row.pages])
    return response

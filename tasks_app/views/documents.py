"""Dashboard task list: filters, sorting and pages in the URL; live rows; bulk cancel / delete / re-run."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from tasks_app import selectors
from tasks_app.choices import TaskStatus, TaskType
from tasks_app.errors import ApplicationError, NotFound
from tasks_app.forms import SORTS, TaskFilterForm
from tasks_app.models import ParsePreset, Task
from tasks_app.permissions import role_allows
from tasks_app.services.intake import intake_extract, intake_rerun, parse_config_check
from tasks_app.services.tasks import task_delete, tasks_cancel
from tasks_app.views.access import can, workspace_required

LIST_TEMPLATE = "tasks_app/tasks.html"
# Columns a list row never shows; `configuration` alone is ~2 KB of JSON per row.
HEAVY_FIELDS = ("configuration", "previous_state", "client_version", "source_url")
BULK_LIMIT = 500
NOT_YOURS = "{n} not yours to change (only admins act on other people's tasks)"


def can_manage(membership, task: Task) -> bool:
    """Members act on their own tasks; admins and owners on everyone's (API-key tasks included)."""
    if membership is None or not role_allows(membership.role, "task.change"):
        return False
    return role_allows(membership.role, "task.change_any") or task.created_by_user_id == membership.user_id


def task_or_404(request, task_id) -> Task:
    try:
        return selectors.task_get(workspace=request.workspace, task_id=task_id)
    except NotFound:
        raise Http404(selectors.TASK_NOT_FOUND) from None


def _members(request):
    return request.workspace.memberships.select_related("user").order_by("user__username")


def _with_query(params: QueryDict, **changes) -> str:
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def _search(request, f: dict, **extra):
    """The workspace's tasks matching the cleaned filter form `f`."""
    return selectors.task_search(
        workspace=request.workspace,
        status=f.get("status"),
        task_type=f.get("type"),
        created_from=f.get("created_from"),
        created_to=f.get("created_to"),
        q=f.get("q"),
        created_by=f.get("created_by"),
        **extra,
    )


def _list_context(request, params: QueryDict) -> dict:
    members = list(_members(request))
    form = TaskFilterForm(params, members=members)
    f = form.cleaned()
    tasks = (
        _search(request, f, sort=_sort_field(f["sort"]))
        .select_related("created_by_user", "created_by_key")
        .defer(*HEAVY_FIELDS)
    )
    limit, page = f["limit"], f["page"]
    # One row past the page says whether a next page exists: no COUNT(*) over the workspace per page view.
    rows = list(tasks[(page - 1) * limit : page * limit + 1])
    has_next = len(rows) > limit
    rows = rows[:limit]
    for task in rows:
        task.can_manage = can_manage(request.membership, task)
    params = params.copy()
    params.pop("page", None)
    sort_links = {}
    for key, (label, _) in SORTS.items():
        active = f["sort"].lstrip("-") == key
        descending = f["sort"].startswith("-")
        # First click on a date or size column shows the largest first; a second click flips it.
        first = f"-{key}" if key in ("created", "finished", "pages") else key
        target = (key if descending else f"-{key}") if active else first
        sort_links[key] = {
            "label": label,
            "url": _with_query(params, sort=target),
            "dir": ("desc" if descending else "asc") if active else "",
        }
    return {
        "nav": "tasks",
        "form": form,
        "filters": f,
        "tasks": rows,
        "page_number": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "next_url": _with_query(params, page=page + 1),
        "previous_url": _with_query(params, page=page - 1),
        "query": params.urlencode(),
        "sort_links": sort_links,
        "can_upload": can(request, "task.create"),
        "presets": ParsePreset.objects.filter(workspace=request.workspace).only("id", "name"),
        "schemas": selectors.schemas_latest(workspace=request.workspace),
        "filtered": any(f.get(k) for k in ("status", "type", "created_from", "created_to", "q", "created_by")),
    }


def _sort_field(sort: str) -> str:
    return ("-" if sort.startswith("-") else "") + SORTS[sort.lstrip("-")][1]


@require_GET
@workspace_required("task.read")
@vary_on_headers("HX-Request")
def task_list(request):
    template = LIST_TEMPLATE + ("#results" if request.htmx and request.htmx.target == "results" else "")
    return render(request, template, _list_context(request, request.GET))


@require_GET
@workspace_required("task.read")
def task_count(request):
    """The total for the current filters, fetched after the page shows (a count can be slow on 100k rows)."""
    members = list(_members(request))
    f = TaskFilterForm(request.GET, members=members).cleaned()
    total = _search(request, f).count()
    return HttpResponse(f"{total:,} task{'s' if total != 1 else ''}")


@require_GET
@workspace_required("task.read")
def task_row(request, task_id):
    task = task_or_404(request, task_id)
    task.can_manage = can_manage(request.membership, task)
    return render(request, LIST_TEMPLATE + "#row", {"task": task, "can_upload": can(request, "task.create")})


@require_POST
@workspace_required("task.change")
def task_bulk(request):
    """cancel / delete / rerun on the checked rows, then the list again as the `query` field describes it."""
    action = request.POST.get("action", "")
    ids = request.POST.getlist("task_ids")[:BULK_LIMIT]
    tasks = list(Task.objects.filter(workspace=request.workspace, pk__in=_valid_ids(ids)).select_related("input_file"))
    notice, errors = _bulk_apply(request, action, tasks)
    query = QueryDict(request.POST.get("query", ""))
    if not request.htmx:
        return redirect(reverse("tasks") + _with_query(query))
    context = _list_context(request, query) | {"notice": notice, "notice_errors": errors}
    return render(request, LIST_TEMPLATE + "#results", context)


def _bulk_apply(request, action: str, tasks: list[Task]) -> tuple[str, list[str]]:
    if action not in ("cancel", "delete", "rerun", "extract"):
        return "", ["Choose an action."]
    if not tasks:
        return "", ["Select at least one task."]
    if action == "extract":
        return _bulk_extract(request, tasks)
    configuration = None
    if action == "rerun":
        preset_id = request.POST.get("preset", "")
        preset = ParsePreset.objects.filter(workspace=request.workspace, pk=preset_id).first() if preset_id else None
        if preset_id and preset is None:
            return "", ["That preset no longer exists."]
        configuration = parse_config_check(preset.configuration if preset else None)
    done, refused, errors = 0, 0, []
    if action != "rerun":
        refused = sum(not can_manage(request.membership, task) for task in tasks)
        tasks = [task for task in tasks if can_manage(request.membership, task)]
    if action == "cancel":
        # One grace period for all of them; only the tasks that really ended cancelled are counted.
        for outcome in tasks_cancel(tasks=tasks, actor=request.user):
            done += outcome.cancelled
            if outcome.error:
                errors.append(f"{outcome.task.file_name or outcome.task.pk}: {outcome.error}")
        tasks = []
    for task in tasks:
        try:
            if action == "delete":
                task_delete(task=task, actor=request.user)
            else:
                intake_rerun(task=task, configuration=configuration, actor=request.user)
            done += 1
        except ApplicationError as exc:
            errors.append(f"{task.file_name or task.pk}: {exc.message}")
    verb = {"cancel": "Cancelled", "delete": "Deleted", "rerun": "Re-queued"}[action]
    if refused:
        errors.insert(0, NOT_YOURS.format(n=refused))
    return f"{verb} {done} task{'s' if done != 1 else ''}.", errors


def _bulk_extract(request, tasks: list[Task]) -> tuple[str, list[str]]:
    """An Extract task per selected parsed document, with the chosen schema version, reading its parse output."""
    schema = selectors.schema_get(workspace=request.workspace, schema_id=request.POST.get("schema_id") or None)
    if schema is None:
        return "", ["Choose a schema."]
    done, errors = 0, []
    for task in tasks:
        if task.task_type != TaskType.PARSE or task.status != TaskStatus.SUCCEEDED:
            errors.append(f"{task.file_name or task.pk}: only succeeded parse tasks can be extracted from")
            continue
        try:
            intake_extract(
                workspace=request.workspace, file=str(task.pk), schema=None, schema_ref=schema, actor=request.user
            )
            done += 1
        except ApplicationError as exc:
            errors.append(f"{task.file_name or task.pk}: {exc.message}")
    return f"Started {done} extraction{'s' if done != 1 else ''} with {schema.name} v{schema.version}.", errors


def _valid_ids(ids: list[str]) -> list[str]:
    valid = []
    for value in ids:
        try:
            valid.append(str(UUID(value)))
        except ValueError:
            continue
    return valid


@require_GET
@workspace_required("task.read")
def task_chip(request, task_id):
    """Status badge + progress for one task, polling itself until the task is terminal (upload results)."""
    task = task_or_404(request, task_id)
    return render(request, "components/task_chip.html", {"task": task})

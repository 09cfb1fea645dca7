"""Settings › Usage: a workspace's pages and tasks over the last days, per day, per member or API key, by status
and type. One GROUP BY over the task rows (day × creator × type × status); the page's tables, its chart and the CSV
are sums of those groups.

What counts: every task row still in the database. A zero-data-retention tombstone is a row (its page count stays),
so it counts; a task purged at expiry (or deleted) is gone and no longer counts, like everything else about it.
"Pages processed" are the pages of Parse tasks that Succeeded (an Extract/Split reads its Parse task's pages again
and is counted as a task, not as pages).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tasks_app.choices import TaskStatus, TaskType
from tasks_app.models import Task, Workspace

USAGE_DAYS = 30


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One group: tasks of one type and status made on `day` by one member or key."""

    day: date
    creator: str  # "alice", "API · ci-key", or "—" for tasks made by the system
    task_type: str
    status: str
    tasks: int
    pages: int


@dataclass(slots=True)
class Usage:
    start: date
    end: date
    rows: list[UsageRow]
    per_day: list[tuple[date, int, int]] = field(default_factory=list)  # (day, tasks, pages), every day of the range
    per_creator: list[tuple[str, int, int]] = field(default_factory=list)  # (creator, tasks, pages), most pages first
    per_status_type: list[tuple[str, str, int]] = field(default_factory=list)  # (type, status, tasks)

    @property
    def total_tasks(self) -> int:
        return sum(r.tasks for r in self.rows)

    @property
    def total_pages(self) -> int:
        return sum(r.pages for r in self.rows)


def _creator(username: str | None, key_name: str | None, key_prefix: str | None) -> str:
    if username:
        return username
    if key_prefix is not None:
        return f"API · {key_name or key_prefix}"
    return "—"


def workspace_usage(*, workspace: Workspace, days: int = USAGE_DAYS, today: date | None = None) -> Usage:
    """The last `days` days up to `today` (the current date in the active time zone), as groups and their sums."""
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = since + timedelta(days=days)
    groups = (
        Task.objects.filter(workspace=workspace, created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values(
            "day", "created_by_user__username", "created_by_key__name", "created_by_key__prefix", "task_type", "status"
        )
        .annotate(
            tasks=Count("pk"),
            pages=Sum("page_count", filter=Q(task_type=TaskType.PARSE, status=TaskStatus.SUCCEEDED), default=0),
        )
        .order_by("day")
    )
    rows = [
        UsageRow(
            day=g["day"],
            creator=_creator(g["created_by_user__username"], g["created_by_key__name"], g["created_by_key__prefix"]),
            task_type=g["task_type"],
            status=g["status"],
            tasks=g["tasks"],
            pages=g["pages"] or 0,
        )
        for g in groups
    ]
    usage = Usage(start=start, end=today, rows=rows)
    by_day: dict[date, list[int]] = {start + timedelta(days=i): [0, 0] for i in range(days)}
    by_creator: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_status_type: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        by_day[row.day][0] += row.tasks
        by_day[row.day][1] += row.pages
        by_creator[row.creator][0] += row.tasks
        by_creator[row.creator][1] += row.pages
        by_status_type[(row.task_type, row.status)] += row.tasks
    usage.per_day = [(day, tasks, pages) for day, (tasks, pages) in by_day.items()]
    usage.per_creator = sorted(((c, t, p) for c, (t, p) in by_creator.items()), key=lambda x: (-x[2], -x[1], x[0]))
    usage.per_status_type = sorted((t, s, n) for (t, s), n in by_status_type.items())
    return usage

"""Extraction reviews: the queue, one review's fields with their decisions, and a schema's versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from tasks_app import engine
from tasks_app.choices import ReviewStatus
from tasks_app.models import ExtractionReview, ExtractionSchema, FieldDecision, Workspace

CLAIM_IDLE = timedelta(minutes=30)  # a claim lapses after this long without a decision


@dataclass(slots=True)
class ReviewField:
    """One leaf field of an extraction with its review: what the machine gave, what stands now, and how."""

    leaf: engine.LeafField
    machine_value: Any
    value: Any
    confidence: str  # the machine's High / Low
    citations: list[dict]
    state: str | None = None  # the latest decision's FieldState, None while undecided
    reviewer: str | None = None
    decided_at: Any = None
    history: list[FieldDecision] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.leaf.path


def schemas_latest(*, workspace: Workspace) -> list[ExtractionSchema]:
    """The newest version of each named schema, by name."""
    rows = ExtractionSchema.objects.filter(workspace=workspace).order_by("name", "-version")
    latest: dict[str, ExtractionSchema] = {}
    for row in rows.only("id", "name", "version", "description", "created_at", "created_by"):
        latest.setdefault(row.name, row)
    return list(latest.values())


def schema_versions(*, workspace: Workspace, name: str) -> QuerySet[ExtractionSchema]:
    return ExtractionSchema.objects.filter(workspace=workspace, name=name).order_by("-version")


def schema_get(*, workspace: Workspace, schema_id) -> ExtractionSchema | None:
    return ExtractionSchema.objects.filter(workspace=workspace, pk=schema_id).first()


def review_fields(*, review: ExtractionReview, output: dict | None) -> list[ReviewField]:
    """Every leaf field of the review's extraction, in schema order, with its current value (from the task's stored
    output, which decisions change) and its decisions, oldest first."""
    schema = review.task.extraction_schema
    machine = review.machine_output or {}
    output = output or {}
    decisions: dict[str, list[FieldDecision]] = {}
    for decision in review.decisions.select_related("reviewer").order_by("decided_at", "id"):
        decisions.setdefault(decision.path, []).append(decision)
    out = []
    for leaf in engine.leaf_fields(schema, machine.get("results")):
        metrics = engine.tree_get(machine.get("metrics"), leaf.keys) or {}
        history = decisions.get(leaf.path, [])
        latest = history[-1] if history else None
        out.append(
            ReviewField(
                leaf=leaf,
                machine_value=engine.tree_get(machine.get("results"), leaf.keys),
                value=engine.tree_get(output.get("results"), leaf.keys),
                confidence=metrics.get("confidence") or "Low" if isinstance(metrics, dict) else "Low",
                citations=engine.tree_get(output.get("citations"), leaf.keys) or [],
                state=latest.state if latest else None,
                reviewer=latest.reviewer.get_username() if latest and latest.reviewer else None,
                decided_at=latest.decided_at if latest else None,
                history=history,
            )
        )
    return out


def review_queue(
    *, workspace: Workspace, schema_name: str = "", schema_version: int | None = None, user=None
) -> QuerySet[ExtractionReview]:
    """Extractions not yet reviewed, Low-confidence first, then oldest; claims by others that are still live are
    listed but come last (the queue's `n` skips them)."""
    rows = ExtractionReview.objects.filter(workspace=workspace).exclude(status=ReviewStatus.REVIEWED)
    if schema_name:
        rows = rows.filter(schema_name=schema_name)
    if schema_version is not None:
        rows = rows.filter(schema_version=schema_version)
    return rows.select_related("task", "claimed_by").order_by("-low_count", "created_at")


def review_next(*, workspace: Workspace, user, exclude_task_id=None, **filters) -> ExtractionReview | None:
    """The next review `user` may take: unclaimed, claimed by them, or claimed by someone idle for 30 minutes."""
    live = Q(claimed_by__isnull=False) & ~Q(claimed_by=user) & Q(claimed_at__gt=timezone.now() - CLAIM_IDLE)
    rows = review_queue(workspace=workspace, user=user, **filters).exclude(live)
    if exclude_task_id is not None:
        rows = rows.exclude(task_id=exclude_task_id)
    return rows.first()


def claim_is_live(review: ExtractionReview) -> bool:
    return (
        review.claimed_by_id is not None
        and review.claimed_at is not None
        and (review.claimed_at > timezone.now() - CLAIM_IDLE)
    )

"""Extraction reviews: the queue, one review's fields with their decisions, and a schema's versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tasks_app import engine
from tasks_app.choices import FieldState, ReviewStatus
from tasks_app.models import (
    AutoAcceptRule,
    ExtractionReview,
    ExtractionSchema,
    FieldDecision,
    SchemaComparison,
    Workspace,
)
from tasks_app.selectors.outputs import task_outputs

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
    """None for an unknown id, and for anything that is not an id at all (a form's garbage is not a server error)."""
    try:
        schema_id = uuid.UUID(str(schema_id))
    except ValueError:
        return None
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


Z95 = 1.959964  # two-sided 95 %
AUTO_ACCEPT_MIN_REVIEWS = 20
AUTO_ACCEPT_MIN_LOWER_BOUND = 0.95


def wilson_lower(right: int, n: int, z: float = Z95) -> float:
    """Lower end of the Wilson score interval for right/n: what the precision is at least, at 95 %."""
    if n == 0:
        return 0.0
    p = right / n
    centre = p + z * z / (2 * n)
    spread = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5)
    return max(0.0, (centre - spread) / (1 + z * z / n))


@dataclass(slots=True)
class Rate:
    right: int = 0
    n: int = 0

    @property
    def share(self) -> float | None:
        return self.right / self.n if self.n else None

    @property
    def lower(self) -> float:
        return wilson_lower(self.right, self.n)


@dataclass(slots=True)
class FieldStats:
    field_key: str
    all: Rate = field(default_factory=Rate)
    high: Rate = field(default_factory=Rate)
    low: Rate = field(default_factory=Rate)
    auto: int = 0
    rule: bool = False  # an auto-accept rule is on

    @property
    def recommend(self) -> bool:
        return self.high.n >= AUTO_ACCEPT_MIN_REVIEWS and self.high.lower >= AUTO_ACCEPT_MIN_LOWER_BOUND


@dataclass(slots=True)
class ReviewStats:
    documents_reviewed: int
    documents_with_decisions: int
    fields: list[FieldStats]
    all: Rate
    high: Rate
    low: Rate
    auto: int


def review_stats(*, workspace: Workspace, schema_name: str, schema_version: int | None = None) -> ReviewStats:
    """Accuracy from the reviewers' latest decisions (auto-accepted values are counted apart: nobody checked them).
    One GROUP BY over an index of the latest decisions, whatever the number of documents."""
    decisions = FieldDecision.objects.filter(workspace=workspace, schema_name=schema_name, is_latest=True)
    reviews = ExtractionReview.objects.filter(workspace=workspace, schema_name=schema_name)
    if schema_version is not None:
        decisions = decisions.filter(schema_version=schema_version)
        reviews = reviews.filter(schema_version=schema_version)
    rows = decisions.values("field_key", "confidence", "state").annotate(
        n=Count("id"), right=Count("id", filter=Q(machine_right=True))
    )
    by_key: dict[str, FieldStats] = {}
    total, high, low, auto = Rate(), Rate(), Rate(), 0
    for row in rows:
        stats = by_key.setdefault(row["field_key"], FieldStats(row["field_key"]))
        if row["state"] == FieldState.AUTO:
            stats.auto += row["n"]
            auto += row["n"]
            continue
        bucket = stats.high if row["confidence"] == "High" else stats.low
        for rate in (stats.all, bucket, total, high if row["confidence"] == "High" else low):
            rate.right += row["right"]
            rate.n += row["n"]
    rules = set(
        AutoAcceptRule.objects.filter(workspace=workspace, schema_name=schema_name).values_list("field_key", flat=True)
    )
    for key in rules:
        by_key.setdefault(key, FieldStats(key))
    for key, stats in by_key.items():
        stats.rule = key in rules
    return ReviewStats(
        documents_reviewed=reviews.filter(status=ReviewStatus.REVIEWED).count(),
        documents_with_decisions=decisions.exclude(state=FieldState.AUTO).values("review_id").distinct().count(),
        fields=sorted(by_key.values(), key=lambda s: s.field_key),
        all=total,
        high=high,
        low=low,
        auto=auto,
    )


@dataclass(slots=True)
class ExportRow:
    task_id: str
    file_name: str
    review_status: str
    reviewed_at: Any
    results: Any


EXPORT_BATCH = 500


def review_export(*, workspace: Workspace, schema_name: str, schema_version: int | None = None):
    """Every succeeded extraction made with the schema (version), with the values that stand now (reviewed where
    reviewed), oldest first; yields rows, reading outputs a batch at a time."""
    reviews = ExtractionReview.objects.filter(workspace=workspace, schema_name=schema_name)
    if schema_version is not None:
        reviews = reviews.filter(schema_version=schema_version)
    reviews = reviews.select_related("task").order_by("created_at", "task_id")
    batch: list[ExtractionReview] = []

    def flush():
        outputs = task_outputs(task_ids=[r.task_id for r in batch], include_chunks=False)
        for review in batch:
            output = outputs.get(review.task_id) or {}
            yield ExportRow(
                task_id=str(review.task_id),
                file_name=review.task.file_name,
                review_status=review.status,
                reviewed_at=review.reviewed_at,
                results=output.get("results"),
            )

    for review in reviews.iterator(chunk_size=EXPORT_BATCH):
        batch.append(review)
        if len(batch) >= EXPORT_BATCH:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def comparison_get(*, workspace: Workspace, comparison_id) -> SchemaComparison | None:
    return SchemaComparison.objects.filter(workspace=workspace, pk=comparison_id).first()


def comparisons_recent(*, workspace: Workspace, schema_name: str, limit: int = 10) -> list[SchemaComparison]:
    return list(SchemaComparison.objects.filter(workspace=workspace, schema_name=schema_name)[:limit])

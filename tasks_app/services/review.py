"""Extraction review (QA): opening a review when an extraction succeeds, claims, and decisions on fields.

A decision is never edited: each one is a new FieldDecision, and a field's latest decision counts. Accepting keeps
the value; correcting sets a new value — typed, or read from the words inside boxes drawn on the page, which then
become its citation; rejecting empties it. The change is written into the task's stored output (TaskOutput.data) in
the same transaction, and the task's `output_revision` goes up, so every reader (API, legacy route, webhooks sent
afterwards, exports) returns the reviewed values; the review keeps the machine's own output.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tasks_app import engine, selectors
from tasks_app.choices import FieldState, ReviewStatus, TaskStatus, TaskType
from tasks_app.errors import ApplicationError, NotFound
from tasks_app.models import (
    AutoAcceptRule,
    ExtractionReview,
    FieldDecision,
    Task,
    TaskOutput,
)
from tasks_app.services.access import authorize
from tasks_app.services.audit import Actor, audit_record
from tasks_app.services.metrics import metrics_review_decision
from tasks_app.services.webhooks import webhooks_emit_review_completed

ACTIONS = ("accept", "correct", "reject")
MAX_VALUE_CHARS = 10_000  # a reviewer's value is a field, not a document
_ROW_INDEX = re.compile(r"\[\d+\]")
NOT_REVIEWABLE = "Only a succeeded Extract task has a review."
CLAIMED_BY_OTHER = "{user} is reviewing this document (claimed {minutes} min ago)."


def review_open(*, task: Task, output: dict) -> ExtractionReview:
    """The review of a just-succeeded Extract task; call in the transaction that stores its output."""
    schema = task.extraction_schema
    leaves = engine.leaf_fields(schema, output.get("results"))
    low = sum(
        1 for leaf in leaves if (engine.tree_get(output.get("metrics"), leaf.keys) or {}).get("confidence") != "High"
    )
    review, _ = ExtractionReview.objects.update_or_create(
        task=task,
        defaults={
            "workspace_id": task.workspace_id,
            "schema_name": task.configuration.get("schema_name") or "",
            "schema_version": task.configuration.get("schema_version"),
            "status": ReviewStatus.UNREVIEWED,
            "field_count": len(leaves),
            "decided_count": 0,
            "low_count": low,
            "machine_output": {k: output.get(k) for k in ("results", "citations", "metrics")},
            "updated_at": timezone.now(),
            "reviewed_at": None,
        },
    )
    review.decisions.all().delete()  # a re-run extraction starts its review again
    auto = _auto_accept(review, leaves, output)
    if auto:
        status = ReviewStatus.REVIEWED if auto >= len(leaves) else ReviewStatus.IN_REVIEW
        reviewed_at = timezone.now() if status == ReviewStatus.REVIEWED else None
        ExtractionReview.objects.filter(pk=review.pk).update(decided_count=auto, status=status, reviewed_at=reviewed_at)
        review.decided_count, review.status, review.reviewed_at = auto, status, reviewed_at
        if status == ReviewStatus.REVIEWED:
            webhooks_emit_review_completed(review)  # sent once the transaction commits
    return review


def review_for(*, task: Task) -> ExtractionReview:
    """The task's review, opened now for an extraction that succeeded before reviews existed."""
    review = ExtractionReview.objects.filter(task=task).first()
    if review is not None:
        return review
    if task.task_type != TaskType.EXTRACT or task.status != TaskStatus.SUCCEEDED:
        raise ApplicationError(NOT_REVIEWABLE)
    with transaction.atomic():
        output = TaskOutput.objects.select_for_update().filter(task=task).first()
        if output is None:
            raise NotFound("This task has no output.")
        review = ExtractionReview.objects.filter(task=task).first()
        return review or review_open(task=task, output=output.data)


def review_claim(*, review: ExtractionReview, user, force: bool = False) -> ExtractionReview:
    """Take the review for `user`. A live claim by someone else (under 30 minutes idle) is refused unless `force`."""
    authorize(actor=user, workspace=review.workspace_id, action="review.decide")
    if not force and selectors.claim_is_live(review) and review.claimed_by_id != user.pk:
        minutes = int((timezone.now() - review.claimed_at).total_seconds() // 60)
        raise ApplicationError(CLAIMED_BY_OTHER.format(user=review.claimed_by.get_username(), minutes=minutes))
    now = timezone.now()
    changes = {"claimed_by": user, "claimed_at": now, "updated_at": now}
    if review.status == ReviewStatus.UNREVIEWED:
        changes["status"] = ReviewStatus.IN_REVIEW
    ExtractionReview.objects.filter(pk=review.pk).update(**changes)
    for key, value in changes.items():
        setattr(review, key, value)
    return review


def review_release(*, review: ExtractionReview, user) -> None:
    ExtractionReview.objects.filter(pk=review.pk, claimed_by=user).update(claimed_by=None, claimed_at=None)


@dataclass(frozen=True, slots=True)
class PageBox:
    """A box drawn on the page by a reviewer, in percentages of the page (as the viewer draws everything)."""

    page: int
    left: float
    top: float
    width: float
    height: float


def _engine_boxes(parse_output: dict, boxes: list[PageBox]) -> list[engine.Box]:
    sizes = {}
    for page in parse_output.get("pages") or []:
        sizes[int(page.get("page_number") or 0)] = (page.get("page_width") or 0, page.get("page_height") or 0)
    for chunk in parse_output.get("chunks") or []:
        for segment in chunk.get("segments") or []:
            sizes.setdefault(int(segment.get("page_number") or 1), (segment["page_width"], segment["page_height"]))
    out = []
    for box in boxes:
        width, height = sizes.get(box.page, (0, 0))
        if not width or not height:
            raise ApplicationError(f"Page {box.page} is not in this document.")
        out.append(
            engine.Box(
                page=box.page,
                left=box.left * width / 100,
                top=box.top * height / 100,
                width=box.width * width / 100,
                height=box.height * height / 100,
            )
        )
    return out


def review_pick(*, task: Task, boxes: list[PageBox]) -> engine.Picked:
    """The words inside `boxes` on the pages of the document the extraction read."""
    parse_output = selectors.parse_output_of(task=task)
    if parse_output is None:
        raise ApplicationError("The parse output this extraction read is gone; type the value instead.")
    return engine.words_in_boxes(parse_output, _engine_boxes(parse_output, boxes))


def review_decide(
    *,
    task: Task,
    path: str,
    action: str,
    actor: Actor,
    text: str | None = None,
    boxes: list[PageBox] | None = None,
) -> FieldDecision:
    """Record one decision on the field at `path` and apply it to the task's output. `correct` takes `text` (the
    value as typed), or `boxes` (the words inside become the value and its citation), or both (the typed value,
    cited by the boxes)."""
    authorize(actor=actor, workspace=task.workspace_id, action="review.decide")
    if action not in ACTIONS:
        raise ApplicationError(f"action: must be one of {', '.join(ACTIONS)}")
    if text is not None and len(text) > MAX_VALUE_CHARS:
        raise ApplicationError(f"value: at most {MAX_VALUE_CHARS:,} characters")
    review = review_for(task=task)
    picked = review_pick(task=task, boxes=boxes) if boxes else None
    if action == "correct" and picked is not None and picked.words == 0 and not (text or "").strip():
        raise ApplicationError("No words inside the box: draw it over the words of the value.")
    with transaction.atomic():
        review = (
            ExtractionReview.objects.select_for_update(of=("self",))
            .select_related("task", "claimed_by")
            .get(pk=review.pk)
        )
        user_pk = actor.pk if getattr(actor, "is_authenticated", False) else None
        if selectors.claim_is_live(review) and review.claimed_by_id != user_pk:
            minutes = int((timezone.now() - review.claimed_at).total_seconds() // 60)
            raise ApplicationError(CLAIMED_BY_OTHER.format(user=review.claimed_by.get_username(), minutes=minutes))
        output_row = TaskOutput.objects.select_for_update().get(task=task)
        leaf = _leaf(review, path)
        output = copy.deepcopy(output_row.data)
        machine = review.machine_output or {}
        machine_value = engine.tree_get(machine.get("results"), leaf.keys)
        previous = engine.tree_get(output.get("results"), leaf.keys)
        citations = engine.tree_get(output.get("citations"), leaf.keys) or []
        if action == "accept":
            value, state = previous, FieldState.ACCEPTED
        elif action == "reject":
            value, state, citations = engine.empty_value(leaf), FieldState.REJECTED, []
        else:
            raw = text if text is not None and text.strip() else (picked.text if picked else "")
            try:
                value = engine.value_from_text(leaf, raw)
            except engine.ReviewValueError as exc:
                raise ApplicationError(str(exc)) from None
            if picked is not None and picked.words:
                citations = picked.citations
            elif value != previous:
                citations = []  # typed by hand: the old evidence does not support the new value
            state = FieldState.ACCEPTED if value == machine_value and value == previous else FieldState.CORRECTED
        engine.tree_set(output["results"], leaf.keys, value)
        engine.tree_set(output.setdefault("citations", {}), leaf.keys, citations)
        output_row.data = output
        output_row.save(update_fields=["data"])
        Task.objects.filter(pk=task.pk).update(output_revision=F("output_revision") + 1)
        metrics = engine.tree_get(machine.get("metrics"), leaf.keys) or {}
        decision = _decision_add(
            review,
            leaf,
            state=state,
            confidence=(metrics.get("confidence") if isinstance(metrics, dict) else "") or "",
            machine_value=machine_value,
            previous_value=previous,
            value=value,
            reviewer=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _review_progress(review, actor)
        audit_record(
            workspace=task.workspace,
            actor=actor,
            verb="review.decided",
            target=task,
            data={"path": leaf.path, "state": state},  # never the value: audits hold no document content
        )
    return decision


def field_key(path: str) -> str:
    """A field across documents: its path without row numbers (line_items[2].amount → line_items[].amount)."""
    return _ROW_INDEX.sub("[]", path)


def same_value(a: Any, b: Any) -> bool:
    """Two values the same for the statistics: empty is empty, whatever its form."""
    empty = (None, "", [])
    return (a in empty and b in empty) or a == b


def _decision_add(review: ExtractionReview, leaf: engine.LeafField, **fields: Any) -> FieldDecision:
    """A new latest decision on `leaf`; the one before becomes history."""
    FieldDecision.objects.filter(review=review, path=leaf.path, is_latest=True).update(is_latest=False)
    metrics_review_decision(fields["state"])
    return FieldDecision.objects.create(
        review=review,
        path=leaf.path,
        workspace_id=review.workspace_id,
        schema_name=review.schema_name,
        schema_version=review.schema_version,
        field_key=field_key(leaf.path),
        is_latest=True,
        machine_right=same_value(fields["value"], fields["machine_value"]),
        **fields,
    )


def _auto_accept(review: ExtractionReview, leaves: list[engine.LeafField], output: dict) -> int:
    """The workspace's auto-accept rules applied to a new review: High-confidence values of a ruled field get an
    `auto` decision (shown as Auto-accepted, left out of the accuracy figures). Returns how many."""
    if not review.schema_name:
        return 0
    keys = set(
        AutoAcceptRule.objects.filter(workspace_id=review.workspace_id, schema_name=review.schema_name).values_list(
            "field_key", flat=True
        )
    )
    done = 0
    for leaf in leaves:
        metrics = engine.tree_get(output.get("metrics"), leaf.keys) or {}
        if field_key(leaf.path) not in keys or not isinstance(metrics, dict) or metrics.get("confidence") != "High":
            continue
        value = engine.tree_get(output.get("results"), leaf.keys)
        _decision_add(
            review,
            leaf,
            state=FieldState.AUTO,
            confidence="High",
            machine_value=value,
            previous_value=value,
            value=value,
        )
        done += 1
    return done


def _leaf(review: ExtractionReview, path: str) -> engine.LeafField:
    schema = review.task.extraction_schema
    for leaf in engine.leaf_fields(schema, (review.machine_output or {}).get("results")):
        if leaf.path == path:
            return leaf
    raise ApplicationError(f"path: {path!r} is not a field of this extraction")


def _review_progress(review: ExtractionReview, actor: Actor) -> None:
    decided = review.decisions.values("path").distinct().count()
    now = timezone.now()
    status = ReviewStatus.REVIEWED if decided >= review.field_count else ReviewStatus.IN_REVIEW
    changes: dict[str, Any] = {"decided_count": decided, "status": status, "updated_at": now}
    if status == ReviewStatus.REVIEWED and review.status != ReviewStatus.REVIEWED:
        changes["reviewed_at"] = now
    if getattr(actor, "is_authenticated", False):
        changes |= {"claimed_by": actor, "claimed_at": now}  # a decision keeps the reviewer's claim alive
    ExtractionReview.objects.filter(pk=review.pk).update(**changes)
    for key, value in changes.items():
        setattr(review, key, value)
    if "reviewed_at" in changes:
        webhooks_emit_review_completed(review)  # sent once the transaction commits


@transaction.atomic
def auto_accept_set(
    *, workspace, schema_name: str, field_key: str, enabled: bool, actor: Actor, evidence: dict
) -> bool:
    """Switch the auto-accept rule of one field on or off; returns whether anything changed. New extractions with
    this schema then get its High-confidence values as `auto` decisions (marked, never silent)."""
    authorize(actor=actor, workspace=workspace, action="review.auto_accept")
    if enabled:
        _, created = AutoAcceptRule.objects.get_or_create(
            workspace=workspace,
            schema_name=schema_name,
            field_key=field_key,
            defaults={"evidence": evidence, "created_by": actor if getattr(actor, "is_authenticated", False) else None},
        )
        changed = created
    else:
        changed = bool(
            AutoAcceptRule.objects.filter(workspace=workspace, schema_name=schema_name, field_key=field_key).delete()[0]
        )
    if changed:
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="review.auto_accept_rule." + ("enabled" if enabled else "disabled"),
            data={"schema_name": schema_name, "field_key": field_key, "evidence": evidence},
        )
    return changed


def review_export_record(
    *, workspace, actor: Actor, schema_name: str, schema_version, fmt: str, documents: int
) -> None:
    """Exports are audited: who took which results out, never the results themselves."""
    audit_record(
        workspace=workspace,
        actor=actor,
        verb="review.exported",
        data={"schema_name": schema_name, "schema_version": schema_version, "format": fmt, "documents": documents},
    )

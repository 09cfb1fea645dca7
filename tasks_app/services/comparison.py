"""Compare versions: a schema version (or today's extractor) run again on documents already reviewed, each field
scored against the reviewed values before and after — a regression set made of the reviewers' corrections, checked
before anyone switches to the new version."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from tasks_app import engine, selectors
from tasks_app.choices import ReviewStatus, TaskStatus
from tasks_app.errors import ApplicationError
from tasks_app.models import ExtractionReview, ExtractionSchema, SchemaComparison
from tasks_app.services.access import authorize
from tasks_app.services.audit import Actor, audit_record
from tasks_app.services.extraction import extract_options
from tasks_app.services.queue import job_send
from tasks_app.services.review import field_key, same_value

logger = logging.getLogger(__name__)

COMPARE_JOB = "tasks_app.jobs.compare_schema_versions_job"


@transaction.atomic
def comparison_start(*, workspace, schema_name: str, base_version: int, new_version: int, actor: Actor):
    """Queue a run of `new_version` (or of today's extractor, when it is `base_version`) over the documents fully
    reviewed under `base_version`; each field is then scored against the reviewed values, before and after."""
    authorize(actor=actor, workspace=workspace, action="schema.edit")
    versions = set(
        ExtractionSchema.objects.filter(workspace=workspace, name=schema_name).values_list("version", flat=True)
    )
    for version in (base_version, new_version):
        if version not in versions:
            raise ApplicationError(f"{schema_name} has no version {version}.")
    documents = ExtractionReview.objects.filter(
        workspace=workspace, schema_name=schema_name, schema_version=base_version, status=ReviewStatus.REVIEWED
    ).count()
    if not documents:
        raise ApplicationError(f"No document is fully reviewed under {schema_name} v{base_version} yet.")
    comparison = SchemaComparison.objects.create(
        workspace=workspace,
        schema_name=schema_name,
        base_version=base_version,
        new_version=new_version,
        documents_total=documents,
        message="Queued",
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        workspace=workspace,
        actor=actor,
        verb="schema.compared",
        target=comparison,
        data={"schema_name": schema_name, "base_version": base_version, "new_version": new_version},
    )
    job_send(COMPARE_JOB, str(comparison.pk))
    return comparison


def comparison_run(*, comparison_id: str) -> None:
    """The job: extract each reviewed document again with the new version and count, per field, the values that
    match the reviewed ones before (the machine's output then) and after. Nothing of the documents changes."""
    claimed = SchemaComparison.objects.filter(pk=comparison_id, status=TaskStatus.STARTING).update(
        status=TaskStatus.PROCESSING, message="Extracting"
    )
    if not claimed:
        return  # delivered again, or already run
    comparison = SchemaComparison.objects.get(pk=comparison_id)
    try:
        result = _compare(comparison)
    except Exception as exc:  # noqa: BLE001 - any failure ends the comparison with a message, never a stuck row
        logger.exception("comparison %s failed", comparison_id)
        message = exc.user_message if isinstance(exc, engine.EngineError) else "The comparison failed; see the log."
        SchemaComparison.objects.filter(pk=comparison_id).update(
            status=TaskStatus.FAILED, message=message, finished_at=timezone.now()
        )
        return
    SchemaComparison.objects.filter(pk=comparison_id).update(
        status=TaskStatus.SUCCEEDED, message="Done", result=result, finished_at=timezone.now()
    )


def _compare(comparison) -> dict:
    new_schema = (
        ExtractionSchema.objects.get(
            workspace_id=comparison.workspace_id, name=comparison.schema_name, version=comparison.new_version
        )
    ).ordered_schema
    reviews = ExtractionReview.objects.filter(
        workspace_id=comparison.workspace_id,
        schema_name=comparison.schema_name,
        schema_version=comparison.base_version,
        status=ReviewStatus.REVIEWED,
    ).select_related("task", "task__source_task")
    scores: dict[str, dict[str, int]] = {}
    done = skipped = 0
    for review in reviews.iterator(chunk_size=100):
        task = review.task
        parse_output = selectors.parse_output_of(task=task)
        truth = (selectors.task_output(task=task) or {}).get("results")
        if parse_output is None or truth is None:
            skipped += 1
            continue
        after = engine.run_extraction(parse_output, new_schema, extract_options(task.configuration)).get("results")
        before = (review.machine_output or {}).get("results")
        for leaf in engine.leaf_fields(task.extraction_schema, truth):
            score = scores.setdefault(field_key(leaf.path), {"n": 0, "before": 0, "after": 0})
            expected = engine.tree_get(truth, leaf.keys)
            score["n"] += 1
            score["before"] += same_value(engine.tree_get(before, leaf.keys), expected)
            score["after"] += same_value(engine.tree_get(after, leaf.keys), expected)
        done += 1
        SchemaComparison.objects.filter(pk=comparison.pk).update(documents_done=done)
    if skipped:
        SchemaComparison.objects.filter(pk=comparison.pk).update(
            message=f"{skipped} document(s) skipped: their parse output is gone"
        )
    return scores

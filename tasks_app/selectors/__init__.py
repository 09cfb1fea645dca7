"""Read side: querysets and reads for the API, the dashboard and the services, always scoped to a workspace.

A package by kind of read; its public names are all here, so callers write `selectors.task_get(...)`.
"""

from tasks_app.selectors.audit import AUDIT_KINDS, audit_actors, audit_events
from tasks_app.selectors.keys import KeyedTask, api_key_active, task_for_key, workspaces_for_user
from tasks_app.selectors.outputs import json_loads, parse_output_of, task_output, task_outputs, task_outputs_as_read
from tasks_app.selectors.reviews import (
    AUTO_ACCEPT_MIN_LOWER_BOUND,
    AUTO_ACCEPT_MIN_REVIEWS,
    CLAIM_IDLE,
    ExportRow,
    FieldStats,
    ReviewField,
    ReviewStats,
    claim_is_live,
    comparison_get,
    comparisons_recent,
    review_export,
    review_fields,
    review_next,
    review_queue,
    review_stats,
    schema_get,
    schema_versions,
    schemas_latest,
    wilson_lower,
)
from tasks_app.selectors.tasks import TASK_NOT_FOUND, task_get, task_list, task_search
from tasks_app.selectors.viewer import ViewerIndex, task_output_segments, task_segment, task_viewer_index

__all__ = [
    "AUDIT_KINDS",
    "audit_actors",
    "audit_events",
    "AUTO_ACCEPT_MIN_LOWER_BOUND",
    "AUTO_ACCEPT_MIN_REVIEWS",
    "CLAIM_IDLE",
    "ExportRow",
    "review_export",
    "FieldStats",
    "ReviewStats",
    "review_stats",
    "wilson_lower",
    "ReviewField",
    "claim_is_live",
    "comparison_get",
    "comparisons_recent",
    "parse_output_of",
    "review_fields",
    "review_next",
    "review_queue",
    "schema_get",
    "schema_versions",
    "schemas_latest",
    "TASK_NOT_FOUND",
    "KeyedTask",
    "ViewerIndex",
    "api_key_active",
    "json_loads",
    "task_for_key",
    "task_get",
    "task_list",
    "task_output",
    "task_output_segments",
    "task_outputs",
    "task_outputs_as_read",
    "task_search",
    "task_segment",
    "task_viewer_index",
    "workspaces_for_user",
]

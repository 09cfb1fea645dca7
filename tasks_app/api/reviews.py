"""Extension routes for extraction review (not in the Chunkr contract; the official SDKs never call them):
exports of reviewed results per schema version. A task's own review is GET /tasks/{task_id}/review (api/tasks.py)."""

from __future__ import annotations

from ninja import Query, Router

from tasks_app.api.auth import key_auth
from tasks_app.api.schemas import ErrorOut
from tasks_app.presenters import review_export_download

router = Router(tags=["reviews (extension)"])


@router.get(
    "/reviews/export",
    auth=key_auth("review.read"),
    response={200: None, 400: ErrorOut, 404: ErrorOut},
    summary="Export reviewed extraction results (extension)",
    description="Every succeeded extraction made with the saved schema `schema` (and `version`, else all versions), "
    "with the values that stand after review. `format`: `json` (one object per document: task_id, file_name, "
    "review_status, reviewed_at, results), `csv` (one row per document, a column per field) or `csv-items` (the "
    "rows of arrays of objects, keyed by task id).",
)
def review_export(
    request,
    schema_name: str = Query(..., alias="schema"),
    version: int | None = None,
    format: str = "json",  # noqa: A002
):
    return review_export_download(
        workspace=request.auth.workspace, actor=request.auth, schema=schema_name, version=version, fmt=format
    )

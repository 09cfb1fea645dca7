"""Request and response schemas, field for field from ../shared/API_CONTRACT.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

TaskStatusName = Literal["Starting", "Processing", "Succeeded", "Failed", "Cancelled"]
CONFIG_FIELDS = (
    "chunk_processing",
    "error_handling",
    "ocr_strategy",
    "pipeline",
    "segment_processing",
    "segmentation_strategy",
    "llm_processing",
    "high_resolution",
)

# A one-page PDF ("Hello, Chunkr") as a data URL: the documented example of `file`, so "Try it out" in /api/v1/docs
# and schemathesis' examples phase (`make fuzz-api`) create a real task instead of a 400.
EXAMPLE_FILE = (
    "data:application/pdf;base64,JVBERi0xLjcKJcK1wrYKJSBXcml0dGVuIGJ5IE11UERGIDEuMjguNQoKMSAwIG9iago8PC9UeXBlL0NhdGFs"
    "b2cvUGFnZXMgMiAwIFIvSW5mbzw8L1Byb2R1Y2VyKE11UERGIDEuMjguNSk+Pj4+CmVuZG9iagoKMiAwIG9iago8PC9UeXBlL1BhZ2VzL0NvdW50"
    "IDEvS2lkc1s0IDAgUl0+PgplbmRvYmoKCjMgMCBvYmoKPDwvRm9udDw8L2hlbHYgNSAwIFI+Pj4+CmVuZG9iagoKNCAwIG9iago8PC9UeXBlL1Bh"
    "Z2UvTWVkaWFCb3hbMCAwIDIwMCAxMDBdL1JvdGF0ZSAwL1Jlc291cmNlcyAzIDAgUi9QYXJlbnQgMiAwIFIvQ29udGVudHNbNiAwIFJdPj4KZW5k"
    "b2JqCgo1IDAgb2JqCjw8L1R5cGUvRm9udC9TdWJ0eXBlL1R5cGUxL0Jhc2VGb250L0hlbHZldGljYS9FbmNvZGluZy9XaW5BbnNpRW5jb2Rpbmc+"
    "PgplbmRvYmoKCjYgMCBvYmoKPDwvTGVuZ3RoIDc4L0ZpbHRlci9GbGF0ZURlY29kZT4+CnN0cmVhbQp4nOMq5HIK4TJUMABCQwUjAwVTA4WQXC79"
    "jNScMgVDQ4WQNIVoGxMLM1OzZCBMM0o2MjAxNrMwNzVLNUsyN7KLDfHicg3hCuQCAFfvEOUKZW5kc3RyZWFtCmVuZG9iagoKeHJlZgowIDcKMDAw"
    "MDAwMDAwMCA2NTUzNSBmIAowMDAwMDAwMDQyIDAwMDAwIG4gCjAwMDAwMDAxMjAgMDAwMDAgbiAKMDAwMDAwMDE3MiAwMDAwMCBuIAowMDAwMDAw"
    "MjEzIDAwMDAwIG4gCjAwMDAwMDAzMjAgMDAwMDAgbiAKMDAwMDAwMDQwOSAwMDAwMCBuIAoKdHJhaWxlcgo8PC9TaXplIDcvUm9vdCAxIDAgUj4+"
    "CnN0YXJ0eHJlZgo1NTUKJSVFT0YK"
)
FILE_DOC = "The document: an upload's `ch://files/<id>` URL, an http(s) URL, a data URL or raw base64."


class _ConfigFields(Schema):
    # Unknown request fields are ignored (contract §1.4).
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    chunk_processing: dict[str, Any] | None = None
    error_handling: Literal["Fail", "Continue"] | None = None
    ocr_strategy: Literal["All", "Auto"] | None = None
    pipeline: Literal["Azure", "Chunkr"] | None = None
    segment_processing: dict[str, Any] | None = None
    segmentation_strategy: Literal["LayoutAnalysis", "Page"] | None = None
    llm_processing: dict[str, Any] | None = None
    high_resolution: bool | None = None

    def configuration(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONFIG_FIELDS if getattr(self, name) is not None}


class ParseCreateIn(_ConfigFields):
    file: str = Field(min_length=1, description=FILE_DOC, examples=[EXAMPLE_FILE])
    file_name: str | None = Field(default=None, max_length=255)
    expires_in: int | None = Field(default=None, gt=0, le=2**31 - 1)
    async_: bool | None = Field(default=None, alias="async")


class ExtractCreateIn(Schema):
    """Contract §3.2 (+ `topic`, §13.5). `schema` is typed loosely so that a non-object gets our own 400."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    file: str = Field(min_length=1, description=FILE_DOC + " Or the task_id of a parse task.", examples=[EXAMPLE_FILE])
    schema_: Any = Field(
        alias="schema",
        examples=[{"type": "object", "properties": {"greeting": {"type": "string", "description": "The greeting"}}}],
    )
    system_prompt: str | None = None
    parse_configuration: dict[str, Any] | None = None
    file_name: str | None = Field(default=None, max_length=255)
    expires_in: int | None = Field(default=None, gt=0, le=2**31 - 1)
    topic: str | None = Field(default=None, max_length=200)
    async_: bool | None = Field(default=None, alias="async")


class SplitTopicIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)


class SplitCreateIn(Schema):
    """Contract §13.5."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    file: str = Field(min_length=1, description=FILE_DOC, examples=[EXAMPLE_FILE])
    topics: list[SplitTopicIn] = Field(
        min_length=1, max_length=50, examples=[[{"name": "Greeting", "description": "Where the document says hello"}]]
    )
    parse_configuration: dict[str, Any] | None = None
    file_name: str | None = Field(default=None, max_length=255)
    expires_in: int | None = Field(default=None, gt=0, le=2**31 - 1)
    async_: bool | None = Field(default=None, alias="async")


class LegacyUpdateIn(_ConfigFields):
    expires_in: int | None = Field(default=None, gt=0, le=2**31 - 1)


class ErrorOut(Schema):
    message: str
    code: str


class DictOut(BaseModel):
    """Base of the task answers, which handlers build as plain dicts (tasks_app/presenters.py).

    ninja's Schema wraps every object it validates in a DjangoGetter so that ORM attributes resolve; for dicts that
    only adds a Python call per field, 3.7 ms of a 100-task list page. The OpenAPI document is the same.
    """


class FileInfoOut(DictOut):
    url: str
    mime_type: str | None
    name: str | None
    page_count: int | None
    ss_cell_count: int | None


class VersionInfoOut(DictOut):
    server_version: str
    client_version: Any


class TaskOut(DictOut):
    task_id: str
    task_type: Literal["Parse", "Extract", "Split"]
    status: TaskStatusName
    completed: bool
    message: str
    configuration: dict[str, Any]
    file_info: FileInfoOut
    version_info: VersionInfoOut
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    input_file_url: str | None
    task_url: str | None
    output: dict[str, Any] | None
    parse_task_id: str | None


class TasksListOut(DictOut):
    tasks: list[TaskOut]
    has_more: bool
    next_cursor: str | None


class FileOut(Schema):
    file_id: str
    file_name: str
    content_type: str
    file_size: int
    metadata: Any = None
    created_at: datetime
    url: str


class FilesListOut(Schema):
    files: list[FileOut]
    has_more: bool
    next_cursor: str | None


class FileUrlOut(Schema):
    url: str
    expires_in: int | None = None


class DeleteOut(Schema):
    deleted: bool


class FileFormatOut(Schema):
    extension: str
    mime_type: str


class FileCategoryOut(Schema):
    formats: list[FileFormatOut]


class FileTypesOut(Schema):
    document: FileCategoryOut
    image: FileCategoryOut
    presentation: FileCategoryOut
    spreadsheet: FileCategoryOut
    text: FileCategoryOut


class WebhookUrlOut(Schema):
    url: str


class JobOut(DictOut):
    job_id: str
    status: Literal["pending", "processing", "completed", "failed", "canceled"]
    task_type: Literal["Parse", "Extract", "Split"] | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: TaskOut | None = None
    error: str | None = None


class ReviewDecisionOut(Schema):
    state: str
    value: Any = None
    previous_value: Any = None
    reviewer: str | None = None
    decided_at: str | None = None


class ReviewFieldOut(Schema):
    path: str
    machine_value: Any = None
    value: Any = None
    confidence: str
    state: str | None = None
    reviewer: str | None = None
    decided_at: str | None = None
    history: list[ReviewDecisionOut]


class ReviewOut(Schema):
    task_id: str
    status: str
    schema_name: str | None = None
    schema_version: int | None = None
    fields_total: int
    fields_decided: int
    reviewed_at: str | None = None
    fields: list[ReviewFieldOut]


class ReadyOut(Schema):
    """GET /ready (ours, not the contract's): each check's result, "ok" or what failed."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(examples=[{"database": "ok", "broker": "ok", "storage": "ok"}])

"""Data model: everything the API contract (../shared/API_CONTRACT.md) needs to hold.

Task outputs live in their own table (TaskOutput) so that listing tasks never reads the large JSON.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from tasks_app.choices import (
    TERMINAL_STATUSES,
    FieldState,
    JobQueue,
    RangeStatus,
    ReviewStatus,
    Role,
    TaskStatus,
    TaskType,
    ZdrTrigger,
)


def client_version_unspecified() -> str:
    return "Unspecified"


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    # Retention applied to new tasks when a request does not say (seconds; null = keep forever).
    default_expires_in = models.PositiveIntegerField(null=True, blank=True)
    # Zero data retention (services/retention.py): a task's input, output and assets go once its result was fetched
    # through the API or delivered by webhook (`zdr_trigger`); the row stays as a tombstone.
    zdr_enabled = models.BooleanField(default=False)
    zdr_trigger = models.CharField(max_length=5, choices=ZdrTrigger.choices, default=ZdrTrigger.FIRST)
    # Its fair share of the workers: jobs it may have queued or running at once (services/dispatch.py); null =
    # CHUNKR_WORKSPACE_MAX_JOBS, 0 = no cap. An operator sets it (Django admin) to give a tenant more or fewer slots.
    max_jobs = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


class ApiKey(models.Model):
    """Only the sha256 digest of the secret is stored; `prefix` is the part shown in lists."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=120, blank=True)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The role the key acts with (tasks_app.permissions.KEY_ROLES): member, or viewer for read-only keys.
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.workspace})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class Invitation(models.Model):
    """An invitation to join a workspace with a role: a single-use link (only the token's digest is kept), sent by
    e-mail when `email` is set. Accepting it makes a membership, and an account for someone new."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    email = models.EmailField(blank=True)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation to {self.workspace} as {self.role}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class StoredFile(models.Model):
    """An uploaded (or fetched) input. Deleting scrubs bytes and metadata but keeps the audit facts."""

    file_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="files")
    original_name = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    metadata = models.JSONField(null=True, blank=True)
    storage_key = models.CharField(max_length=500)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "created_at", "file_id"], name="file_ws_created")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def url(self) -> str:
        return f"ch://files/{self.file_id}"


class Task(models.Model):
    task_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tasks")
    task_type = models.CharField(max_length=10, choices=TaskType.choices, default=TaskType.PARSE)
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.STARTING)
    message = models.TextField(default="Task created")
    # The resolved configuration echoed as `configuration` (ParseConfiguration or ExtractConfiguration).
    configuration = models.JSONField(default=dict)
    input_file = models.ForeignKey(StoredFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    # An http(s) input the worker still has to fetch (the row then gets input_file).
    source_url = models.URLField(max_length=2000, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    mime_type = models.CharField(max_length=255, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    ss_cell_count = models.PositiveIntegerField(null=True, blank=True)
    # Extract/Split: the parse task whose output they read (contract `parse_task_id`).
    source_task = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derived_tasks"
    )
    topic = models.CharField(max_length=200, blank=True)  # extract restricted to a split topic
    pages_total = models.PositiveIntegerField(null=True, blank=True)
    pages_done = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    # State saved before a legacy re-run (PATCH /task/{id}/parse), restored if that run is cancelled.
    previous_state = models.JSONField(null=True, blank=True)
    client_version = models.JSONField(default=client_version_unspecified)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Workers touch this while processing; a stale heartbeat means the worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The job's process says it is alive every few seconds from a thread of its own, whatever its pages are doing: a
    # beat older than CHUNKR_LIVENESS_LEASE_SECONDS means the process died or froze (services/lifecycle.job_pulse).
    alive_at = models.DateTimeField(null=True, blank=True)
    # The Celery job that claimed the task (its message id): a cancel or the stale sweep stops that job by id
    # when its worker no longer answers.
    job_id = models.CharField(max_length=64, blank=True, default="")
    # Bumped whenever the stored output changes without the task ending again (a reviewer's correction), so answers
    # cached under the task's version (presenters.task_version) are never served stale.
    output_revision = models.PositiveIntegerField(default=0)
    # Extract: the schema's JSON text as it was sent. `configuration` is jsonb on PostgreSQL, which reorders object
    # keys; the fields' order is the schema author's, and reviewers work through them in that order.
    schema_text = models.TextField(blank=True, default="")
    # Zero data retention, copied from the workspace when the task is made ("" = off, else a ZdrTrigger): switching it
    # on or off later does not change what was promised for tasks already sent. `fetched_at` / `delivered_at`: the
    # result's first answer through the API, its first delivery by webhook; `zdr_deleted_at`: the content went, the
    # row is a tombstone (services/retention.py).
    zdr = models.CharField(max_length=5, blank=True, default="")
    fetched_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    zdr_deleted_at = models.DateTimeField(null=True, blank=True)
    # Scheduling (services/dispatch.py): the queue its job goes to (a JobQueue), and when its job was sent — a
    # Starting task without `queued_at` waits for its workspace's turn (CHUNKR_WORKSPACE_MAX_JOBS).
    queue = models.CharField(max_length=20, blank=True, default="")
    queued_at = models.DateTimeField(null=True, blank=True)
    # A long document processed as page ranges (models.TaskRange): how many; 0 = in one job.
    ranges_total = models.PositiveIntegerField(default=0)
    # The merge job that took the ranges (its Celery id): one merge per run, a redelivered one starts it over.
    merged_by = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "created_at", "task_id"], name="task_ws_created"),
            models.Index(fields=["workspace", "status", "created_at"], name="task_ws_status_created"),
            models.Index(fields=["workspace", "task_type", "created_at"], name="task_ws_type_created"),
            models.Index(fields=["expires_at"], name="task_expires"),
            models.Index(fields=["status", "heartbeat_at"], name="task_status_heartbeat"),
            # Dashboard list sorts (created has the first index); each keeps a page of 100k rows an index walk.
            models.Index(fields=["workspace", "finished_at", "task_id"], name="task_ws_finished"),
            models.Index(fields=["workspace", "file_name", "task_id"], name="task_ws_file_name"),
            models.Index(fields=["workspace", "page_count", "task_id"], name="task_ws_pages"),
            models.Index(fields=["workspace", "created_by_user", "created_at"], name="task_ws_user_created"),
            models.Index(fields=["workspace", "status", "queued_at"], name="task_ws_status_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.task_type} {self.task_id} ({self.status})"

    @property
    def completed(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_terminal(self) -> bool:
        return self.completed

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_tombstone(self) -> bool:
        return self.zdr_deleted_at is not None

    @property
    def extraction_schema(self) -> dict:
        """The Extract task's schema with its properties in the order they were written."""
        return json.loads(self.schema_text) if self.schema_text else self.configuration.get("schema") or {}

    @property
    def progress_percent(self) -> int:
        if not self.pages_total:
            return 0
        return min(100, round(100 * self.pages_done / self.pages_total))


class TaskRange(models.Model):
    """One page range of a long parse task, processed by a job of its own on whichever worker takes it; the merge
    joins the parts in page order when the last one is in (services/ranges.py)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="ranges")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")  # fairness counts
    index = models.PositiveIntegerField()
    first_page = models.PositiveIntegerField()  # 0-based, included
    stop_page = models.PositiveIntegerField()  # 0-based, excluded
    status = models.CharField(max_length=10, choices=RangeStatus.choices, default=RangeStatus.WAITING)
    queue = models.CharField(max_length=20, default=JobQueue.PARSE)
    job_id = models.CharField(max_length=64, blank=True, default="")
    worker = models.CharField(max_length=255, blank=True, default="")  # the worker host that took it last
    attempts = models.PositiveSmallIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    alive_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # engine.part_to_bytes: the pages, segments and warnings as zlib-compressed JSON (a fifth of the JSON's size, and
    # a tenth of the time of a JSON column through Django's json: the range path's overhead, issue 20)
    part = models.BinaryField(null=True, blank=True)
    asset_keys = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "index"], name="task_range_unique_index")]
        indexes = [
            models.Index(fields=["workspace", "status"], name="task_range_ws_status"),
            models.Index(fields=["status", "alive_at"], name="task_range_status_alive"),
        ]

    def __str__(self) -> str:
        return f"pages {self.first_page + 1}-{self.stop_page} of {self.task_id} ({self.status})"


class ParsePreset(models.Model):
    """A named ParseConfiguration the dashboard's upload page offers; shared by the whole workspace."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="parse_presets")
    name = models.CharField(max_length=80)
    # Stored resolved (defaults filled in), so a preset keeps meaning the same when defaults change.
    configuration = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="preset_name_unique")]

    def __str__(self) -> str:
        return self.name


class OutputWithoutChunks(models.Func):
    """An output JSON with its `chunks` array replaced by [] (left alone when there is none, e.g. Extract)."""

    template = "%(expressions)s"  # other databases: unchanged (the presenter empties chunks itself)
    output_field = models.JSONField()

    def as_postgresql(self, compiler, connection, **extra):
        template = (
            "CASE WHEN jsonb_typeof(%(expressions)s) = 'object' "
            "THEN jsonb_set(%(expressions)s, '{chunks}', '[]'::jsonb, false) ELSE %(expressions)s END"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "json_replace(%(expressions)s, '$.chunks', json('[]'))"
        return self.as_sql(compiler, connection, template=template, **extra)


class TaskOutput(models.Model):
    """The ParseOutputResponse / ExtractOutputResponse JSON, kept apart so list queries never load it."""

    task = models.OneToOneField(Task, primary_key=True, on_delete=models.CASCADE, related_name="output_row")
    data = models.JSONField()
    # What answers with include_chunks=false carry (the task list's default): a few KB, where `data` is ~80 KB per
    # page. Kept by the database on every write, so no writer can forget it; computing it per read instead meant
    # decompressing each whole `data` (~1 ms a row on PostgreSQL, 100 ms for a page of the list).
    data_without_chunks = models.GeneratedField(
        expression=OutputWithoutChunks("data"), output_field=models.JSONField(), db_persist=True
    )
    # Storage keys of page images and crops written for this task, deleted with it.
    asset_keys = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)  # whsec_<base64 key>, Standard Webhooks
    # After a rotation the old secret signs too (a second `v1,` signature) until this moment, so receivers can switch.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    event_types = models.JSONField(default=list)  # the events it is sent (services.webhooks.EVENT_CHOICES)
    enabled = models.BooleanField(default=True)
    # Set when a message gave up after its last retry; cleared by a delivered message or by enabling it again.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # Plain id, not a foreign key: deliveries outlive deleted tasks for the audit trail. None for a test event.
    task_id = models.UUIDField(null=True, blank=True)
    msg_id = models.CharField(max_length=64)  # webhook-id header, stable across retries
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)  # first 2 KB of the receiver's answer
    succeeded = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)  # its last retry failed too: no more automatic tries

    class Meta:
        indexes = [models.Index(fields=["endpoint", "created_at"], name="delivery_endpoint_created")]

    @property
    def outcome(self) -> str:
        return "delivered" if self.succeeded else "failed" if self.failed_at else "pending"


class WebhookAttempt(models.Model):
    """One POST of a message (a WebhookDelivery): the delivery log shows one row per attempt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField()  # 1 for the first try; "send again" adds one more
    request_body = models.TextField()  # the exact bytes signed and sent (task status, never document content)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)  # first 2 KB of the answer, or the connection error
    duration_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=False)
    manual = models.BooleanField(default=False)  # "send again" from the dashboard, not the retry schedule
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["delivery", "number"], name="attempt_delivery_number")]


class ExtractionSchema(models.Model):
    """A named JSON schema; saving a changed schema under the same name adds a version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="schemas")
    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    description = models.TextField(blank=True)
    schema = models.JSONField()
    schema_text = models.TextField(blank=True, default="")  # as written: jsonb reorders keys (see Task.schema_text)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name", "version"], name="schema_name_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def ordered_schema(self) -> dict:
        return json.loads(self.schema_text) if self.schema_text else self.schema


class AuditEvent(models.Model):
    """Who did what: written in the same transaction as the change it records."""

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    verb = models.CharField(max_length=60)  # e.g. "task.created", "api_key.revoked"
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "created_at"], name="audit_ws_created")]

    def __str__(self) -> str:
        return f"{self.verb} {self.target_type}:{self.target_id}"


class ExtractionReview(models.Model):
    """The review of one Succeeded Extract task: who works on it, how far it is, and the machine's own output.

    Decisions change the task's stored output (TaskOutput.data), so every reader — the API, the legacy route,
    webhooks, exports — returns the reviewed values; `machine_output` keeps what the extractor gave.
    """

    task = models.OneToOneField(Task, primary_key=True, on_delete=models.CASCADE, related_name="review")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="reviews")
    schema_name = models.CharField(max_length=120, blank=True)
    schema_version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.UNREVIEWED)
    field_count = models.PositiveIntegerField(default=0)
    decided_count = models.PositiveIntegerField(default=0)
    low_count = models.PositiveIntegerField(default=0)  # Low-confidence fields: the queue shows these first
    machine_output = models.JSONField(default=dict)  # {results, citations, metrics} as the extractor gave them
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "status", "low_count"], name="review_ws_status_low"),
            models.Index(fields=["workspace", "schema_name", "schema_version", "status"], name="review_ws_schema"),
        ]

    def __str__(self) -> str:
        return f"review of {self.task_id} ({self.status})"


class FieldDecision(models.Model):
    """One decision on one field, never changed: a field's history is its decisions, the latest one counts."""

    id = models.BigAutoField(primary_key=True)
    review = models.ForeignKey(ExtractionReview, on_delete=models.CASCADE, related_name="decisions")
    path = models.CharField(max_length=500)  # engine.path_format: line_items[2].amount
    # What the statistics group and filter by, copied here so they are one indexed GROUP BY over the latest decisions.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    schema_name = models.CharField(max_length=120, blank=True)
    schema_version = models.PositiveIntegerField(null=True, blank=True)
    field_key = models.CharField(max_length=500)  # the path without row numbers: line_items[].amount
    is_latest = models.BooleanField(default=True)  # the decision that counts for its field; older ones are history
    machine_right = models.BooleanField(default=False)  # the machine's value stood (accepted, or rightly empty)
    state = models.CharField(max_length=10, choices=FieldState.choices)
    confidence = models.CharField(max_length=4, blank=True)  # the machine's High / Low for this field
    machine_value = models.JSONField(null=True, blank=True)
    previous_value = models.JSONField(null=True, blank=True)
    value = models.JSONField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "id"]
        indexes = [
            models.Index(fields=["review", "path", "decided_at"], name="decision_review_path"),
            models.Index(
                fields=["workspace", "schema_name", "schema_version", "field_key"],
                condition=models.Q(is_latest=True),
                name="decision_latest_stats",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.path}: {self.state}"


class AutoAcceptRule(models.Model):
    """A workspace's decision to accept one field's High-confidence values without a reviewer (marked `auto`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="auto_accept_rules")
    schema_name = models.CharField(max_length=120)
    field_key = models.CharField(max_length=500)
    # The evidence shown when the rule was switched on: reviews, right, lower bound of the precision.
    evidence = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "schema_name", "field_key"], name="auto_accept_unique")
        ]


class SchemaComparison(models.Model):
    """Compare versions: a schema version run on documents already reviewed, scored against the reviewed values."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="schema_comparisons")
    schema_name = models.CharField(max_length=120)
    base_version = models.PositiveIntegerField()  # the reviewed documents' version
    new_version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.STARTING)
    message = models.TextField(blank=True)
    documents_total = models.PositiveIntegerField(default=0)
    documents_done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict)  # {field_key: {"n", "before", "after"}}
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

"""Enumerations shared by models, API schemas and views. Values are the contract's strings."""

from django.db import models


class TaskStatus(models.TextChoices):
    STARTING = "Starting"
    PROCESSING = "Processing"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


TERMINAL_STATUSES = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED})
ACTIVE_STATUSES = frozenset({TaskStatus.STARTING, TaskStatus.PROCESSING})


class RangeStatus(models.TextChoices):
    """A page range of a long parse task (models.TaskRange): waiting for its workspace's turn, its job queued, taken by
    a worker, done (its part stored, waiting for the merge), or stopped."""

    WAITING = "Waiting"
    QUEUED = "Queued"
    RUNNING = "Running"
    DONE = "Done"
    STOPPED = "Stopped"  # its task ended otherwise (cancelled, failed, deleted): never run, or run no further


class JobQueue(models.TextChoices):
    """The Celery queues, by kind of work, so that a flood of one kind never starves another: workers can be given
    some of them (docker/compose.yml, docs/SCALING.md)."""

    PARSE = "parse"  # layout analysis of born-digital pages, and the merge of a long document's ranges
    OCR = "ocr"  # pages that need OCR: scans, images
    EXTRACT = "extract"  # extraction and split (their LLM calls), schema comparisons
    SPLIT = "split"
    WEBHOOKS = "webhooks"
    MAINTENANCE = "maintenance"  # beat's sweeps and purges


class TaskType(models.TextChoices):
    PARSE = "Parse"
    EXTRACT = "Extract"
    SPLIT = "Split"


class Role(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class ZdrTrigger(models.TextChoices):
    """Zero data retention: what makes a task's content go (Workspace.zdr_trigger, copied to Task.zdr)."""

    FIRST = "first", "Fetched through the API or delivered by webhook, whichever comes first"
    BOTH = "both", "Both fetched through the API and delivered by webhook"


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class SegmentType(models.TextChoices):
    CAPTION = "Caption"
    FOOTNOTE = "Footnote"
    FORMULA = "Formula"
    FORM_REGION = "FormRegion"
    GRAPHICAL_ITEM = "GraphicalItem"
    LEGEND = "Legend"
    LINE_NUMBER = "LineNumber"
    LIST_ITEM = "ListItem"
    PAGE = "Page"
    PAGE_FOOTER = "PageFooter"
    PAGE_HEADER = "PageHeader"
    PAGE_NUMBER = "PageNumber"
    PICTURE = "Picture"
    SECTION_HEADER = "SectionHeader"
    TABLE = "Table"
    TEXT = "Text"
    TITLE = "Title"
    UNKNOWN = "Unknown"


class ReviewStatus(models.TextChoices):
    UNREVIEWED = "unreviewed"
    IN_REVIEW = "in_review"
    REVIEWED = "reviewed"


class FieldState(models.TextChoices):
    """A reviewer's decision on one field; AUTO: accepted by the workspace's auto-accept rule, never silently."""

    ACCEPTED = "accepted"
    CORRECTED = "corrected"
    REJECTED = "rejected"
    AUTO = "auto"

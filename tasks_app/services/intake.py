"""One way in: every route that creates work comes through here — the API's parse, extract and split, a dashboard
upload or URL, a re-run — so one precheck and one set of messages hold everywhere.

An input is a file upload, a stored file, or the contract's `file` string (API_CONTRACT §6.1: a `ch://files/` id,
an http(s) URL, a data: URL or raw base64; for extract and split also the id of a task to read). It is stored, then
checked before anything is queued: type, size, encryption and page limit, with the engine's messages (URLs are
checked for a public address now, and the rest when the worker has fetched them). The configuration is validated
once, into the engine's `ParseConfig`, and the task stores its normalised dict.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from tasks_app import engine, selectors
from tasks_app.choices import JobQueue, TaskStatus, TaskType
from tasks_app.errors import ApplicationError, FileTooLarge
from tasks_app.models import ExtractionSchema, StoredFile, Task, Workspace
from tasks_app.services.access import authorize, authorize_task_change
from tasks_app.services.audit import Actor
from tasks_app.services.extraction import task_create_derived
from tasks_app.services.files import Sniffed, file_store, sniff_stored
from tasks_app.services.inputs import ResolvedInput, input_resolve
from tasks_app.services.queue import queue_check
from tasks_app.services.tasks import task_create_parse, task_update_legacy

NOT_A_URL = "Enter an http:// or https:// address."
INPUT_GONE = "The input file of this task is gone, so it cannot be re-run"
# Both are stored with the task and echoed in every answer about it: a few pages of text, not a book.
MAX_SYSTEM_PROMPT_CHARS = 20_000
MAX_SCHEMA_CHARS = 200_000
TOO_MANY_PAGES = "The document has {pages} pages; the limit is {limit}."
TASK_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")

Input = str | UploadedFile | StoredFile
Config = engine.ParseConfig | dict | None


def parse_config_check(configuration: Config) -> engine.ParseConfig:
    """A ParseConfiguration validated into the engine's object; 400 names the bad field."""
    if isinstance(configuration, engine.ParseConfig):
        return configuration
    try:
        return engine.ParseConfig.from_dict(configuration or {})
    except engine.ConfigError as exc:
        raise ApplicationError(exc.user_message) from None


def parse_config_resolve(configuration: dict | None) -> dict:
    """A ParseConfiguration with its defaults filled in, as tasks and presets store it."""
    return parse_config_check(configuration).to_dict()


def input_precheck(stored: StoredFile, sniffed: Sniffed | None = None) -> engine.FileInfo:
    """The engine's sniff step before anything is queued: type, size, encryption and page limit. The worker would
    fail on each of these anyway; refusing them here shows the reason at once. `sniffed`: the sniff already made
    when the file was stored."""
    if sniffed is None:
        sniffed = sniff_stored(stored.storage_key)
    if isinstance(sniffed, engine.TooLarge):
        raise FileTooLarge(sniffed.user_message)
    if isinstance(sniffed, engine.EngineError):
        raise ApplicationError(sniffed.user_message)
    info = sniffed
    if info.encrypted:
        raise ApplicationError(engine.EncryptedDocument.default_message)
    if info.page_count is not None and info.page_count > settings.CHUNKR_MAX_PAGES:
        raise ApplicationError(TOO_MANY_PAGES.format(pages=info.page_count, limit=settings.CHUNKR_MAX_PAGES))
    return info


def intake_parse(
    *,
    workspace: Workspace,
    file: Input,
    configuration: Config,
    actor: Actor,
    file_name: str | None = None,
    expires_in: int | None = None,
    client_version: object = "Unspecified",
) -> Task:
    """A parse task over `file`, queued. Nothing is kept when the input is refused."""
    authorize(actor=actor, workspace=workspace, action="task.create")
    config = parse_config_check(configuration)  # 400 before anything is stored
    queue_check()  # 503 while the broker is down, before anything is stored
    received: ResolvedInput | None = None
    try:
        with transaction.atomic():
            received = _receive(workspace, file, file_name, actor)
            info = input_precheck(received.stored, received.sniffed) if received.stored is not None else None
            task = task_create_parse(
                workspace=workspace,
                stored_file=received.stored,
                source_url=received.source_url,
                configuration=config,
                actor=actor,
                file_name=received.file_name,
                expires_in=expires_in,
                client_version=client_version,
                page_count=info.page_count if info is not None else None,
                queue=JobQueue.OCR if info is not None and info.scanned else JobQueue.PARSE,
            )
    except ApplicationError:
        if received is not None and received.created:  # its row went with the transaction; its bytes go here
            default_storage.delete(received.stored.storage_key)
        raise
    return task


def _receive(workspace: Workspace, file: Input, file_name: str | None, actor: Actor) -> ResolvedInput:
    if isinstance(file, StoredFile):
        if file.deleted_at is not None or not file.storage_key:
            raise ApplicationError(INPUT_GONE)
        return ResolvedInput(stored=file, file_name=file_name or file.original_name)
    if isinstance(file, UploadedFile):
        stored, sniffed = file_store(workspace=workspace, stream=file, file_name=file.name, actor=actor, private=True)
        return ResolvedInput(stored=stored, file_name=stored.original_name, sniffed=sniffed, created=True)
    return input_resolve(workspace=workspace, file=file, file_name=file_name, actor=actor)


def intake_url(
    *, workspace: Workspace, url: str, configuration: Config, actor: Actor, expires_in: int | None = None
) -> Task:
    """A URL typed into the dashboard: only http(s), checked for a public address now, fetched by the worker."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ApplicationError(NOT_A_URL)
    return intake_parse(workspace=workspace, file=url, configuration=configuration, actor=actor, expires_in=expires_in)


# A zero-data-retention tombstone (services/retention.py) has nothing left to read.
TOMBSTONE_READ = "the task's input and output were deleted under zero data retention"


def intake_update_legacy(*, task: Task, changes: dict, expires_in: int | None, actor: Actor) -> Task:
    """Legacy PATCH /task/{id}/parse (§12.3): the task's configuration with `changes`, re-run in place."""
    authorize_task_change(actor=actor, task=task)
    if task.is_tombstone:
        raise ApplicationError(f"Task cannot be updated: {TOMBSTONE_READ}")
    config = parse_config_check({**task.configuration, **changes})
    queue_check()
    return task_update_legacy(task=task, configuration=config, expires_in=expires_in, actor=actor)


def intake_rerun(*, task: Task, configuration: Config, actor: Actor) -> Task:
    """A new parse task over the same input with another configuration; the original keeps its result."""
    if task.task_type != TaskType.PARSE:
        raise ApplicationError(f"Only parse tasks can be re-run (this one is {task.task_type})")
    stored = task.input_file if task.input_file is not None and task.input_file.deleted_at is None else None
    if stored is None and not task.source_url:
        raise ApplicationError(INPUT_GONE)
    expires_in = int((task.expires_at - task.created_at).total_seconds()) if task.expires_at else 0
    return intake_parse(
        workspace=task.workspace,
        file=stored if stored is not None else task.source_url,
        configuration=configuration,
        actor=actor,
        file_name=task.file_name,
        expires_in=expires_in,
    )


# --- Extract and Split (contract §3.2, §13.5) ------------------------------------------------------------------


def names_stored_input(file: str | None) -> bool:
    """The `file` string names something already here: an uploaded file (`ch://files/…`) or a task."""
    return isinstance(file, str) and (file.strip().startswith("ch://files/") or is_task_reference(file))


def is_task_reference(file: str) -> bool:
    """A bare task id: base64 and URLs never look like a UUID (base64 has no '-'; URLs have a scheme)."""
    return bool(TASK_ID_RE.match(file.strip()))


def extraction_schema_check(schema: Any) -> dict:
    if not isinstance(schema, dict):
        raise ApplicationError("schema: must be a JSON object (a JSON Schema)")
    if len(json.dumps(schema, separators=(",", ":"))) > MAX_SCHEMA_CHARS:
        raise ApplicationError(f"schema: at most {MAX_SCHEMA_CHARS:,} characters of JSON")
    try:
        engine.validate_extraction_schema(schema)
    except engine.EngineError as exc:
        raise ApplicationError(exc.user_message) from None
    return schema


def split_topics_check(topics: Any) -> list[dict[str, str]]:
    try:
        return engine.validate_split_topics(topics)
    except engine.EngineError as exc:
        raise ApplicationError(exc.user_message) from None


def source_check(source: Task, *, task_type: str, topic: str | None) -> None:
    """What a new Extract/Split task may read (contract §11, §13.5)."""
    if source.task_type == TaskType.EXTRACT:
        raise ApplicationError("file: refers to an Extract task; give a Parse task id (or a Split task id with topic)")
    if source.task_type == TaskType.SPLIT:
        if task_type != TaskType.EXTRACT:
            raise ApplicationError("file: refers to a Split task; split a Parse task or a document instead")
        if not topic:
            raise ApplicationError("topic: required when file is a Split task id")
        names = [t.get("name") for t in source.configuration.get("topics") or []]
        if topic not in names:
            raise ApplicationError(f"topic: {topic!r} is not one of the split's topics ({', '.join(names)})")
    elif topic:
        raise ApplicationError("topic: only allowed when file is a Split task id")
    if source.status in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        raise ApplicationError(f"file: the {source.task_type} task ended {source.status}: {source.message}")
    if source.is_tombstone:
        raise ApplicationError(f"file: {TOMBSTONE_READ}")


def _intake_derived(
    *,
    workspace: Workspace,
    task_type: str,
    file: str,
    topic: str | None,
    configuration: dict,
    actor: Actor,
    file_name: str | None,
    parse_configuration: dict | None,
    expires_in: int | None,
    client_version: object,
) -> Task:
    """An Extract/Split task over the task `file` names, or over `file` as a document, parsed first (a task id is
    never parsed a second time). `configuration`: the derived task's own, to which the parse configuration is added."""
    authorize(actor=actor, workspace=workspace, action="task.create")
    if is_task_reference(file):
        if file_name is not None or parse_configuration is not None:
            raise ApplicationError(
                "file_name and parse_configuration are not allowed when file is a task id (it is already parsed)"
            )
        queue_check()
        source = selectors.task_get(workspace=workspace, task_id=file.strip())
        source_check(source, task_type=task_type, topic=topic)
        parse_config = None
    else:
        if topic:
            raise ApplicationError("topic: only allowed when file is a Split task id")
        config = parse_config_check(parse_configuration)
        source = intake_parse(  # checks the queue itself
            workspace=workspace,
            file=file,
            configuration=config,
            actor=actor,
            file_name=file_name,
            expires_in=expires_in,
            client_version=client_version,
        )
        parse_config = config.to_dict()
    return task_create_derived(
        workspace=workspace,
        task_type=task_type,
        source=source,
        configuration={**configuration, "parse_configuration": parse_config},
        actor=actor,
        expires_in=expires_in,
        client_version=client_version,
    )


@transaction.atomic
def intake_extract(
    *,
    workspace: Workspace,
    file: str,
    schema: Any,
    actor: Actor,
    file_name: str | None = None,
    parse_configuration: dict | None = None,
    system_prompt: str | None = None,
    topic: str | None = None,
    expires_in: int | None = None,
    client_version: object = "Unspecified",
    schema_ref: ExtractionSchema | None = None,
) -> Task:
    """An Extract task over a parsed task (by id) or over a document, parsed first. With `schema_ref` (a saved
    schema version: the dashboard's runs) its schema is used and the task remembers its name and version."""
    if schema_ref is not None:
        schema = schema_ref.ordered_schema
    schema = extraction_schema_check(schema)  # 400 with the JSON path, before anything runs
    if system_prompt is not None and len(system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
        raise ApplicationError(f"system_prompt: at most {MAX_SYSTEM_PROMPT_CHARS:,} characters")
    configuration = {"schema": schema, "system_prompt": system_prompt or engine.DEFAULT_SYSTEM_PROMPT}
    if schema_ref is not None:
        configuration |= {"schema_name": schema_ref.name, "schema_version": schema_ref.version}
    if topic:
        configuration["topic"] = topic
    return _intake_derived(
        workspace=workspace,
        task_type=TaskType.EXTRACT,
        file=file,
        topic=topic,
        configuration=configuration,
        actor=actor,
        file_name=file_name,
        parse_configuration=parse_configuration,
        expires_in=expires_in,
        client_version=client_version,
    )


@transaction.atomic
def intake_split(
    *,
    workspace: Workspace,
    file: str,
    topics: Any,
    actor: Actor,
    file_name: str | None = None,
    parse_configuration: dict | None = None,
    expires_in: int | None = None,
    client_version: object = "Unspecified",
) -> Task:
    """A Split task (topics to pages) over a parsed task or a document, parsed first."""
    return _intake_derived(
        workspace=workspace,
        task_type=TaskType.SPLIT,
        file=file,
        topic=None,
        configuration={"topics": split_topics_check(topics)},
        actor=actor,
        file_name=file_name,
        parse_configuration=parse_configuration,
        expires_in=expires_in,
        client_version=client_version,
    )

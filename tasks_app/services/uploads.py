"""Dashboard uploads: one file (or URL) in, one queued parse task out, with bad files refused up front."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from tasks_app import engine
from tasks_app.errors import ApplicationError, FileTooLarge
from tasks_app.models import StoredFile, Task, Workspace
from tasks_app.services.files import file_create
from tasks_app.services.inputs import input_resolve
from tasks_app.services.storage import local_copy
from tasks_app.services.tasks import Actor, task_create_parse

NOT_A_URL = "Enter an http:// or https:// address."


def upload_precheck(stored: StoredFile) -> engine.FileInfo:
    """The engine's sniff step, run before the task is queued: type, size, encryption and page limit.

    The worker would fail on each of these anyway; refusing them here shows the reason beside the file
    instead of as a Failed task a minute later.
    """
    with local_copy(stored.storage_key) as path:
        try:
            info = engine.sniff(path, max_bytes=settings.CHUNKR_MAX_UPLOAD_BYTES)
        except engine.TooLarge as exc:
            raise FileTooLarge(exc.user_message) from None
        except engine.EngineError as exc:
            raise ApplicationError(exc.user_message) from None
    if info.encrypted:
        raise ApplicationError(engine.EncryptedDocument.default_message)
    if info.page_count is not None and info.page_count > settings.CHUNKR_MAX_PAGES:
        raise ApplicationError(f"The document has {info.page_count} pages; the limit is {settings.CHUNKR_MAX_PAGES}.")
    return info


def task_create_from_upload(
    *, workspace: Workspace, upload: UploadedFile, configuration: dict, expires_in: int | None, actor: Actor
) -> Task:
    """Store the upload as the task's own copy, check it, queue the parse. Nothing is kept when it is refused."""
    stored = file_create(workspace=workspace, stream=upload, file_name=upload.name, actor=actor, private=True)
    try:
        with transaction.atomic():
            info = upload_precheck(stored)
            task = task_create_parse(
                workspace=workspace,
                stored_file=stored,
                configuration=configuration,
                actor=actor,
                file_name=stored.original_name,
                expires_in=expires_in,
                client_version="Unspecified",
            )
            if info.page_count is not None:
                task.page_count = info.page_count
                task.save(update_fields=["page_count"])
    except ApplicationError:
        key = stored.storage_key
        stored.delete()
        default_storage.delete(key)
        raise
    return task


@transaction.atomic
def task_create_from_url(
    *, workspace: Workspace, url: str, configuration: dict, expires_in: int | None, actor: Actor
) -> Task:
    """A URL input is checked for a public address now and fetched by the worker (like the API's)."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ApplicationError(NOT_A_URL)
    resolved = input_resolve(workspace=workspace, file=url, file_name=None, actor=actor)
    return task_create_parse(
        workspace=workspace,
        stored_file=resolved.stored,
        source_url=resolved.source_url,
        configuration=configuration,
        actor=actor,
        file_name=resolved.file_name,
        expires_in=expires_in,
    )

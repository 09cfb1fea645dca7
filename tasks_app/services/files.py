from __future__ import annotations

import mimetypes
import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from tasks_app import engine
from tasks_app.errors import FileTooLarge
from tasks_app.models import ApiKey, StoredFile, Workspace
from tasks_app.services.access import authorize
from tasks_app.services.audit import audit_record
from tasks_app.services.storage import content_type_for, local_copy, save_stream

PRIVATE_PREFIX = "inputs"
FILE_TOO_LARGE = "The file is larger than this server accepts ({limit} MB)."


def _safe_name(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name.strip() or "upload"
    return "".join(ch for ch in base if ch.isprintable())[:200]


Sniffed = engine.FileInfo | engine.EngineError


def sniff_stored(name: str) -> Sniffed:
    """The engine's sniff of a stored file (type from magic bytes, page count, encryption), or why it cannot read it."""
    with local_copy(name) as path:
        return _sniff_path(path)


def _sniff_path(path) -> Sniffed:
    try:
        return engine.sniff(path, max_bytes=settings.CHUNKR_MAX_UPLOAD_BYTES)
    except engine.EngineError as exc:
        return exc


def _mime(name: str, sniffed: Sniffed, declared: str | None) -> str:
    """MIME from content (magic bytes), then the extension, then what the client declared."""
    if isinstance(sniffed, engine.FileInfo):
        return sniffed.mime_type
    guessed = content_type_for(name)
    if guessed != "application/octet-stream":
        return guessed
    return declared or guessed


def file_create(**kwargs) -> StoredFile:
    """Store an input (file_store's arguments) and return its row; file_store also hands back the sniff."""
    return file_store(**kwargs)[0]


def file_store(
    *,
    workspace: Workspace,
    stream,
    file_name: str | None,
    declared_type: str | None = None,
    metadata=None,
    actor: AbstractBaseUser | ApiKey | None = None,
    private: bool = False,
) -> tuple[StoredFile, Sniffed]:
    """Store an input and hand back its row with the sniff made of it, so that nobody sniffs the same upload twice.
    `private`: a task's own copy of a URL/base64/upload input, not listed under /files."""
    authorize(actor=actor, workspace=workspace, action="file.create")
    file_id = uuid.uuid4()
    name = _safe_name(file_name or "upload")
    limit = settings.CHUNKR_MAX_UPLOAD_BYTES
    area = PRIVATE_PREFIX if private else "files"
    try:
        storage_name, size, sha256, sniffed = save_stream(
            name=f"{area}/{workspace.pk}/{file_id}/{name}", stream=stream, max_bytes=limit, inspect=_sniff_path
        )
    except ValueError:
        raise FileTooLarge(FILE_TOO_LARGE.format(limit=limit // (1024 * 1024))) from None
    mime_type = _mime(storage_name, sniffed, declared_type)
    if not file_name:
        name = f"upload-{file_id.hex[:8]}{mimetypes.guess_extension(mime_type) or ''}"
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                file_id=file_id,
                workspace=workspace,
                original_name=name,
                mime_type=mime_type,
                size=size,
                sha256=sha256,
                metadata=metadata,
                storage_key=storage_name,
                created_by_user=actor if isinstance(actor, AbstractBaseUser) else None,
                created_by_key=actor if isinstance(actor, ApiKey) else None,
            )
            audit_record(workspace=workspace, actor=actor, verb="file.created", target=stored)
    except Exception:
        default_storage.delete(storage_name)
        raise
    return stored, sniffed


@transaction.atomic
def file_delete(*, stored: StoredFile, actor: AbstractBaseUser | ApiKey | None) -> None:
    """Delete the bytes and scrub user metadata; the row stays (invisible) for the audit trail."""
    authorize(actor=actor, workspace=stored.workspace_id, action="file.delete")
    key = stored.storage_key
    stored.deleted_at = timezone.now()
    stored.metadata = None
    stored.original_name = "deleted"
    stored.storage_key = ""
    stored.save(update_fields=["deleted_at", "metadata", "original_name", "storage_key"])
    audit_record(workspace=stored.workspace, actor=actor, verb="file.deleted", target=stored)
    if key:
        transaction.on_commit(lambda: default_storage.delete(key))

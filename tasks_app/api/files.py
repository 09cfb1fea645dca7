"""File routes (contract §5). Not found or not owned is 401 here, as the SDK documents."""

from __future__ import annotations

import json

from django.core.files.storage import default_storage
from django.http import FileResponse
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from tasks_app.api import common
from tasks_app.api.auth import key_auth
from tasks_app.api.schemas import DeleteOut, ErrorOut, FileOut, FilesListOut, FileUrlOut
from tasks_app.errors import ApplicationError
from tasks_app.models import StoredFile
from tasks_app.presenters import UrlMaker, file_to_dict, user_bytes_headers
from tasks_app.services.files import PRIVATE_PREFIX, file_create, file_delete
from tasks_app.services.storage import asset_url, data_url

router = Router(tags=["files"])
FILE_NOT_FOUND = "File not found"
MAX_URL_SECONDS = 604800


class FileNotFound(ApplicationError):
    status, code = 401, "file_not_found"


def _files(request):
    return StoredFile.objects.filter(workspace=request.auth.workspace, deleted_at__isnull=True).exclude(
        storage_key__startswith=PRIVATE_PREFIX + "/"
    )


def _get(request, file_id: str) -> StoredFile:
    try:
        return _files(request).get(file_id=file_id)
    except Exception:  # DoesNotExist and malformed ids alike: never confirm what exists
        raise FileNotFound(FILE_NOT_FOUND) from None


@router.post(
    "/files",
    auth=key_auth("file.create"),
    response={200: FileOut, 400: ErrorOut, 413: ErrorOut, 429: ErrorOut},
    summary="Upload a file",
)
def file_upload(request, file: File[UploadedFile], file_metadata: Form[str | None] = None):
    common.rate_limit(request)
    previous = common.idempotent_lookup(request, "file")
    if previous:
        existing = _files(request).filter(file_id=previous).first()
        if existing is not None:
            return file_to_dict(existing)
    metadata = None
    if file_metadata not in (None, ""):
        try:
            metadata = json.loads(file_metadata)
        except json.JSONDecodeError as exc:
            raise ApplicationError(f"file_metadata: not valid JSON ({exc.msg})") from None
    stored = file_create(
        workspace=request.auth.workspace,
        stream=file,
        file_name=file.name,
        declared_type=file.content_type,
        metadata=metadata,
        actor=request.auth,
    )
    common.idempotent_remember(request, "file", str(stored.file_id))
    return file_to_dict(stored)


@router.get("/files", auth=key_auth("file.read"), response={200: FilesListOut, 400: ErrorOut}, summary="List files")
def file_list(
    request,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
    start: str | None = None,
    end: str | None = None,
    sort: str = "desc",
):
    page, has_more, next_cursor = common.cursor_page(
        _files(request), field="created_at", pk="file_id", cursor=cursor, limit=limit, sort=sort, start=start, end=end
    )
    return {"files": [file_to_dict(f) for f in page], "has_more": has_more, "next_cursor": next_cursor}


@router.get(
    "/files/{file_id}", auth=key_auth("file.read"), response={200: FileOut, 401: ErrorOut}, summary="Get a file"
)
def file_get(request, file_id: str):
    return file_to_dict(_get(request, file_id))


@router.delete(
    "/files/{file_id}", auth=key_auth("file.delete"), response={200: DeleteOut, 401: ErrorOut}, summary="Delete a file"
)
def file_remove(request, file_id: str):
    file_delete(stored=_get(request, file_id), actor=request.auth)
    return {"deleted": True}


@router.get(
    "/files/{file_id}/content",
    auth=key_auth("file.read"),
    response={200: bytes, 401: ErrorOut},
    summary="Download a file",
)
def file_content(request, file_id: str):
    stored = _get(request, file_id)
    response = FileResponse(
        default_storage.open(stored.storage_key, "rb"), as_attachment=True, filename=stored.original_name
    )
    response["Content-Type"] = stored.mime_type
    return user_bytes_headers(response)


@router.get(
    "/files/{file_id}/url",
    auth=key_auth("file.read"),
    response={200: FileUrlOut, 400: ErrorOut, 401: ErrorOut},
    summary="File URL",
)
def file_url(request, file_id: str, base64_urls: bool = False, expires_in: int = 3600):
    stored = _get(request, file_id)
    if base64_urls:
        return {"url": data_url(stored.storage_key, stored.mime_type), "expires_in": None}
    seconds = max(1, min(expires_in, MAX_URL_SECONDS))
    url = asset_url(
        stored.storage_key,
        base_url=UrlMaker(request, base64_urls=False).base,
        expires_in=seconds,
        filename=stored.original_name,
    )
    return {"url": url, "expires_in": seconds}

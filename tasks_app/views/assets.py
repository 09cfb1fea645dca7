"""Serves stored files (inputs, page images, crops) behind signed, expiring URLs.

Uploaded files are the users' own bytes on the dashboard's origin: only the images the engine made (page images and
crops, PNG or JPEG, below tasks/) are shown inline; everything else is an attachment, and every answer carries
`nosniff` and a sandboxing Content-Security-Policy, so an uploaded HTML or SVG file never runs as a page of ours.

With a remote store (STORAGE_BACKEND=s3) no bytes pass through here: the view makes sure the object exists (rendering
a lazy page image into the store) and redirects to the store's presigned URL, which carries the same type and
disposition.
"""

from __future__ import annotations

from django.core import signing
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET

from tasks_app.presenters import user_bytes_headers
from tasks_app.services.storage import (
    StorageUnavailable,
    asset_available,
    asset_content_type,
    asset_from_token,
    open_asset,
    presigned_url,
    storage_is_local,
)
from tasks_app.views.access import open_to_anyone


@open_to_anyone  # the signed token in the URL is the permission (services/storage.py signs it)
@require_GET
def asset(request, token: str):
    try:
        name, filename = asset_from_token(token)
    except signing.SignatureExpired:
        return _text("This link has expired. Request the task again for a fresh one.", status=403)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Http404("Not found") from None
    try:
        if not storage_is_local():
            return _redirect_to_store(name, filename)
        handle = open_asset(name)
    except StorageUnavailable as exc:
        response = _text(exc.message, status=503)
        response["Retry-After"] = str(exc.extra["retry_after"])
        return response
    except (FileNotFoundError, OSError):
        raise Http404("Not found") from None
    content_type, inline = asset_content_type(name, filename)
    response = FileResponse(
        handle, content_type=content_type, as_attachment=not inline, filename=filename or name.rsplit("/", 1)[-1]
    )
    if inline and filename:
        response["Content-Disposition"] = f'inline; filename="{filename.replace(chr(34), "")}"'
    user_bytes_headers(response)
    response["Cache-Control"] = "private, max-age=300"
    return response


def _redirect_to_store(name: str, filename: str) -> HttpResponse:
    if not asset_available(name):
        raise FileNotFoundError(name)
    response = HttpResponseRedirect(presigned_url(name, filename=filename))
    response["Cache-Control"] = "private, max-age=300"  # the presigned URL lives longer than that
    return response


def _text(message: str, *, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")

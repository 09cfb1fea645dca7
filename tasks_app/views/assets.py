"""Serves stored files (inputs, page images, crops) behind signed, expiring URLs.

Uploaded files are the users' own bytes on the dashboard's origin: only the images the engine made (page images and
crops, PNG or JPEG, below tasks/) are shown inline; everything else is an attachment, and every answer carries
`nosniff` and a sandboxing Content-Security-Policy, so an uploaded HTML or SVG file never runs as a page of ours.
"""

from __future__ import annotations

from django.core import signing
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_GET

from tasks_app.presenters import user_bytes_headers
from tasks_app.services.storage import asset_from_token, content_type_for, open_asset
from tasks_app.views.access import open_to_anyone


@open_to_anyone  # the signed token in the URL is the permission (services/storage.py signs it)
@require_GET
def asset(request, token: str):
    try:
        name, filename = asset_from_token(token)
    except signing.SignatureExpired:
        return HttpResponse(
            "This link has expired. Request the task again for a fresh one.",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Http404("Not found") from None
    try:
        handle = open_asset(name)
    except (FileNotFoundError, OSError):
        raise Http404("Not found") from None
    content_type = content_type_for(filename or name)
    inline = name.startswith("tasks/") and content_type in ENGINE_IMAGE_TYPES
    response = FileResponse(
        handle, content_type=content_type, as_attachment=not inline, filename=filename or name.rsplit("/", 1)[-1]
    )
    if inline and filename:
        response["Content-Disposition"] = f'inline; filename="{filename.replace(chr(34), "")}"'
    user_bytes_headers(response)
    response["Cache-Control"] = "private, max-age=300"
    return response


ENGINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})

"""Serves stored files (inputs, page images, crops) behind signed, expiring URLs."""

from __future__ import annotations

from django.core import signing
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_GET

from tasks_app.services.storage import asset_from_token, content_type_for, open_asset


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
    response = FileResponse(handle, content_type=content_type_for(filename or name))
    if filename:
        response["Content-Disposition"] = f'inline; filename="{filename.replace(chr(34), "")}"'
    response["Cache-Control"] = "private, max-age=300"
    return response

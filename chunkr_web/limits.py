"""Request bodies over the limits are refused on their Content-Length header, before a byte of them is read.

Uploads (multipart) may be as large as CHUNKR_MAX_UPLOAD_BYTES plus the form's own overhead; every other body as
large as DATA_UPLOAD_MAX_MEMORY_SIZE. Without the header (chunked), Django's own limit applies while reading, and
chunkr_web/api.py answers its RequestDataTooBig with the same 413. What the client still sends after the 413 is
gunicorn's to discard: it drains a bounded amount before reusing the connection and closes it past that (a
Connection header from the app would be dropped, hop-by-hop).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse

MULTIPART_OVERHEAD = 1024 * 1024  # boundaries, part headers and small fields beside the file
TOO_LARGE = "The request body is larger than this server accepts ({limit} MB)."


def body_limit(content_type: str) -> int:
    if content_type.startswith("multipart/form-data"):
        return settings.CHUNKR_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_message(limit: int) -> str:
    return TOO_LARGE.format(limit=max(1, limit // (1024 * 1024)))


class RequestSizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request.META.get("CONTENT_TYPE", ""))
        if length <= limit:
            return self.get_response(request)
        message = too_large_message(limit)
        if request.path.startswith("/api/"):
            body = json.dumps({"message": message, "code": "file_too_large"})
            response = HttpResponse(body, status=413, content_type="application/json")
        else:
            response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return response

"""One error family for the app: a user-facing message, a machine code and an HTTP status."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class NotFound(ApplicationError):
    status, code = 404, "not_found"


class PermissionDenied(ApplicationError):
    status, code = 403, "forbidden"


class FileTooLarge(ApplicationError):
    status, code = 413, "file_too_large"


class RateLimited(ApplicationError):
    status, code = 429, "rate_limited"


class ServiceUnavailable(ApplicationError):
    """A dependency (the job queue) is down: nothing was stored; the client may retry after `retry_after`."""

    status, code = 503, "unavailable"

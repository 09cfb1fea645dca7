"""What a client gets when something below the app fails: a lost database is a 503 with `Retry-After` (it is the
server's state, not the request's fault, and it passes), anything else a plain 500 with no traceback.

The dashboard's pages render without templates here: base.html reads the session and the user, which need the very
database that is gone."""

from __future__ import annotations

import logging
import sys

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse

logger = logging.getLogger(__name__)

DATABASE_LOST = (OperationalError, InterfaceError)  # connection-level: refused, reset, timed out; not a bad query
RETRY_AFTER_SECONDS = 10
DATABASE_DOWN_MESSAGE = "The database is unavailable at the moment; nothing was changed. Try again in a few seconds."

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} · chunkr-web</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;color:#1d2939">
<h1>{title}</h1><p>{text}</p></body></html>"""


def database_lost(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_LOST)


def database_down_response() -> HttpResponse:
    response = HttpResponse(
        PAGE.format(title="Back in a moment", text=DATABASE_DOWN_MESSAGE), status=503, content_type="text/html"
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request) -> HttpResponse:
    """handler500: Django calls it while handling the exception, so sys.exc_info() names it."""
    if database_lost(sys.exc_info()[1]):
        return database_down_response()
    return HttpResponse(
        PAGE.format(title="Something went wrong", text="The error has been logged. Try again, or tell your admin."),
        status=500,
        content_type="text/html",
    )

"""Readiness: can this process do its work now — reach the database, the broker and the storage?

The liveness probe (/api/v1/health) only says the process answers; an orchestrator restarts it when that fails. This
one says whether to send it traffic, so each check is short and a failure names what is missing.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from tasks_app.errors import ServiceUnavailable
from tasks_app.services.queue import queue_check

logger = logging.getLogger(__name__)

STORAGE_TIMEOUT_SECONDS = 3.0
PROBE_KEY = "readiness-probe"
OK = "ok"
DATABASE_DOWN = "The database cannot be reached."
BROKER_DOWN = "The job queue (Redis) cannot be reached."
STORAGE_DOWN = "The file storage cannot be reached."
STORAGE_SLOW = f"The file storage did not answer within {STORAGE_TIMEOUT_SECONDS:g} s."
MEDIA_NOT_WRITABLE = "The file storage folder (MEDIA_ROOT) is missing or not writable."


def readiness_checks() -> dict[str, str]:
    """Each check's result: "ok", or a message saying what failed."""
    return {"database": _database(), "broker": _broker(), "storage": _storage()}


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any driver error means the same to a probe
        logger.warning("Readiness: database check failed", exc_info=True)
        return DATABASE_DOWN
    return OK


def _broker() -> str:
    try:
        queue_check()
    except ServiceUnavailable:
        logger.warning("Readiness: broker check failed")
        return BROKER_DOWN
    return OK


def _storage() -> str:
    if settings.STORAGE_BACKEND == "local":
        media = Path(settings.MEDIA_ROOT)
        if not (media.is_dir() and os.access(media, os.W_OK)):
            return MEDIA_NOT_WRITABLE
    # A remote store (S3) may hang rather than refuse: the probe runs in a thread we stop waiting for.
    result: list[str] = []

    def probe() -> None:
        try:
            default_storage.exists(PROBE_KEY)
            result.append(OK)
        except Exception:  # noqa: BLE001 - botocore, OSError …: all mean the store cannot be used
            logger.warning("Readiness: storage check failed", exc_info=True)
            result.append(STORAGE_DOWN)

    thread = threading.Thread(target=probe, name="readiness-storage", daemon=True)
    thread.start()
    thread.join(STORAGE_TIMEOUT_SECONDS)
    return result[0] if result else STORAGE_SLOW

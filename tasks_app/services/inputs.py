"""The `file` field of create requests (API_CONTRACT §6.1): ch:// reference, URL, data: URL or raw base64."""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from tasks_app.errors import ApplicationError, FileTooLarge, NotFound
from tasks_app.models import StoredFile, Workspace
from tasks_app.services.files import Sniffed, file_create, file_store
from tasks_app.services.outbound import OutboundError, outbound_get, outbound_url_check

INVALID_BASE64 = "Invalid base64 data"
FILE_NOT_FOUND = "File not found"
EMPTY_FILE = "The file is empty."
UNSUPPORTED_SCHEME = (
    "file: {scheme}: links are not fetched; give an http(s) URL, a ch://files/ id, a data: URL or base64"
)
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,(?P<data>.*)$", re.S)
_B64_CLEAN = re.compile(r"\s+")
_URLSAFE_B64 = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,31}):")


@dataclass
class ResolvedInput:
    stored: StoredFile | None  # None: a URL the worker fetches
    file_name: str
    source_url: str = ""
    sniffed: Sniffed | None = None  # the sniff made when the bytes were stored here (base64, data: URL)
    created: bool = False  # stored by this call: the caller deletes its bytes if it refuses the input


def _decode_b64(payload: str) -> bytes:
    """Standard or URL-safe base64, whitespace and missing padding forgiven, nothing else: a string with other
    characters is not base64 (Python's URL-safe decoder would silently drop them and decode the rest)."""
    cleaned = _B64_CLEAN.sub("", payload)
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        if _URLSAFE_B64.match(cleaned) and ("-" in cleaned or "_" in cleaned):
            data = base64.urlsafe_b64decode(cleaned)
        else:
            data = base64.b64decode(cleaned, altchars=None, validate=True)
    except (binascii.Error, ValueError):
        raise ApplicationError(INVALID_BASE64) from None
    if not data:
        raise ApplicationError(EMPTY_FILE)
    return data


def input_resolve(*, workspace: Workspace, file: str, file_name: str | None, actor) -> ResolvedInput:
    if not isinstance(file, str) or not file.strip():
        raise ApplicationError("file: required")
    file = file.strip()
    if file.startswith("ch://files/"):
        file_id = file.removeprefix("ch://files/").strip("/")
        try:
            stored = StoredFile.objects.get(workspace=workspace, file_id=file_id, deleted_at__isnull=True)
        except (StoredFile.DoesNotExist, ValueError, ValidationError):
            raise NotFound(FILE_NOT_FOUND) from None
        return ResolvedInput(stored=stored, file_name=file_name or stored.original_name)
    if file[:8].lower().startswith(("http://", "https://")):
        try:
            outbound_url_check(file)
        except OutboundError as exc:
            raise ApplicationError(str(exc)) from None
        name = file_name or PurePosixPath(unquote(urlsplit(file).path)).name or "download"
        return ResolvedInput(stored=None, file_name=name[:200], source_url=file)
    scheme = _SCHEME.match(file)
    if scheme and not file.startswith("data:"):
        raise ApplicationError(UNSUPPORTED_SCHEME.format(scheme=scheme.group(1)[:32]))
    if file.startswith("data:"):
        match = _DATA_URL.match(file)
        if not match:
            raise ApplicationError("Invalid data URL: expected data:<mime>;base64,<data>")
        data = _decode_b64(match.group("data"))
    else:
        data = _decode_b64(file)
    if len(data) > settings.CHUNKR_MAX_UPLOAD_BYTES:
        raise FileTooLarge("The file is larger than this server accepts.")
    stored, sniffed = file_store(
        workspace=workspace, stream=io.BytesIO(data), file_name=file_name, actor=actor, private=True
    )
    return ResolvedInput(stored=stored, file_name=stored.original_name, sniffed=sniffed, created=True)


def url_input_fetch(*, workspace: Workspace, url: str, file_name: str) -> StoredFile:
    """Download a URL input for the worker: size- and time-limited, content sniffed by file_create."""
    limit = settings.CHUNKR_MAX_UPLOAD_BYTES
    with outbound_get(url, timeout=settings.CHUNKR_FETCH_TIMEOUT) as response:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise OutboundError("The file at the URL is larger than this server accepts.")
        disposition = response.headers.get("content-disposition", "")
        match = re.search(r'filename="?([^";]+)"?', disposition)
        name = file_name or (match.group(1) if match else "download")

        class _Reader:
            def __init__(self, it):
                self.it = it
                self.buffer = b""

            def read(self, size=-1):
                while size < 0 or len(self.buffer) < size:
                    try:
                        self.buffer += next(self.it)
                    except StopIteration:
                        break
                if size < 0:
                    out, self.buffer = self.buffer, b""
                else:
                    out, self.buffer = self.buffer[:size], self.buffer[size:]
                return out

        with transaction.atomic():
            try:
                return file_create(
                    workspace=workspace,
                    stream=_Reader(response.iter_bytes(1024 * 1024)),
                    file_name=name,
                    private=True,
                )
            except FileTooLarge:
                raise OutboundError("The file at the URL is larger than this server accepts.") from None

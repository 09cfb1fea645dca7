"""Files in Django storage: inputs, and the assets (page images, crops, PDF renditions) tasks write.

Local storage is served by our own view through signed, expiring URLs. A remote store (STORAGE_BACKEND=s3) is
linked with its own presigned URLs, so no byte passes through the web process; only page images go through our view
(a signed token, as locally), which renders a lazy one into the store on first request and answers 302 to the
store. `base64_urls` responses inline the bytes as data: URLs instead. Nothing here needs a local media directory
unless the storage is local: workers read inputs through temporary copies.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import mimetypes
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage, storages
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import content_disposition_header

from tasks_app import engine
from tasks_app.errors import ServiceUnavailable

try:  # botocore comes with the s3 extra (django-storages[s3]); without it no store can fail this way
    from botocore.exceptions import BotoCoreError, ClientError

    STORE_ERRORS: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
except ImportError:  # pragma: no cover - the dev install has it
    STORE_ERRORS = ()

logger = logging.getLogger(__name__)

ASSET_URL_SALT = "chunkr.asset"
TASK_ASSET_URL_SECONDS = 600
# Task answers sign their links to expire at the end of the current bucket plus TASK_ASSET_URL_SECONDS: every link
# still lives at least that long (at most one bucket more), and every answer about a task within one bucket is the
# same bytes, so a rendered answer can be reused (tasks_app/api/answers.py) and a signature made once.
TASK_ASSET_URL_BUCKET_SECONDS = 60
COPY_CHUNK = 1024 * 1024
# The storage alias settings.py adds when S3_PUBLIC_ENDPOINT_URL is set: the same bucket, signed for that endpoint.
PUBLIC_STORAGE_ALIAS = "public"
STORE_DOWN = "The file store is unavailable at the moment; nothing was stored. Try again in a few seconds."
STORE_DOWN_RETRY_AFTER = 10
# Only the images the engine made are shown inline; anything else (a user's upload) is an attachment.
ENGINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})


class StorageUnavailable(ServiceUnavailable):
    """The remote store refused or could not be reached (connection, credentials, bucket): the client may retry."""


def storage_is_local() -> bool:
    return settings.STORAGE_BACKEND == "local"


@contextmanager
def store_errors() -> Iterator[None]:
    """Turns a remote store's failure (botocore's) into StorageUnavailable, a 503 with Retry-After, not a 500."""
    try:
        yield
    except STORE_ERRORS as exc:
        logger.warning("The file store failed: %s", exc)
        raise StorageUnavailable(STORE_DOWN, retry_after=STORE_DOWN_RETRY_AFTER) from exc


def save_stream(
    *, name: str, stream, max_bytes: int | None = None, inspect: Callable[[Path], Any] | None = None
) -> tuple[str, int, str, Any]:
    """Save a file-like object under `name`, hashing as it goes.

    Returns (storage name, size, sha256, what `inspect` made of the bytes, None without it). `inspect` reads a local
    path: the upload's temporary file, the stored file (local storage) or the temporary file the bytes pass through on
    their way to a remote store, so an upload is never fetched back from the store to be looked at.
    """
    if hasattr(stream, "temporary_file_path"):
        return _save_temporary_upload(name=name, upload=stream, max_bytes=max_bytes, inspect=inspect)
    digest = hashlib.sha256()
    size = 0
    remote = inspect is not None and not storage_is_local()
    # A remote store needs a named file to inspect; otherwise small bodies stay in memory.
    buffer = tempfile.NamedTemporaryFile() if remote else tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    with buffer:
        while chunk := stream.read(COPY_CHUNK):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise ValueError("too large")
            digest.update(chunk)
            buffer.write(chunk)
        buffer.flush()
        inspected = inspect(Path(buffer.name)) if remote else None
        buffer.seek(0)
        with store_errors():
            saved = default_storage.save(name, File(buffer, name=Path(name).name))
    if inspect is not None and not remote:
        inspected = inspect(Path(default_storage.path(saved)))
    return saved, size, digest.hexdigest(), inspected


def _save_temporary_upload(
    *, name: str, upload, max_bytes: int | None, inspect: Callable[[Path], Any] | None
) -> tuple[str, int, str, Any]:
    """An upload that Django has already written to a temporary file: hash it (and inspect it) where it lies, then
    hand that file to storage, which renames it into place when it can (local storage on the same filesystem).

    Copying it through a spool like other streams wrote each byte three times and read it twice: 1 GB uploads ran
    at 60 MB/s on loopback.
    """
    path = Path(upload.temporary_file_path())
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise ValueError("too large")
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
    inspected = inspect(path) if inspect is not None else None
    with store_errors():
        return default_storage.save(name, upload), size, digest.hexdigest(), inspected


@contextmanager
def local_copy(name: str, suffix: str = "") -> Iterator[Path]:
    """A filesystem path holding the stored file: the file itself locally, a temporary copy otherwise."""
    if storage_is_local():
        yield Path(default_storage.path(name))
        return
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with store_errors(), default_storage.open(name, "rb") as src:
            shutil.copyfileobj(src, tmp, COPY_CHUNK)
        tmp.flush()
        yield Path(tmp.name)


class StorageSink:
    """The engine's AssetSink, writing below `tasks/<task_id>/` in Django storage."""

    def __init__(self, prefix: str, keys: list[str] | None = None) -> None:
        self.prefix = prefix.rstrip("/")
        self.keys: list[str] = list(keys or [])

    def put(self, key: str, data: bytes, content_type: str) -> str:
        name = f"{self.prefix}/{key}"
        # A re-run writes the same names: S3Storage overwrites (file_overwrite), so only other stores need the HEAD.
        if not getattr(default_storage, "file_overwrite", False) and default_storage.exists(name):
            default_storage.delete(name)
        saved = default_storage.save(name, ContentFile(data))
        self.keys.append(saved)
        return saved

    def defer(self, key: str, content_type: str) -> str:
        """A lazy page image: recorded (so deleting the task deletes it once made), made by `open_asset`."""
        name = f"{self.prefix}/{key}"
        if default_storage.exists(name):  # a re-run (legacy PATCH) must not serve the previous run's image
            default_storage.delete(name)
        self.keys.append(name)
        return name

    def delete_all(self) -> None:
        for key in self.keys:
            default_storage.delete(key)
        self.keys.clear()


def storage_delete_below(prefix: str, *, keep: set[str] | frozenset[str] = frozenset()) -> int:
    """Delete every stored file below `prefix` except those named in `keep`; how many went. For the files of a job
    that was stopped from outside, whose own sink never got to clean up."""
    prefix = prefix.rstrip("/")
    deleted = 0
    try:
        folders, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for name in files:
        key = f"{prefix}/{name}"
        if key not in keep:
            default_storage.delete(key)
            deleted += 1
    for folder in folders:
        deleted += storage_delete_below(f"{prefix}/{folder}", keep=keep)
    return deleted


def content_type_for(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def url_bucket(shift: int = 0, now: float | None = None) -> int:
    """The number of the TASK_ASSET_URL_BUCKET_SECONDS-long bucket `now` (epoch seconds) falls in.

    `shift` (0 to the bucket length) moves the bucket boundaries of one task's links, so that the cached answers about
    many tasks do not all need rendering again in the same second (tasks_app/presenters.py:url_shift).
    """
    return int(((time.time() if now is None else now) + shift) // TASK_ASSET_URL_BUCKET_SECONDS)


def bucket_expiry(bucket: int, shift: int = 0) -> int:
    """When the task-answer links signed during `bucket` expire (epoch seconds): at least TASK_ASSET_URL_SECONDS
    after any moment of the bucket, at most one bucket more."""
    return (bucket + 1) * TASK_ASSET_URL_BUCKET_SECONDS - shift + TASK_ASSET_URL_SECONDS


class AssetLinker:
    """Signed asset URLs below one base URL. Make one per answer: the route is reversed once, not once per link (a
    listed task links its input and every page image)."""

    def __init__(self, base_url: str) -> None:
        before, after = _asset_route(get_script_prefix(), get_urlconf())
        self._before = base_url.rstrip("/") + before
        self._after = after

    def url(self, name: str, *, expires_at: int, filename: str = "") -> str:
        """A URL that serves a stored file without an API key until `expires_at` (epoch seconds).

        With a remote store: the store's own presigned URL, except for page images, which may not be rendered yet
        (lazy) and so go through our view, which makes them and redirects to the store.
        """
        if not storage_is_local() and not engine.LAZY_PAGE_IMAGE.search(name):
            return _presigned(_url_storage(), name, expires_at, filename)
        return self._before + _asset_token(name, expires_at, filename, settings.SECRET_KEY) + self._after


def asset_url(name: str, *, base_url: str, expires_in: int = TASK_ASSET_URL_SECONDS, filename: str = "") -> str:
    """A URL that serves a stored file for `expires_in` seconds from now without an API key."""
    return AssetLinker(base_url).url(name, expires_at=int(time.time()) + expires_in, filename=filename)


def presigned_url(name: str, *, expires_in: int = TASK_ASSET_URL_SECONDS, filename: str = "") -> str:
    """A remote store's own URL for a stored file, valid `expires_in` seconds: what the asset view redirects to."""
    return _presigned(_url_storage(), name, int(time.time()) + expires_in, filename)


def _url_storage():
    """The storage that signs URLs for clients: the default one, or with S3_PUBLIC_ENDPOINT_URL a twin of it pointed at
    that endpoint (the store reached as http://minio:9000 inside, elsewhere from outside). Presigning makes no request,
    so the web process never needs to reach the public endpoint itself."""
    # The instance itself, not the default_storage proxy: it keys _presigned's cache, which so keeps it alive, and
    # a storage made after a settings change can never share its id.
    return storages[PUBLIC_STORAGE_ALIAS if PUBLIC_STORAGE_ALIAS in settings.STORAGES else "default"]


def asset_content_type(name: str, filename: str = "") -> tuple[str, bool]:
    """(Content type, whether it is shown inline) of a stored file, the same for our view and presigned URLs."""
    content_type = content_type_for(filename or name)
    return content_type, name.startswith("tasks/") and content_type in ENGINE_IMAGE_TYPES


@functools.lru_cache(maxsize=8192)
def _presigned(storage, name: str, expires_at: int, filename: str) -> str:
    """Memoised like `_asset_token`: an answer signed within one bucket links the same URL, valid until `expires_at`
    (SigV4 counts its expiry from the signing time, so the first signing fixes it)."""
    content_type, inline = asset_content_type(name, filename)
    params = {
        "ResponseContentType": content_type,
        "ResponseContentDisposition": content_disposition_header(
            as_attachment=not inline, filename=filename or name.rsplit("/", 1)[-1]
        ),
    }
    return storage.url(name, parameters=params, expire=max(1, expires_at - int(time.time())))


_PLACEHOLDER = "0placeholder0"


@functools.lru_cache(maxsize=8)
def _asset_route(script_prefix: str, urlconf) -> tuple[str, str]:
    """The asset view's path before and after its token, reversed once per script prefix and URLconf.

    A task in a list links a page image per page, so reverse() ran hundreds of times per response and cost more
    than the signatures. Tokens only hold characters that reverse() leaves as they are (A-Z a-z 0-9 - _ .).
    """
    before, after = reverse("asset", kwargs={"token": _PLACEHOLDER}).split(_PLACEHOLDER)
    return before, after


# Asset tokens: base64url("<expires_at>:<len(name)>:<name><filename>") "." base64url(HMAC-SHA256, 128 bits). One
# hmac.digest() per link instead of TimestampSigner's JSON, zlib, base64 and base62 steps (7.5 ms of the 41 a page of
# 100 tasks took), and memoised: links signed with a bucketed expiry repeat for a minute.
_TOKEN_MAC_BYTES = 16


@functools.lru_cache(maxsize=4)
def _token_key(secret: str) -> bytes:
    # Derived like django.utils.crypto.salted_hmac's key, so the bare SECRET_KEY signs nothing here.
    return hashlib.sha256(f"{ASSET_URL_SALT}.v2{secret}".encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=8192)
def _asset_token(name: str, expires_at: int, filename: str, secret: str) -> str:
    payload = f"{expires_at}:{len(name)}:{name}{filename}".encode()
    return _b64(payload) + "." + _b64(hmac.digest(_token_key(secret), payload, "sha256")[:_TOKEN_MAC_BYTES])


def asset_from_token(token: str) -> tuple[str, str]:
    """(storage name, download file name) for a valid, unexpired token.

    Raises signing.BadSignature for anything not signed by us (tampered, malformed, an old-style token) and
    signing.SignatureExpired for a genuine token past its expiry, which the asset view tells apart (404 / 403).
    """
    try:
        body, mac = token.split(".")
        payload, signature = _unb64(body), _unb64(mac)
    except (ValueError, binascii.Error):
        raise signing.BadSignature("Malformed asset token") from None
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]  # a rotated key keeps its links working
    if not any(
        hmac.compare_digest(signature, hmac.digest(_token_key(s), payload, "sha256")[:_TOKEN_MAC_BYTES])
        for s in secrets
    ):
        raise signing.BadSignature("Asset token signature does not match")
    try:
        expires_at, length, rest = payload.decode().split(":", 2)
        expires_at, length = int(expires_at), int(length)
    except ValueError:  # signed by us, so never; but a bad token must stay a 404, not a 500
        raise signing.BadSignature("Malformed asset token") from None
    if time.time() > expires_at:
        raise signing.SignatureExpired(f"Asset token expired at {expires_at}")
    return rest[:length], rest[length:]


def open_asset(name: str):
    """Open a stored asset for reading, rendering a lazy page image first if it has not been made yet."""
    with store_errors():
        try:
            return default_storage.open(name, "rb")
        except FileNotFoundError:
            _render_lazy_page_image(name)
        return default_storage.open(name, "rb")


def asset_available(name: str) -> bool:
    """Whether a stored asset exists, rendering a lazy page image into the store first if it has not been made yet.
    For a remote store, whose URLs clients then fetch themselves."""
    with store_errors():
        if default_storage.exists(name):
            return True
        try:
            _render_lazy_page_image(name)
        except FileNotFoundError:
            return False
        return True


def _render_lazy_page_image(name: str) -> None:
    """Make a lazy page image (engine ParseOptions.page_images = "lazy"), or raise FileNotFoundError.

    They are named `tasks/<id>/pages/0001-144dpi.png` and rendered from the task's `document.pdf`. Locally the file
    is written atomically; a remote store's PUT is atomic itself. Two requests racing both write the same bytes.
    """
    match = engine.LAZY_PAGE_IMAGE.search(name)
    if match is None:
        raise FileNotFoundError(name)
    pdf_name = name[: match.start()] + "/document.pdf"
    number, dpi = int(match.group(1)), int(match.group(2))
    if not storage_is_local():
        with local_copy(pdf_name, suffix=".pdf") as pdf_path:  # FileNotFoundError when the PDF is gone
            png = _render(pdf_path, number, dpi, name)
        default_storage.save(name, ContentFile(png))  # S3Storage overwrites: the name stays
        return
    pdf_path = Path(default_storage.path(pdf_name))
    if not pdf_path.is_file():
        raise FileNotFoundError(name)
    png = _render(pdf_path, number, dpi, name)
    target = Path(default_storage.path(name))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as tmp:
        tmp.write(png)
    Path(tmp.name).replace(target)


def _render(pdf_path: Path, number: int, dpi: int, name: str) -> bytes:
    try:
        return engine.render_page_png(pdf_path, number, dpi)
    except Exception as exc:  # noqa: BLE001 - a page MuPDF cannot render is a missing asset, not a 500
        raise FileNotFoundError(name) from exc


def data_url(name: str, content_type: str | None = None) -> str:
    with open_asset(name) as fh:
        payload = base64.b64encode(fh.read()).decode("ascii")
    return f"data:{content_type or content_type_for(name)};base64,{payload}"

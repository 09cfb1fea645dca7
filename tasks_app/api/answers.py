"""The answer about one task (GET /tasks/{id}[/parse|/extract], legacy GET /task/{id}, GET /job/{id}), rendered once.

An answer shows the task's row, its input file and, once it succeeded, its output; its signed links are the same for
every answer within one URL bucket (services/storage.py). So the rendered JSON is kept per process and served again
as bytes: the output is not read, decoded, presented, validated or encoded again, which was all but ~2 ms of the
answer's cost (docs/BENCHMARKS.md, "REST API"). The key holds a digest of every row field the answer shows
(task_version), so a progress message, a cancel, a legacy re-run, an expiry change or the input file's deletion makes
a new key at once, and never a stale answer.

Polls are served early (cached_answer, from CachedAnswerMiddleware): one query checks the API key, finds the task in
the key's workspace and reads the row the key is computed from; on a hit nothing else runs. What is never skipped:
that query, on every request (a revoked key: 401, another workspace's task, an expired or deleted one: 404, from the
whole stack, which every miss or doubt falls through to).

The cache is a byte-bounded LRU (CHUNKR_API_CACHE_MB per web process, 0 turns it off), not Redis: a hit is a dict
lookup, where Django's Redis cache took 0.4 ms (p99 3.8 ms) to fetch 300 KB on the same two cores.
"""

from __future__ import annotations

import gzip
import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from tasks_app import selectors
from tasks_app.api.auth import LAST_USED_RESOLUTION, key_secret
from tasks_app.api.renderers import CONTENT_TYPE, json_bytes
from tasks_app.api.schemas import JobOut, TaskOut
from tasks_app.choices import TaskStatus, TaskType
from tasks_app.models import Task
from tasks_app.presenters import base_url, job_to_dict, task_to_dict, task_version, url_shift
from tasks_app.services.api_keys import api_key_digest
from tasks_app.services.retention import zdr_note_fetched
from tasks_app.services.storage import storage_is_local, url_bucket

V2, LEGACY, JOB = "v2", "legacy", "job"
# One answer may take at most this share of the cache, so that a huge document does not push out everything else.
MAX_ENTRY_SHARE = 8


class AnswerCache:
    """Rendered answers by key, least recently used evicted first, at most `max_bytes` of bodies. Thread-safe (gunicorn
    serves with threads). The bound is passed on each put, so a changed setting applies from the next answer."""

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, *, count_miss: bool = True) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is None:
                self.misses += count_miss
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: Hashable, body: bytes, *, max_bytes: int) -> None:
        if len(body) > max_bytes // MAX_ENTRY_SHARE:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.nbytes -= len(previous)
            self._entries[key] = body
            self.nbytes += len(body)
            while self.nbytes > max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.nbytes -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.nbytes = self.hits = self.misses = 0


answer_cache = AnswerCache()


def _key(request, task: Task, *, surface: str, include_chunks: bool, base64_urls: bool, bucket: int) -> tuple | None:
    """The cache key of an answer about `task`, or None when it is not to be kept: a remote store (S3) presigns its
    own links per request, with its own expiry. Unfinished tasks are kept too: what their answer shows is all in the
    row, so task_version changes with it (a progress message makes a new key), and they are what clients poll."""
    if not settings.CHUNKR_API_CACHE_BYTES or not (base64_urls or storage_is_local()):
        return None
    return (
        surface,
        task.pk,
        task_version(task),
        include_chunks,
        base64_urls,
        base_url(request),
        None if base64_urls else bucket,  # inline (data:) assets never expire
    )


def _render(request, task: Task, *, surface: str, include_chunks: bool, base64_urls: bool, output, bucket) -> bytes:
    """What ninja does with a handler's dict: validate it with the route's response schema, dump it, render it."""
    options = {"include_chunks": include_chunks, "base64_urls": base64_urls, "output": output, "bucket": bucket}
    if surface == JOB:
        data = JobOut.model_validate(job_to_dict(task, request=request, **options)).model_dump()
    else:
        answer = task_to_dict(task, request=request, legacy=surface == LEGACY, **options)
        data = TaskOut.model_validate(answer).model_dump()
    return json_bytes(data)


def task_answer(request, task: Task, *, surface: str, include_chunks: bool, base64_urls: bool) -> HttpResponse:
    """The JSON answer about `task`, which the caller has looked up in the request's workspace (selectors.task_get)."""
    bucket = url_bucket(url_shift(task))
    key = _key(request, task, surface=surface, include_chunks=include_chunks, base64_urls=base64_urls, bucket=bucket)
    if key is not None:
        body = answer_cache.get(key)
        if body is not None:
            note_fetched(task)
            return _response(request, body, key)
    output: dict | None | bool = False  # task_to_dict reads it (Failed, Cancelled: none)
    if task.status == TaskStatus.SUCCEEDED:
        output = selectors.task_output(task=task, include_chunks=include_chunks)
        if output is None:  # finished again since the row was read, or never stored: answer it, keep nothing
            key, output = None, False
    body = _render(
        request,
        task,
        surface=surface,
        include_chunks=include_chunks,
        base64_urls=base64_urls,
        output=output,
        bucket=bucket,
    )
    if key is not None:
        answer_cache.put(key, body, max_bytes=settings.CHUNKR_API_CACHE_BYTES)
    note_fetched(task)
    return _response(request, body, key)


def note_fetched(task: Task) -> None:
    """Zero data retention: a finished ZDR task's result has just been answered, so its content may go now
    (services/retention.py). Read from the row in hand: no query for the tasks without ZDR."""
    if task.zdr and task.zdr_deleted_at is None and task.completed:
        zdr_note_fetched(task.pk)


def accepts_gzip(request) -> bool:
    """Whether Accept-Encoding admits gzip (RFC 9110 §12.5.3): named, or `*`, with a q-value above 0."""
    header = request.META.get("HTTP_ACCEPT_ENCODING", "").lower()
    if "gzip" not in header and "*" not in header:
        return False
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[coding.strip()] = q
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


def _response(request, body: bytes, key: tuple | None) -> HttpResponse:
    """The answer `body`, gzipped when the client accepts it and the answer is cached (the official clients all ask;
    a 300 KB answer is ~50 KB): compressed once, kept beside it under its own key, so a poll never pays for it. An
    answer that is not kept goes as it is, rather than be compressed on every request.

    The headers are the ones the whole stack gives (cached_answer's responses skip the middleware): the length, which
    CommonMiddleware would set, and Vary, which SessionMiddleware extends with Cookie."""
    headers = {"Vary": "Accept-Encoding, Cookie"}
    if key is not None and accepts_gzip(request):
        gzip_key = (*key, "gzip")
        compressed = answer_cache.get(gzip_key, count_miss=False)
        if compressed is None:
            compressed = gzip.compress(body, compresslevel=6, mtime=0)
            answer_cache.put(gzip_key, compressed, max_bytes=settings.CHUNKR_API_CACHE_BYTES)
        body = compressed
        headers["Content-Encoding"] = "gzip"
    headers["Content-Length"] = str(len(body))
    return HttpResponse(body, content_type=CONTENT_TYPE, headers=headers)


# The routes whose answers cached_answer serves: url name -> (surface, task type the route requires).
_CACHED_ROUTES = {
    "task_get": (V2, None),
    "parse_task_get": (V2, TaskType.PARSE),
    "extract_task_get": (V2, TaskType.EXTRACT),
    "legacy_get": (LEGACY, None),
    "job_get": (JOB, None),
}
_FLAGS = {"include_chunks": True, "base64_urls": False}  # the routes' query parameters and their defaults
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def cached_answer(request) -> HttpResponse | None:
    """The cached answer to a GET of one task (the routes in _CACHED_ROUTES), served before Django's middleware and
    ninja run (CachedAnswerMiddleware); None for anything else, or whenever in doubt, and the request then goes the
    whole way, which answers the same or better (401, 404, 400) and fills the cache.

    One query stands for the key lookup, the workspace-scoped task lookup and the last-used check
    (selectors.task_for_key); expiry and the route's task type are checked as task_get and the routes check them; the
    cache key is the one task_answer computes from the same row. A poll of a finished task cost ≈ 2.6 ms in-process
    through the whole stack, most of it the ORM building those two queries; this way it is ≈ 0.8 ms, the query
    (a round trip) half of it."""
    if request.method != "GET" or not settings.CHUNKR_API_CACHE_BYTES:
        return None
    secret = key_secret(request.META.get("HTTP_AUTHORIZATION"))
    if not secret:
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    route = _CACHED_ROUTES.get(match.url_name) if match.namespace == "api" else None
    if route is None:
        return None
    flags = dict(_FLAGS)
    for name, values in request.GET.lists():
        value = _BOOLEANS.get(values[0]) if name in flags and len(values) == 1 else None
        if value is None:
            return None  # an unknown or repeated parameter, or a spelling ninja would parse or refuse: its call
        flags[name] = value
    try:
        task_id = uuid.UUID(next(iter(match.kwargs.values())))
    except ValueError:
        return None
    used_since = timezone.now() - LAST_USED_RESOLUTION
    # Django checks a reused connection with a SELECT 1 before a request's first query (CONN_HEALTH_CHECKS), a
    # round trip as long as this whole lookup; here the lookup is the check. If it fails, the check is marked undone
    # and the request goes the whole way, where Django checks the connection and reconnects.
    connection.health_check_done = True
    try:
        found = selectors.task_for_key(digest=api_key_digest(secret), task_id=task_id, used_since=used_since)
    except DatabaseError:
        connection.health_check_done = False
        return None
    surface, task_type = route
    if found is None or not found.key_marked_used or found.task.is_expired:
        return None
    task = found.task
    if task_type is not None and task.task_type != task_type:
        return None
    try:
        key = _key(request, task, surface=surface, bucket=url_bucket(url_shift(task)), **flags)
    except DisallowedHost:
        return None
    body = answer_cache.get(key, count_miss=False) if key is not None else None
    if body is None:
        return None
    note_fetched(task)
    return _response(request, body, key)


def tasks_answer(
    request, tasks: list[Task], *, include_chunks: bool, base64_urls: bool, has_more: bool, next_cursor: str | None
) -> HttpResponse:
    """A page of GET /tasks: each task exactly as GET /tasks/{id} with the same flags answers it, so the two share
    cached answers; only the tasks missing from the cache are read (their outputs in one query) and rendered.

    A list page of 100 finished tasks cost ≈ 29 ms in-process, of which reading, decoding, presenting and validating
    the page's outputs was half; served from the cache it is the page's row query and the version digests.
    """
    bodies: list[bytes | None] = []
    keys: list[tuple | None] = []
    buckets: list[int] = []
    for task in tasks:
        bucket = url_bucket(url_shift(task))
        key = _key(request, task, surface=V2, include_chunks=include_chunks, base64_urls=base64_urls, bucket=bucket)
        bodies.append(answer_cache.get(key) if key is not None else None)
        keys.append(key)
        buckets.append(bucket)
    missing = [t for t, body in zip(tasks, bodies, strict=True) if body is None]
    outputs = selectors.task_outputs_as_read(
        tasks=[t for t in missing if t.status == TaskStatus.SUCCEEDED], include_chunks=include_chunks
    )
    for i, task in enumerate(tasks):
        if bodies[i] is not None:
            continue
        key, output = keys[i], outputs.get(task.pk)
        if task.status == TaskStatus.SUCCEEDED and output is None:
            key = None  # finished again since the row was read, or never stored: answer it, keep nothing
        bodies[i] = _render(
            request,
            task,
            surface=V2,
            include_chunks=include_chunks,
            base64_urls=base64_urls,
            output=output,
            bucket=buckets[i],
        )
        if key is not None:
            answer_cache.put(key, bodies[i], max_bytes=settings.CHUNKR_API_CACHE_BYTES)
    for task in tasks:
        note_fetched(task)
    body = b"".join(
        (
            b'{"tasks":[',
            b",".join(bodies),  # type: ignore[arg-type] - every entry is filled above
            b'],"has_more":',
            json_bytes(has_more),
            b',"next_cursor":',
            json_bytes(next_cursor),
            b"}",
        )
    )
    return HttpResponse(body, content_type=CONTENT_TYPE)

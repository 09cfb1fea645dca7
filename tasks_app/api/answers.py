"""The answer about one task (GET /tasks/{id}[/parse|/extract], legacy GET /task/{id}, GET /job/{id}), rendered once.

A finished task (Succeeded, Failed, Cancelled) keeps its output, and its signed links are the same for every answer
within one URL bucket (services/storage.py), so the rendered JSON is kept per process and served again as bytes: the
output is not read, decoded, presented, validated or encoded again, which was all but ~2 ms of the answer's cost
(docs/BENCHMARKS.md, "REST API").

What is never skipped: the API key, and the task looked up in the key's workspace (another workspace's task, an
expired or deleted one: 404) on every request; that query reads the row and its input file, not the output, which
lives in its own table. The key holds a digest of every row field the answer shows (task_version), so a cancel, a
legacy re-run, an expiry change or the input file's deletion makes a new key at once, and never a stale answer.

The cache is a byte-bounded LRU (CHUNKR_API_CACHE_MB per web process, 0 turns it off), not Redis: a hit is a dict
lookup, where Django's Redis cache took 0.4 ms (p99 3.8 ms) to fetch 300 KB on the same two cores.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from django.conf import settings
from django.http import HttpResponse

from tasks_app import selectors
from tasks_app.api.presenters import base_url, job_to_dict, task_to_dict, task_version, url_shift
from tasks_app.api.renderers import CONTENT_TYPE, json_bytes
from tasks_app.api.schemas import JobOut, TaskOut
from tasks_app.choices import TaskStatus
from tasks_app.models import Task
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

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is None:
                self.misses += 1
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
    """The cache key of an answer about `task`, or None when it is not to be kept: unfinished tasks change, and a
    remote store (S3) presigns its own links per request, with its own expiry."""
    if not settings.CHUNKR_API_CACHE_BYTES or not task.completed or not (base64_urls or storage_is_local()):
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
            return HttpResponse(body, content_type=CONTENT_TYPE)
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
    return HttpResponse(body, content_type=CONTENT_TYPE)


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

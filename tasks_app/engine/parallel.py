"""Pages of long documents processed in batches across a pool of processes, to use every core.

Layout analysis is CPU-bound Python plus ONNX inference, so threads do not help; processes do. Each
document gets its own pool, started with `spawn` (safe beside threads, and from Celery's daemonic prefork
children) and shut down when the document is done: nothing lingers in an idle worker, and no pool outlives the
process that started it. The price is loading the layout models once per pool process per document (about a
second, in parallel), which is why short documents stay in-process.

Batches are submitted in page order with a bounded number in flight, and their results are handed back in
page order, so memory stays flat and progress reports stay monotonic. Assets made in a pool process travel back
as bytes and are stored by the caller's sink in the parent (sinks, e.g. Django storage, stay in one process).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tasks_app.engine_threads import limit_threads

from .errors import Cancelled, EngineError

if TYPE_CHECKING:
    from .pipeline import PageJob, PageOutcome

POOL_MIN_PAGES = 12  # below this, starting work in other processes costs more than it saves
# Page segmentation with lazy page images runs at > 100 pages/s in one process, while a spawned pool process needs
# 2–3 s to start (it loads PyMuPDF and the layout models): a pool only pays off for very long documents.
POOL_MIN_LIGHT_PAGES = 400
BATCH_PAGES = 4  # pages per pool job: small enough for prompt cancellation and even load


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """One pool process per two cores: a single parse already keeps about two cores busy (ONNX Runtime's and
    OpenBLAS's threads), so on a 2-core machine a pool only adds start-up cost (docs/BENCHMARKS.md)."""
    return max(1, _cores() // 2)


def workers_for(total_pages: int, requested: int, *, has_sheets: bool, light: bool = False) -> int:
    """How many processes to use for a document: 1 means the plain in-process loop. `light`: little work per page
    (Page segmentation, no page images to encode), so start-up costs weigh more."""
    if has_sheets or requested <= 1 or total_pages < (POOL_MIN_LIGHT_PAGES if light else POOL_MIN_PAGES):
        return 1
    return min(requested, -(-total_pages // BATCH_PAGES))


class _CollectSink:
    """The sink inside a pool process: keeps the bytes to send back to the parent (None for a deferred asset)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes | None, str]] = []

    def put(self, key: str, data: bytes, content_type: str) -> str:
        self.items.append((key, data, content_type))
        return key

    def defer(self, key: str, content_type: str) -> str:
        self.items.append((key, None, content_type))
        return key


def _run_batch(pdf_path: str, indices: list[int], job: PageJob) -> list[PageOutcome]:
    """In a pool process: process `indices` of the PDF at `pdf_path`; assets come back as bytes."""
    import pymupdf

    from .pipeline import process_page

    outcomes = []
    doc = pymupdf.open(pdf_path, filetype="pdf")
    try:
        for index in indices:
            sink = _CollectSink()
            outcome = process_page(doc, index, job, None, sink)
            outcomes.append(replace(outcome, assets=sink.items))
    finally:
        doc.close()
    return outcomes


def _allow_children() -> None:
    """Celery's prefork children are marked daemonic, and multiprocessing refuses to start processes from a
    daemonic one (the rule exists so that orphans cannot outlive a killed daemon). Our pool processes exit on
    their own when their parent goes (their call queue closes), so the rule is lifted for this process."""
    current = multiprocessing.current_process()
    if current.daemon:
        current._config["daemon"] = False  # noqa: SLF001 - no public way to clear it after start
    key = current._config.get("authkey")  # noqa: SLF001
    if type(key) is not multiprocessing.process.AuthenticationString:
        # billiard (Celery's fork of multiprocessing) leaves its own key type here, which spawn cannot pickle.
        current._config["authkey"] = multiprocessing.process.AuthenticationString(  # noqa: SLF001
            bytes(key) if key else os.urandom(32)
        )


def run_pages(
    source: bytes | str | Path,
    total: int,
    job: PageJob,
    workers: int,
    should_cancel: Callable[[], bool] | None = None,
) -> Iterator[PageOutcome]:
    """Process all `total` pages of the PDF `source` (a path, or the PDF's bytes) across `workers` processes,
    yielding the outcomes in page order."""
    with tempfile.TemporaryDirectory(prefix="chunkr-pages-") as tmp:
        if isinstance(source, bytes):
            pdf_path = Path(tmp) / "document.pdf"
            pdf_path.write_bytes(source)
        else:
            pdf_path = Path(source)
        batches = [list(range(i, min(i + BATCH_PAGES, total))) for i in range(0, total, BATCH_PAGES)]
        _allow_children()
        executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=limit_threads,
            initargs=(max(1, _cores() // workers),),  # threads per process: the pool shares the cores
        )
        in_flight: deque[Future] = deque()
        try:
            queued = iter(batches)
            for batch in queued:
                in_flight.append(executor.submit(_run_batch, str(pdf_path), batch, job))
                if len(in_flight) >= workers * 2:
                    break
            while in_flight:
                if should_cancel and should_cancel():
                    raise Cancelled()
                done = in_flight.popleft()
                try:
                    outcomes = done.result()
                except BrokenProcessPool as exc:
                    raise EngineError(
                        "A page-processing process stopped unexpectedly (out of memory?). Try again, or split the "
                        "document."
                    ) from exc
                nxt = next(queued, None)
                if nxt is not None:
                    in_flight.append(executor.submit(_run_batch, str(pdf_path), nxt, job))
                yield from outcomes
        finally:
            # Running batches finish (at most BATCH_PAGES pages each) before the input file goes away.
            executor.shutdown(wait=True, cancel_futures=True)

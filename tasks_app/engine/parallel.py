"""Pages of long documents processed in batches by this process and helper processes, to use every core.

Layout analysis is CPU-bound Python plus ONNX inference, so threads do not help; processes do. Each
document gets its own helpers, started with `spawn` (safe beside threads, and from Celery's daemonic prefork
children), which stop when the document is done: nothing lingers in an idle worker, and no helper outlives the
process that started it. The price is loading PyMuPDF and the layout models once per helper per document (2-3 s
of one core), which is why short documents stay in-process; the calling process works on pages from the start,
so the first page comes no later than without helpers.

Whoever is free takes the next batch; results are handed back in page order with a bounded number of batches
taken ahead, so memory stays flat and progress reports stay monotonic. Assets made in a batch travel back as
bytes and are stored by the caller's sink in the parent (sinks, e.g. Django storage, stay in one process).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle  # noqa: S403 - between our own processes
import queue
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pymupdf

from tasks_app.engine_threads import run_limited

from .errors import Cancelled, EngineError
from .pages import PageJob, PageOutcome, ocr_ahead, prepare_page, process_page

BATCH_PAGES = 4  # pages per pool job: small enough for prompt cancellation and even load
# Below this, a helper's start-up costs more than it saves: LayoutAnalysis on generated two-column pages, one
# process against one with a helper, took 2.2 vs 2.5 s (12 pages), 2.3 vs 2.8 (16), 3.2 vs 3.2 (24), 5.8 vs 4.8 (40).
POOL_MIN_PAGES = 32
# Scanned pages cost a second or more each (OCR), so a helper pays off from the second batch: 20 scanned pages
# 24.2 → 16.5 s, 12 pages 15.7 → 10.6 s, 8 pages 11.1 → 8.7 s.
POOL_MIN_SCANNED_PAGES = 2 * BATCH_PAGES
# Page segmentation with lazy page images runs at > 100 pages/s in one process, while a spawned pool process needs
# 2–3 s to start (it loads PyMuPDF and the layout models): a pool only pays off for very long documents.
POOL_MIN_LIGHT_PAGES = 400
# Helpers run at the lowest priority: they take the cores this process leaves idle, and their start-up (loading
# PyMuPDF and the models) does not hold back its first pages. On two cores, against helpers at normal priority:
# LayoutAnalysis 8.3 → 9.8 pages/s, first page 0.69 → 0.39 s; OCR All 18.3 → 16.5 s for 20 pages, first page
# 3.0 → 1.8 s. The work is the same either way; the parent is what hands pages on in order.
HELPER_NICE = 19


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """One process per core, this one included. Two single-threaded processes on two cores parse 8.9-9.2 pages/s
    where one process with two ONNX threads parses 6.3-6.4 (docs/BENCHMARKS.md): the model's Python half runs
    on one core at a time, so a second process fills the gaps threads leave."""
    return _cores()


def workers_for(
    total_pages: int, requested: int, *, has_sheets: bool, light: bool = False, scanned: bool = False
) -> int:
    """How many processes to use for a document: 1 means the plain in-process loop. `light`: little work per page
    (Page segmentation, no page images to encode), so start-up costs weigh more; `scanned`: pages that need OCR,
    so they weigh less."""
    least = POOL_MIN_LIGHT_PAGES if light else POOL_MIN_SCANNED_PAGES if scanned else POOL_MIN_PAGES
    if has_sheets or requested <= 1 or total_pages < least:
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


def _batch_outcomes(
    pdf_path: str, indices: list[int], job: PageJob, should_cancel: Callable[[], bool] | None = None
) -> Iterator[PageOutcome]:
    """Process `indices` of the PDF at `pdf_path`, one outcome per page as it is done; assets come back as bytes
    (the caller's sink stores them). As in the in-process loop, a page that needs OCR has it started in a thread
    while the page before it goes through layout analysis."""
    doc = pymupdf.open(pdf_path, filetype="pdf")
    ocr_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr-ahead")
    ahead = None
    try:
        for position, index in enumerate(indices):
            if should_cancel and position and should_cancel():
                raise Cancelled()
            current = ahead if ahead is not None else prepare_page(doc, index, job, None)
            ahead = None
            if ocr_ahead(current, index) and position + 1 < len(indices):
                ahead = prepare_page(doc, indices[position + 1], job, None, ocr_pool)
            sink = _CollectSink()
            outcome = process_page(doc, index, job, None, sink, current)
            yield replace(outcome, assets=sink.items)
    finally:
        ocr_pool.shutdown(wait=False, cancel_futures=True)
        doc.close()


def _allow_children() -> None:
    """Celery's prefork children are marked daemonic, and multiprocessing refuses to start processes from a
    daemonic one (the rule exists so that orphans cannot outlive a killed daemon). Our helpers end when their parent
    does (engine_threads._die_with_parent, and a check between batches), so the rule is lifted for this process."""
    current = multiprocessing.current_process()
    if current.daemon:
        current._config["daemon"] = False  # noqa: SLF001 - no public way to clear it after start
    key = current._config.get("authkey")  # noqa: SLF001
    if type(key) is not multiprocessing.process.AuthenticationString:
        # billiard (Celery's fork of multiprocessing) leaves its own key type here, which spawn cannot pickle.
        current._config["authkey"] = multiprocessing.process.AuthenticationString(  # noqa: SLF001
            bytes(key) if key else os.urandom(32)
        )


@dataclass(frozen=True, slots=True)
class _Work:
    """What a helper process needs to know (pickled once, unpickled after its thread limits are set)."""

    pdf_path: str
    job: PageJob
    pages: range


def _batch_count(pages: range) -> int:
    return -(-len(pages) // BATCH_PAGES)


def _batch_pages(number: int, pages: range) -> list[int]:
    return list(pages[number * BATCH_PAGES : (number + 1) * BATCH_PAGES])


def _claim(counter: Any, batches: int) -> int | None:
    """The next batch nobody has taken yet, taken; None when all are."""
    with counter.get_lock():
        number = counter.value
        if number >= batches:
            return None
        counter.value = number + 1
        return number


def _portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling (our EngineErrors do), else an EngineError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes
    except Exception:  # noqa: BLE001
        return EngineError(f"Page processing failed ({type(exc).__name__}: {exc})")
    return exc


def _helper_main(work: _Work, counter: Any, window: Any, results: Any, stop: Any) -> None:
    """A helper process: take batches until none is left (or the parent says stop), sending each batch's outcomes
    back. `window` bounds the batches taken but not yet handed on by the parent, so memory stays flat however far
    ahead the helpers could run."""
    batches = _batch_count(work.pages)
    parent = multiprocessing.parent_process()
    while not stop.is_set():
        if parent is not None and not parent.is_alive():
            results.cancel_join_thread()  # do not wait, on exiting, to write results nobody will read
            return
        if not window.acquire(timeout=0.2):
            continue
        number = _claim(counter, batches)
        if number is None:
            window.release()
            return
        try:
            # Pickled here, not in the queue's feeder thread, where a failure would only be printed and the batch lost.
            outcomes = pickle.dumps(list(_batch_outcomes(work.pdf_path, _batch_pages(number, work.pages), work.job)))
        except BaseException as exc:  # noqa: BLE001 - the parent raises it
            results.put((number, None, _portable(exc)))
            return
        results.put((number, outcomes, None))


def run_pages(
    source: bytes | str | Path,
    pages: range,
    job: PageJob,
    workers: int,
    should_cancel: Callable[[], bool] | None = None,
) -> Iterator[PageOutcome]:
    """Process the `pages` (0-based indexes, in order) of the PDF `source` (a path, or the PDF's bytes) in this process
    and `workers - 1` helper processes, yielding the outcomes in page order.

    Pages go in batches of BATCH_PAGES, and whoever is free takes the next one: this process starts on the first
    batch at once (the helpers need 2-3 s to load PyMuPDF and the layout models, so the first page is no later than
    in-process), and while the batch it must hand on next is still in a helper's hands it takes another one rather
    than wait. A helper that dies (killed for memory, say) fails the parse with a message instead of hanging it.
    """
    batches = _batch_count(pages)
    with tempfile.TemporaryDirectory(prefix="chunkr-pages-") as tmp:
        if isinstance(source, bytes):
            pdf_path = Path(tmp) / "document.pdf"
            pdf_path.write_bytes(source)
        else:
            pdf_path = Path(source)
        _allow_children()
        ctx = multiprocessing.get_context("spawn")
        counter = ctx.Value("i", 0)
        window = ctx.Semaphore(2 * workers + 1)
        results = ctx.Queue()
        stop = ctx.Event()
        payload = pickle.dumps(_Work(str(pdf_path), job, pages))
        threads = max(1, _cores() // workers)  # the helpers share the cores with this process
        helpers = [
            ctx.Process(
                target=run_limited,
                args=(threads, HELPER_NICE, f"{__name__}:_helper_main", payload, counter, window, results, stop),
                name=f"chunkr-pages-{n + 1}",
                daemon=True,
            )
            for n in range(workers - 1)
        ]
        for helper in helpers:
            helper.start()
        ready: dict[int, list[PageOutcome]] = {}
        try:
            for number in range(batches):
                streamed = False
                while number not in ready and not streamed:
                    if should_cancel and should_cancel():
                        raise Cancelled()
                    if _take_result(results, ready, timeout=0):
                        continue
                    if window.acquire(block=False):  # nothing to hand on yet: work instead of waiting
                        mine = _claim(counter, batches)
                        if mine == number:  # the batch due next: each page is handed on as soon as it is done
                            yield from _batch_outcomes(str(pdf_path), _batch_pages(mine, pages), job, should_cancel)
                            streamed = True
                            continue
                        if mine is not None:
                            batch = _batch_outcomes(str(pdf_path), _batch_pages(mine, pages), job, should_cancel)
                            ready[mine] = list(batch)
                            continue
                        window.release()  # every batch is taken: wait for the helper that has this one
                    if not _take_result(results, ready, timeout=0.2):
                        _check_helpers(helpers, results, ready)
                if not streamed:
                    yield from ready.pop(number)
                window.release()
        finally:
            stop.set()
            _stop_helpers(helpers, results)


def _take_result(results: Any, ready: dict[int, list[PageOutcome]], *, timeout: float) -> bool:
    try:
        number, outcomes, error = results.get(timeout=timeout) if timeout else results.get_nowait()
    except queue.Empty:
        return False
    if error is not None:
        raise error
    ready[number] = pickle.loads(outcomes)  # noqa: S301 - from our own helper
    return True


def _check_helpers(helpers: list[Any], results: Any, ready: dict[int, list[PageOutcome]]) -> None:
    """Called while waiting for a batch a helper took: fail rather than wait for one that cannot come."""
    crashed = any(helper.exitcode not in (None, 0) for helper in helpers)
    # A helper that ended normally wrote its results out before exiting: with all of them gone, what is not in the
    # queue now never will be.
    if crashed or (all(h.exitcode is not None for h in helpers) and not _take_result(results, ready, timeout=1.0)):
        raise EngineError(
            "A page-processing process stopped unexpectedly (out of memory?). Try again, or split the document."
        )


def _stop_helpers(helpers: list[Any], results: Any) -> None:
    """Stop the helpers now. After the last page none holds work (one may still be starting up); after a cancel or
    an error what they hold is not wanted. Their Tesseract runs end on their own, within OCR's time limit."""
    for helper in helpers:
        if helper.is_alive():
            helper.terminate()
    for helper in helpers:
        helper.join(timeout=5)
        if helper.is_alive():
            helper.kill()
            helper.join(timeout=5)
    results.close()

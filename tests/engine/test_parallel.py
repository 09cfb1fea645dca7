"""Long documents spread over a process pool give the same result as the in-process loop."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from tasks_app.engine import Cancelled, EngineError, MemorySink, ParseConfig, ParseOptions, parallel, parse_document
from tasks_app.engine.config import EngineLimits
from tasks_app.engine.errors import PageTimeout
from tasks_app.engine.parallel import BATCH_PAGES, HELPER_NICE, POOL_MIN_PAGES, default_workers, workers_for
from tests.engine.conftest import BASE_CONFIG
from tests.engine.docs import scanned_chapters_pdf, structured_pdf

PAGES = POOL_MIN_PAGES + 2


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory):
    return structured_pdf(tmp_path_factory.mktemp("parallel") / "long.pdf", pages=PAGES)


def parse(path, workers: int, **cfg):
    sink = MemorySink()
    options = ParseOptions(config=ParseConfig.from_dict({**BASE_CONFIG, **cfg}), workers=workers)
    return parse_document(path, options, sink), sink


def summary(result):
    return [(s.page_number, s.segment_type, s.text) for c in result.chunks for s in c.segments]


def test_workers_are_used_only_for_long_documents():
    assert workers_for(POOL_MIN_PAGES - 1, 4, has_sheets=False) == 1
    # No more processes than batches.
    assert workers_for(POOL_MIN_PAGES, 100, has_sheets=False) == POOL_MIN_PAGES // BATCH_PAGES
    assert workers_for(200, 2, has_sheets=False) == 2
    assert workers_for(200, 2, has_sheets=True) == 1  # spreadsheets read their cells in-process
    assert workers_for(200, 1, has_sheets=False) == 1
    # Scanned pages (OCR) pay for a helper's start-up from the second batch.
    assert workers_for(2 * BATCH_PAGES - 1, 2, has_sheets=False, scanned=True) == 1
    assert workers_for(2 * BATCH_PAGES, 2, has_sheets=False, scanned=True) == 2
    # Page segmentation without page images to encode is faster in one process than a pool's start-up.
    assert workers_for(200, 4, has_sheets=False, light=True) == 1
    assert workers_for(1000, 4, has_sheets=False, light=True) == 4


@pytest.mark.parametrize("strategy", ["Page", "LayoutAnalysis"])
def test_pool_output_matches_the_in_process_loop(long_pdf, strategy):
    serial, serial_sink = parse(long_pdf, 1, segmentation_strategy=strategy)
    pooled, pooled_sink = parse(long_pdf, 2, segmentation_strategy=strategy)

    assert pooled.page_count == serial.page_count == PAGES
    assert [p.page_number for p in pooled.pages] == list(range(1, PAGES + 1))
    assert summary(pooled) == summary(serial)
    assert "Annual Results Overview" in " ".join(t for _, _, t in summary(pooled))
    # Page images travel back from the pool processes and land in the caller's sink, byte for byte.
    pages_of = lambda sink: sorted(k for k in sink.items if k.startswith("pages/"))  # noqa: E731
    assert pages_of(pooled_sink) == pages_of(serial_sink) == sorted(p.image for p in serial.pages)
    assert len(pooled_sink.items) == len(serial_sink.items)  # crops too (their keys hold random segment ids)
    for key in (p.image for p in pooled.pages):
        assert pooled_sink.items[key] == serial_sink.items[key]


def test_progress_is_reported_in_page_order(long_pdf):
    seen = []
    options = ParseOptions(config=ParseConfig.from_dict({**BASE_CONFIG, "segmentation_strategy": "Page"}), workers=2)
    parse_document(long_pdf, options, MemorySink(), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(n, PAGES) for n in range(1, PAGES + 1)]


def test_cancel_stops_the_pool_and_the_pool_works_afterwards(long_pdf):
    calls = []

    def should_cancel():
        calls.append(1)
        return len(calls) > 2

    options = ParseOptions(config=ParseConfig.from_dict({**BASE_CONFIG, "segmentation_strategy": "Page"}), workers=2)
    with pytest.raises(Cancelled):
        parse_document(long_pdf, options, MemorySink(), should_cancel=should_cancel)

    again, _ = parse(long_pdf, 2, segmentation_strategy="Page")
    assert again.page_count == PAGES


def _parse_in_child(path: str, queue) -> None:
    try:
        result, _ = parse(path, 2, segmentation_strategy="Page")
        queue.put(result.page_count)
    except Exception as exc:  # noqa: BLE001 - reported to the test through the queue
        queue.put(repr(exc))


def test_pool_starts_from_a_daemonic_celery_prefork_child(long_pdf):
    """Celery's prefork pool runs tasks in daemonic billiard processes, from which multiprocessing refuses to
    start children unless the engine lifts that rule; the child must also exit cleanly afterwards."""
    import billiard

    queue = billiard.Queue()
    child = billiard.Process(target=_parse_in_child, args=(str(long_pdf), queue), daemon=True)
    child.start()
    assert queue.get(timeout=120) == PAGES
    child.join(timeout=60)
    assert child.exitcode == 0


def test_one_process_per_core_by_default():
    assert default_workers() == len(os.sched_getaffinity(0))


def _helpers() -> list:
    return [p for p in multiprocessing.active_children() if p.name.startswith("chunkr-pages-")]


def test_helpers_run_at_the_lowest_priority_and_are_gone_afterwards(long_pdf):
    """The parse's own process works from the first page; its helper takes what it leaves idle."""
    seen: dict[int, int] = {}

    def should_cancel():
        for helper in _helpers():
            try:
                seen[helper.pid] = os.getpriority(os.PRIO_PROCESS, helper.pid)
            except ProcessLookupError:
                pass
        return False

    mine = os.getpriority(os.PRIO_PROCESS, 0)
    options = ParseOptions(config=ParseConfig.from_dict({**BASE_CONFIG, "segmentation_strategy": "Page"}), workers=2)
    result = parse_document(long_pdf, options, MemorySink(), should_cancel=should_cancel)
    assert result.page_count == PAGES
    assert len(seen) == 1 and set(seen.values()) == {min(19, mine + HELPER_NICE)}
    assert _helpers() == []


def _has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open (Linux)."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if fd.readlink() == path:
                return True
        except OSError:
            continue
    return False


def test_a_helper_killed_mid_batch_fails_the_parse_with_a_message_and_never_hangs(tmp_path):
    """Killed for memory, say, while it has the document open for a batch: that batch never comes back, so the
    parse fails saying why instead of waiting for it."""
    pdf = structured_pdf(tmp_path / "longer.pdf", pages=2 * POOL_MIN_PAGES)
    killed: list[int] = []

    def should_cancel():
        # The parse's own process waits here (its helpers are started before it first asks) until a helper has
        # the document open: the helper runs at the lowest priority, and on a busy machine the parse could
        # otherwise finish every page before the helper ever took a batch.
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for helper in _helpers():
                if _has_open(helper.pid, pdf):
                    os.kill(helper.pid, signal.SIGKILL)
                    killed.append(helper.pid)
                    break
            else:
                time.sleep(0.005)
        return False

    options = ParseOptions(
        config=ParseConfig.from_dict({**BASE_CONFIG, "segmentation_strategy": "LayoutAnalysis"}), workers=2
    )
    started = time.monotonic()
    with pytest.raises(EngineError, match="stopped unexpectedly"):
        parse_document(pdf, options, MemorySink(), should_cancel=should_cancel)
    assert killed
    assert time.monotonic() - started < 120
    assert _helpers() == []


def test_a_page_error_in_any_process_fails_the_parse_with_its_message(long_pdf):
    limits = EngineLimits(page_time_budget_s=0.0)
    options = ParseOptions(
        config=ParseConfig.from_dict({**BASE_CONFIG, "segmentation_strategy": "Page"}), limits=limits, workers=2
    )
    with pytest.raises(PageTimeout, match=r"per-page budget"):
        parse_document(long_pdf, options, MemorySink())
    assert _helpers() == []


def test_an_error_that_cannot_travel_between_processes_is_sent_as_a_message():
    class Unpicklable(Exception):
        def __reduce__(self):
            raise TypeError("no")

    sent = parallel._portable(Unpicklable("the page's font is broken"))
    assert isinstance(sent, EngineError)
    assert "Unpicklable" in str(sent) and "the page's font is broken" in str(sent)
    timeout = PageTimeout("Page 3 took 9 s")
    assert parallel._portable(timeout) is timeout


def test_a_scanned_document_shares_its_pages_with_a_helper_from_two_batches_on(tmp_path):
    """OCR makes each page costly, so a scan of two batches already gets a helper; every page gets its own words,
    in order, exactly as in one process."""
    from tasks_app.engine.ocr import ocr_available

    if not ocr_available():
        pytest.skip("no OCR backend installed")
    pages = 2 * BATCH_PAGES
    path = scanned_chapters_pdf(tmp_path / "scan.pdf", pages, width=420, height=300)
    helpers_seen: set[int] = set()

    def should_cancel():
        helpers_seen.update(p.pid for p in _helpers())
        return False

    config = ParseConfig.from_dict({**BASE_CONFIG, "ocr_strategy": "All", "error_handling": "Fail"})
    pooled = parse_document(path, ParseOptions(config=config, workers=2), MemorySink(), should_cancel=should_cancel)
    serial = parse_document(path, ParseOptions(config=config, workers=1), MemorySink())

    assert helpers_seen
    assert summary(pooled) == summary(serial)
    for n in range(1, pages + 1):
        text = " ".join(t for page_number, _, t in summary(pooled) if page_number == n)
        assert f"Chapter {n} opens here" in text and f"chapter number {n}" in text


def _parse_and_report_helpers(path: str, queue) -> None:
    reported = []

    def should_cancel():
        if not reported and _helpers():
            reported.extend(p.pid for p in _helpers())
            queue.put(reported)
        return False

    options = ParseOptions(
        config=ParseConfig.from_dict({**BASE_CONFIG, "segmentation_strategy": "LayoutAnalysis"}), workers=2
    )
    parse_document(path, options, MemorySink(), should_cancel=should_cancel)


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status  # exited, not yet reaped by whoever adopted it


def test_helpers_end_when_the_parsing_process_is_killed(tmp_path):
    """A worker killed mid-parse (out of memory, a deploy) must not leave helpers working on, or blocked writing
    results nobody reads."""
    pdf = structured_pdf(tmp_path / "longer.pdf", pages=2 * POOL_MIN_PAGES)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    parser = ctx.Process(target=_parse_and_report_helpers, args=(str(pdf), queue))
    parser.start()
    try:
        helpers = queue.get(timeout=120)
        assert helpers and not any(_gone(pid) for pid in helpers)
        os.kill(parser.pid, signal.SIGKILL)
        parser.join(timeout=10)
        deadline = time.monotonic() + 10
        while not all(_gone(pid) for pid in helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(_gone(pid) for pid in helpers)
    finally:
        if parser.is_alive():
            parser.kill()

"""Long documents spread over a process pool give the same result as the in-process loop."""

from __future__ import annotations

import pytest

from tasks_app.engine import Cancelled, MemorySink, ParseConfig, ParseOptions, parse_document
from tasks_app.engine.parallel import POOL_MIN_PAGES, workers_for
from tests.engine.conftest import BASE_CONFIG
from tests.engine.docs import structured_pdf

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
    assert workers_for(POOL_MIN_PAGES, 4, has_sheets=False) == 3  # no more processes than 4-page batches
    assert workers_for(200, 2, has_sheets=False) == 2
    assert workers_for(200, 2, has_sheets=True) == 1  # spreadsheets read their cells in-process
    assert workers_for(200, 1, has_sheets=False) == 1
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

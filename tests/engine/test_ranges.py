"""A document processed as page ranges (on several workers) and joined gives the single pass's result."""

from __future__ import annotations

import json
import zlib

import orjson
import pytest

from tasks_app.engine import (
    EngineError,
    MemorySink,
    ParseConfig,
    ParseOptions,
    assemble_result,
    parse_document,
    parse_pages,
    part_from_bytes,
    part_from_dict,
    part_to_bytes,
    part_to_dict,
)
from tests.engine.conftest import BASE_CONFIG
from tests.engine.docs import scanned_chapters_pdf, structured_pdf, text_pdf


def without_ids(output: dict) -> dict:
    """The contract JSON with the random ids (chunk, segment, word) taken out; everything else must match."""
    text = json.dumps(output, sort_keys=True)
    for chunk in output["chunks"]:
        text = text.replace(chunk["chunk_id"], "<chunk>")
        for segment in chunk["segments"]:
            text = text.replace(segment["segment_id"], "<segment>")
            for word in segment.get("ocr") or ():
                text = text.replace(word["ocr_id"], "<word>")
    return json.loads(text)


def in_ranges(path, options, bounds):
    """Each range processed on its own, its part through the stored bytes (as a worker hands it on), then joined."""
    sink = MemorySink()
    parts, reports = [], []
    for first, stop in bounds:
        part = parse_pages(
            path, range(first, stop), options, sink, progress=lambda done, total: reports.append((done, total))
        )
        stored = part_to_bytes(part)
        # The stored bytes are part_to_dict's document, exactly (orjson from the dataclasses, zlib around it).
        assert orjson.loads(zlib.decompress(stored)) == json.loads(json.dumps(part_to_dict(part)))
        parts.append(part_from_bytes(stored))
    total = bounds[-1][1]
    result = assemble_result(
        parts, options, pdf_key="document.pdf", file_name=path.name, mime_type="application/pdf", page_count=total
    )
    return result, sink, reports


@pytest.mark.parametrize("strategy", ["LayoutAnalysis", "Page"])
def test_ranges_joined_equal_the_single_pass(tmp_path, strategy):
    path = structured_pdf(tmp_path / "doc.pdf", pages=7)
    options = ParseOptions(config=ParseConfig.from_dict({**BASE_CONFIG, "segmentation_strategy": strategy}))
    single_sink = MemorySink()
    single = parse_document(path, options, single_sink)
    joined, sink, reports = in_ranges(path, options, [(0, 3), (3, 5), (5, 7)])

    assert without_ids(joined.to_dict(url_for=str)) == without_ids(single.to_dict(url_for=str))
    assert [p.page_number for p in joined.pages] == list(range(1, 8))
    # Asset keys are the document's own (page numbers, unique segment ids), so ranges stored by different workers
    # never collide.
    pages = {key for key in single_sink.items if key.startswith("pages/")}
    assert pages and pages == {key for key in sink.items if key.startswith("pages/")}
    assert len(sink.items) + 1 == len(single_sink.items)  # all but document.pdf, which the splitting job stores
    assert reports[:3] == [(1, 3), (2, 3), (3, 3)]  # progress counts the range's own pages


def test_scanned_ranges_equal_the_single_pass(tmp_path):
    path = scanned_chapters_pdf(tmp_path / "scan.pdf", pages=3)
    options = ParseOptions(config=ParseConfig.from_dict(BASE_CONFIG))
    single = parse_document(path, options, MemorySink())
    joined, _, _ = in_ranges(path, options, [(0, 1), (1, 3)])
    assert without_ids(joined.to_dict(url_for=str)) == without_ids(single.to_dict(url_for=str))


def test_a_range_outside_the_document_is_refused(tmp_path):
    path = text_pdf(tmp_path / "short.pdf", "Hello there", pages=2)
    with pytest.raises(EngineError, match="not in this 2-page document"):
        parse_pages(path, range(1, 5))


def test_an_unknown_part_format_is_refused():
    with pytest.raises(ValueError, match="Unknown page-range format"):
        part_from_dict({"format": 99})

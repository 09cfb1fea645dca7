"""Running headers, footers and page numbers (issue 17): segments in the output, never a chunk's text by default."""

from __future__ import annotations

import pymupdf
import pytest

from tasks_app.engine import MemorySink, parse_document

from .conftest import options

FURNITURE = {"PageHeader", "PageFooter", "PageNumber"}
HEADER = "Northwind Logistics - Internal Report"
BODY = (
    "Shipments rose in every region this quarter, led by the northern depots, while costs per parcel fell "
    "for the third quarter in a row. The board asked for a breakdown by carrier in the next report. "
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Three pages, each with the same running header, a body paragraph and a "Page n of 3" footer."""
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    doc = pymupdf.open()
    for n in range(1, 4):
        page = doc.new_page(width=612, height=792)
        page.insert_text((72, 40), HEADER, fontsize=8)
        page.insert_text((72, 110), f"Section {n}: Quarterly figures", fontsize=14, fontname="hebo")
        page.insert_textbox((72, 130, 540, 400), BODY * 3, fontsize=10)
        page.insert_text((270, 760), f"Page {n} of 3", fontsize=8)
    doc.save(path)
    return path


def _furniture(result):
    return [s for s in result.segments if s.segment_type in FURNITURE]


def test_headers_and_page_numbers_are_segments_but_not_chunk_text(report):
    result = parse_document(report, options(), MemorySink())

    furniture = _furniture(result)
    assert {s.page_number for s in furniture if s.text == HEADER} == {1, 2, 3}
    assert {s.text for s in furniture} >= {"Page 1 of 3", "Page 2 of 3", "Page 3 of 3"}
    for chunk in result.chunks:
        assert {s.segment_type for s in chunk.segments} - FURNITURE  # no chunk of furniture alone
        assert HEADER not in chunk.content and HEADER not in chunk.embed
        assert "of 3" not in chunk.content and "of 3" not in chunk.embed
        assert chunk.chunk_length == len(chunk.embed.split())  # the Word tokenizer: furniture is not counted


def test_ignore_headers_and_footers_still_drops_them(report):
    result = parse_document(report, options(chunk_processing={"ignore_headers_and_footers": True}), MemorySink())

    assert not [s for s in result.segments if s.segment_type in ("PageHeader", "PageFooter")]


def test_strategy_ignore_drops_a_furniture_type(report):
    config = {"segment_processing": {"PageHeader": {"strategy": "Ignore"}, "PageNumber": {"strategy": "Ignore"}}}
    result = parse_document(report, options(**config), MemorySink())

    assert not [s for s in result.segments if s.segment_type in ("PageHeader", "PageNumber")]


def test_asking_for_headers_and_footers_puts_them_in_the_chunks(report):
    result = parse_document(report, options(chunk_processing={"ignore_headers_and_footers": False}), MemorySink())

    assert any(HEADER in chunk.embed for chunk in result.chunks)
    assert any("Page 2 of 3" in chunk.content for chunk in result.chunks)


def test_one_segment_per_chunk_keeps_furniture_as_chunks(report):
    result = parse_document(report, options(chunk_processing={"target_length": 0}), MemorySink())

    assert all(len(chunk.segments) == 1 for chunk in result.chunks)  # the contract's target_length 0
    assert any(chunk.segments[0].segment_type in FURNITURE for chunk in result.chunks)

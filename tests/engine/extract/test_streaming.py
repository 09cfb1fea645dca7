"""The offline extractor reads the parse output page by page: memory flat with length, same answers."""

from __future__ import annotations

import gc
import tracemalloc

from tasks_app.engine import run_extraction
from tasks_app.engine.extract import labels
from tasks_app.engine.extract.document import build_document

from .helpers import text_segment

W, H = 1224.0, 1584.0


def _seg(page: int, n: int, top: float, words: list[tuple[str, float, float]]) -> dict:
    return text_segment(page, n, top, words, size=(W, H))


def _packet(pages: int) -> dict:
    """An invoice: header fields on page 1, then N pages of a line-item table (header on every page)."""
    segs = [
        _seg(1, 0, 100, [("Invoice", 100, 70), ("Number:", 175, 80), ("INV-9", 260, 60)]),
        _seg(1, 1, 130, [("Invoice", 100, 70), ("Date:", 175, 50), ("2024-05-02", 230, 100)]),
        _seg(1, 2, 160, [("Total:", 100, 60), ("$1,234.00", 170, 90)]),
    ]
    n = 0
    for page in range(1, pages + 1):
        y = 220.0 if page == 1 else 100.0
        segs.append(_seg(page, 10, y, [("Description", 100, 110), ("Qty", 600, 40), ("Amount", 900, 70)]))
        while y < 1400:
            y += 30
            n += 1
            segs.append(_seg(page, 100 + n, y, [("Item", 100, 40), (f"no{n}", 145, 60), ("2", 610, 10),
                                                ("10.00", 900, 50)]))  # fmt: skip
    return {"chunks": [{"segments": segs}]}


HEADER = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "invoice_date": {"type": "string", "format": "date"},
        "total": {"type": "number"},
    },
}
FULL = {
    "type": "object",
    "properties": {
        **HEADER["properties"],
        "line_items": {"type": "array", "items": {"type": "object", "properties": {
            "description": {"type": "string"}, "qty": {"type": "integer"}, "amount": {"type": "number"}}}},
    },
}  # fmt: skip


def _clear_caches() -> None:
    for fn in (labels.norm_label, labels.concepts, labels._pair_score):
        fn.cache_clear()
    gc.collect()


def _peak_and_kept(output: dict, schema: dict) -> tuple[float, float, dict]:
    """-> (peak bytes during extraction, bytes the returned body holds, body)."""
    _clear_caches()
    tracemalloc.start()
    body = run_extraction(output, schema)
    peak = tracemalloc.get_traced_memory()[1]
    _clear_caches()
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return peak, kept, body


def test_header_fields_are_found_the_same_at_any_length_and_memory_does_not_grow():
    small, big = _packet(4), _packet(48)
    peak_small, _, body_small = _peak_and_kept(small, HEADER)
    peak_big, _, body_big = _peak_and_kept(big, HEADER)
    assert body_small["results"] == body_big["results"] == {
        "invoice_number": "INV-9", "invoice_date": "2024-05-02", "total": 1234}  # fmt: skip
    # 12 x the pages; the working set may not follow (it held every word before: ~12x).
    assert peak_big < 1.5 * peak_small + 64 * 1024, (peak_small, peak_big)


def test_table_rows_stream_into_the_output_so_only_the_output_grows():
    small, big = _packet(4), _packet(48)
    peak_small, kept_small, body_small = _peak_and_kept(small, FULL)
    peak_big, kept_big, body_big = _peak_and_kept(big, FULL)
    rows = body_big["results"]["line_items"]
    items = sum(s["text"].startswith("Item") for s in big["chunks"][0]["segments"])
    assert len(rows) == items > 2000 and rows[-1] == {"description": f"Item no{len(rows)}", "qty": 2, "amount": 10}
    assert len(body_big["citations"]["line_items"]) == len(rows)
    # Peak minus what the returned body holds is the working set: flat, though the output is 12x.
    assert peak_big - kept_big < 1.5 * (peak_small - kept_small) + 64 * 1024


def test_a_value_under_a_label_at_the_foot_of_a_page_is_read_from_the_top_of_the_next():
    output = {"chunks": [{"segments": [
        _seg(1, 0, 100, [("Notes", 100, 60), ("about", 170, 60), ("the", 240, 40), ("order", 290, 60)]),
        _seg(1, 1, 1500, [("Reference", 100, 100)]),
        _seg(2, 2, 60, [("REF-7781", 100, 100)]),
    ]}]}  # fmt: skip
    body = run_extraction(output, {"type": "object", "properties": {"reference": {"type": "string"}}})
    assert body["results"]["reference"] == "REF-7781"
    assert body["citations"]["reference"][0]["page_number"] == 2


def test_the_whole_document_build_numbers_words_and_lines_across_pages():
    doc = build_document(_packet(3))
    assert [w.order for w in doc.words] == list(range(len(doc.words)))
    assert [ln.index for ln in doc.lines] == list(range(len(doc.lines)))
    assert [s.index for s in doc.segments] == list(range(len(doc.segments)))
    assert doc.pages == [1, 2, 3] and doc.page_sizes[3] == (W, H)

"""Segment types, reading order, tables and content on synthetic PDFs."""

import re
from pathlib import Path

import pymupdf
import pytest

from tasks_app.engine import LlmUnavailable, MemorySink, parse_document

from . import docs
from .conftest import options


@pytest.fixture(scope="module")
def structured(tmp_path_factory):
    path = docs.structured_pdf(tmp_path_factory.mktemp("s") / "report.pdf")
    sink = MemorySink()
    return parse_document(path, options(), sink), sink


def _types(result, page=1):
    return [s.segment_type for s in result.segments if s.page_number == page]


def test_types_and_reading_order(structured):
    result, _ = structured
    types = _types(result)
    assert types[0] == "PageHeader"
    assert types[-1] == "PageNumber"
    order = ["Title", "SectionHeader", "Text", "ListItem", "Table", "Picture", "Caption"]
    positions = [types.index(t) for t in order]
    assert positions == sorted(positions), types
    assert types.count("ListItem") == 3


def test_title_heading_list_content(structured):
    result, _ = structured
    segs = {s.segment_type: s for s in result.segments if s.page_number == 1}
    assert segs["Title"].content == "# Annual Results Overview"
    assert segs["Title"].html == "<h1>Annual Results Overview</h1>"
    assert segs["SectionHeader"].content == "## 1. Introduction and Scope"
    assert segs["SectionHeader"].html.startswith("<h2>")
    items = [s for s in result.segments if s.page_number == 1 and s.segment_type == "ListItem"]
    assert items[0].content == "- First point about revenue growth"
    assert "<li>First point about revenue growth</li>" in items[0].html
    assert segs["PageNumber"].text == "1"
    assert segs["PageHeader"].text == "ACME Corporation Quarterly Report"
    assert segs["Caption"].text.startswith("Figure 1:")


def test_ruled_table_exact_cells(structured):
    result, _ = structured
    table = next(s for s in result.segments if s.segment_type == "Table")
    html = table.content  # Table default format is Html
    assert html == table.html
    assert html.startswith("<table>")
    assert re.findall(r"<th>(.*?)</th>", html) == ["Region", "Revenue", "Growth"]
    assert re.findall(r"<td>(.*?)</td>", html) == ["North", "1200", "5%", "South", "980", "3%", "West", "1410", "7%"]
    assert table.markdown.splitlines()[0] == "| Region | Revenue | Growth |"
    assert "| West | 1410 | 7% |" in table.markdown
    # The box is the ruled frame (72..540 x 300..380 pt, at 144 dpi), not just the extent of the words in it.
    box = table.bbox
    assert (box.left, box.top, box.left + box.width, box.top + box.height) == pytest.approx(
        (144, 600, 1080, 760), abs=2
    )


def test_boxes_in_page_pixels_and_ocr_relative(structured):
    result, _ = structured
    page = result.pages[0]
    assert page.dpi == 144
    assert (page.page_width, page.page_height) == (1224, 1584)  # US Letter at 144 dpi
    title = next(s for s in result.segments if s.segment_type == "Title")
    assert 130 <= title.bbox.left <= 150  # 72 pt * 2
    assert title.ocr and all(o.bbox.left >= -2 and o.bbox.top >= -2 for o in title.ocr)
    assert title.ocr[0].text == "Annual"
    assert title.ocr[0].bbox.left < 5  # relative to the segment, not the page


def test_picture_is_cropped_and_pages_rendered(structured):
    result, sink = structured
    pic = next(s for s in result.segments if s.segment_type == "Picture")
    assert pic.image and sink.items[pic.image][1] == "image/png"
    assert all(p.image in sink.items for p in result.pages)
    assert result.pdf_key in sink.items
    d = result.to_dict(sink.url_for)
    assert d["pages"][0]["image"].startswith("data:image/png;base64,")


def test_contract_json_keys(structured):
    result, sink = structured
    d = result.to_dict(sink.url_for)
    assert set(d) == {"chunks", "pages", "pdf_url", "file_name", "mime_type", "page_count"}
    assert d["page_count"] == 2 and d["mime_type"] == "application/pdf"
    chunk = d["chunks"][0]
    assert set(chunk) == {"chunk_id", "chunk_length", "segments", "content", "embed"}
    seg = chunk["segments"][0]
    for key in (
        "segment_id",
        "segment_type",
        "bbox",
        "page_number",
        "page_width",
        "page_height",
        "content",
        "text",
        "embed",
        "segment_length",
        "confidence",
        "ocr",
        "image",
        "description",
        "llm",
        "ss_cells",
        "ss_range",
        "ss_sheet_name",
        "ss_header_range",
        "ss_header_text",
        "ss_header_bbox",
        "ss_header_ocr",
    ):
        assert key in seg
    assert set(seg["bbox"]) == {"left", "top", "width", "height"}
    assert set(seg["ocr"][0]) == {"bbox", "text", "confidence", "ocr_id", "ss_cell_ref"}
    assert 0 <= seg["confidence"] <= 1


def test_two_columns_read_left_then_right(tmp_path):
    result = parse_document(docs.two_column_pdf(tmp_path / "cols.pdf"), options())
    text = "\n".join(s.text for s in result.segments)
    order = [text.index(k) for k in ("Two Column Study", "LEFTSTART", "LEFTEND", "RIGHTSTART", "RIGHTEND")]
    assert order == sorted(order)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_pages_come_out_upright(tmp_path, rotation):
    result = parse_document(docs.rotated_pdf(tmp_path / "rot.pdf", rotation), options())
    page = result.pages[0]
    assert page.page_height > page.page_width  # portrait again
    types = [s.segment_type for s in result.segments]
    assert types[0] == "Title"
    assert result.segments[0].text == "Rotated Page Heading"
    assert result.segments[1].text.startswith("Document processing systems")


def test_page_strategy_one_segment_per_page(tmp_path):
    path = docs.structured_pdf(tmp_path / "p.pdf", pages=3)
    result = parse_document(path, options(segmentation_strategy="Page"))
    segs = result.segments
    assert [s.segment_type for s in segs] == ["Page", "Page", "Page"]
    assert [s.page_number for s in segs] == [1, 2, 3]
    assert segs[0].confidence is None
    assert segs[0].bbox.width == result.pages[0].page_width
    assert "Annual Results Overview" in segs[0].text


def test_ignore_drops_segment_type(tmp_path):
    path = docs.structured_pdf(tmp_path / "p.pdf", pages=1)
    cfg = {"segment_processing": {"ListItem": {"strategy": "Ignore"}, "page_header": {"strategy": "Ignore"}}}
    result = parse_document(path, options(**cfg))
    types = {s.segment_type for s in result.segments}
    assert "ListItem" not in types and "PageHeader" not in types
    assert "Table" in types


def test_html_format_and_markdown_table_format(tmp_path):
    path = docs.structured_pdf(tmp_path / "p.pdf", pages=1)
    cfg = {"segment_processing": {"Text": {"format": "Html"}, "Table": {"format": "Markdown"}}}
    result = parse_document(path, options(**cfg))
    text = next(s for s in result.segments if s.segment_type == "Text")
    assert text.content.startswith("<p>")
    table = next(s for s in result.segments if s.segment_type == "Table")
    assert table.content.startswith("| Region |")


def test_document_text_cannot_inject_html(tmp_path):
    evil = "<script>alert('x')</script> & <b>bold</b>"
    path = docs.text_pdf(tmp_path / "evil.pdf", evil)
    for fmt in ("Html", "Markdown"):
        result = parse_document(
            path, options(segment_processing={"Text": {"format": fmt}}, segmentation_strategy="LayoutAnalysis")
        )
        for s in result.segments:
            assert "<script>" not in s.html and "<script>" not in s.markdown and "<b>" not in s.content
        assert any("&lt;script&gt;" in s.html for s in result.segments)
        assert any("\\<script\\>" in s.markdown for s in result.segments)
        assert any("<script>" in s.text for s in result.segments)  # plain text stays verbatim


def test_chunks_respect_target_length(tmp_path):
    path = docs.structured_pdf(tmp_path / "p.pdf", pages=2)
    furniture = {"PageHeader", "PageFooter", "PageNumber"}
    one = parse_document(path, options(chunk_processing={"target_length": 0}))
    assert all(len(c.segments) == 1 for c in one.chunks)  # the contract: exactly one segment per chunk
    big = parse_document(path, options(chunk_processing={"target_length": 100000}))
    for c in big.chunks:
        # Headers and footers ride along as segments but never enter a chunk's text, nor make a chunk of their own.
        assert {s.segment_type for s in c.segments} - furniture
        assert "ACME Corporation Quarterly Report" not in c.content + c.embed
    body = [[s for s in c.segments if s.segment_type not in furniture] for c in big.chunks]
    # With room to spare, only a heading opens a new body chunk.
    assert all(segs[0].segment_type in ("Title", "SectionHeader") for segs in body[1:])
    assert len(big.chunks) < len(one.chunks)
    mid = parse_document(path, options(chunk_processing={"target_length": 60}))
    assert 1 < len(mid.chunks) < len(one.chunks)
    for c in mid.chunks:
        assert c.chunk_length == len(c.embed.split())
        assert c.content == "\n\n".join(s.content for s in c.segments if s.content and s.segment_type not in furniture)


def test_llm_without_endpoint(tmp_path):
    path = docs.text_pdf(tmp_path / "t.pdf", docs.LOREM)
    cfg = {"error_handling": "Fail", "segment_processing": {"Table": {"strategy": "LLM"}}}
    with pytest.raises(LlmUnavailable, match="No LLM endpoint"):
        parse_document(path, options(**cfg))
    cfg = {"error_handling": "Continue", "segment_processing": {"Picture": {"description": True}}}
    result = parse_document(path, options(**cfg))
    assert any("LLM" in w for w in result.warnings)
    assert result.segments


def test_progress_and_cancel(tmp_path):
    from tasks_app.engine import Cancelled

    path = docs.text_pdf(tmp_path / "t.pdf", docs.LOREM, pages=3)
    calls = []
    parse_document(path, options(segmentation_strategy="Page"), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    seen = []

    def cancel():
        seen.append(1)
        return len(seen) > 2

    with pytest.raises(Cancelled):
        parse_document(path, options(segmentation_strategy="Page"), should_cancel=cancel)


DOCILE_SCAN = Path(__file__).resolve().parents[3] / "shared/corpus/docile-sample/pdfs/516f2d61ea404b30a9192a72.pdf"


@pytest.mark.skipif(not DOCILE_SCAN.exists(), reason="../shared/corpus is not present")
def test_words_of_a_sliver_glyph_ocr_layer_still_cover_the_printed_words():
    """This scan's OCR text layer uses a font whose glyph outlines are slivers: accurate glyph boxes lie under the
    printed words (PHILIP MORRIS prints at y 77–100 pt; its glyph box is 107–112). Word boxes must overlap the
    printed words, since the viewer highlights them and extraction cites them."""
    from tasks_app.engine.layout import WORD_FLAGS, page_words

    with pymupdf.open(DOCILE_SCAN) as doc:
        raw = {w[4]: w for w in doc[0].get_text("words", flags=WORD_FLAGS)}
        words = {w[4]: w for w in page_words(doc[0])}
    assert raw["PHILIP"][1] > 100  # the sliver, below the printed word: what page_words must not return
    philip = words["PHILIP"]
    assert philip[1] < 100 and philip[3] > 77 and philip[3] - philip[1] >= 20


def test_layout_sessions_do_not_spin_and_the_image_network_keeps_its_arena_with_the_same_results(tmp_path):
    """The layout model's sessions are swapped for ones whose idle threads sleep instead of spinning, the
    image-feature one with ONNX Runtime's CPU arena on (its input size never changes, so the arena cannot grow); the
    swap must not change a single output value."""
    import numpy as np
    import onnxruntime as ort

    from tasks_app.engine import layout

    layout._activate()
    wrapper = pymupdf._get_layout.__closure__[0].cell_contents
    extractor = wrapper._model.feature_extractor
    sessions = [wrapper._model.session, extractor._session, wrapper._model.table_grid_extractor._grid_sess]
    for session in sessions:
        options = session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert options.enable_cpu_mem_arena == (session is extractor._session)

    pdf = docs.structured_pdf(tmp_path / "doc.pdf", pages=1)
    with pymupdf.open(pdf) as doc:
        pix = doc[0].get_pixmap()
        image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, pix.n)
    extractor.predict(image)
    with_arena = (extractor.get_feature_map().copy(), extractor.get_class_logits().copy())
    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = False  # as pymupdf.layout makes it
    arena_session = extractor._session
    extractor._session = ort.InferenceSession(wrapper._model.imf_model_path, sess_options=options)
    try:
        extractor.predict(image)
        without = (extractor.get_feature_map(), extractor.get_class_logits())
    finally:
        extractor._session = arena_session
    assert with_arena[0].shape == without[0].shape and np.array_equal(with_arena[0], without[0])
    assert np.array_equal(with_arena[1], without[1])

"""A tight crop of one page element (an image input) gets a second look laid on a page (layout.framed_layout)."""

from __future__ import annotations

import re
from pathlib import Path

import pymupdf
import pytest

from tasks_app.engine import MemorySink, ParseConfig, ParseOptions, layout, parse_document
from tasks_app.engine.ocr import ocr_available
from tests.engine.conftest import BASE_CONFIG

PUBTABNET = Path(__file__).resolve().parents[3] / "shared/corpus/pubtabnet-examples/examples"
needs_ocr = pytest.mark.skipif(not ocr_available(), reason="no OCR backend installed")


def parse(path: Path):
    config = ParseConfig.from_dict({**BASE_CONFIG, "segmentation_strategy": "LayoutAnalysis", "ocr_strategy": "Auto"})
    return parse_document(path, ParseOptions(config=config, workers=1), MemorySink())


def cells(html: str) -> int:
    return len(re.findall(r"<t[dh][ >]", html))


@needs_ocr
@pytest.mark.skipif(not PUBTABNET.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize("name", ["PMC4517499_004_00", "PMC5897438_004_00", "PMC3519711_003_00"])
def test_a_cropped_table_image_is_a_table(name):
    """Three of PubTabNet's crops the model called a Picture or Text boxes as they are (docs/BENCHMARKS.md)."""
    image = PUBTABNET / f"{name}.png"
    with pymupdf.open(image) as doc:
        width, height = doc[0].rect.width, doc[0].rect.height
    result = parse(image)
    tables = [s for s in result.segments if s.segment_type == "Table"]
    assert tables, [s.segment_type for s in result.segments]
    table = max(tables, key=lambda s: s.bbox.width * s.bbox.height)
    # Boxes are back on the image itself: inside it, and covering most of it (the crop is the table).
    assert 0 <= table.bbox.left and table.bbox.left + table.bbox.width <= result.pages[0].page_width + 1
    assert 0 <= table.bbox.top and table.bbox.top + table.bbox.height <= result.pages[0].page_height + 1
    assert table.bbox.width * table.bbox.height >= 0.5 * width * height
    assert cells(table.html) >= 12
    assert table.ocr and all(w.bbox.left >= 0 and w.bbox.top >= 0 for w in table.ocr)


def test_the_framed_layout_gives_boxes_on_the_page_itself(tmp_path):
    """A born-digital crop: the same text laid on a larger page is found where it is on the small one."""
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=160)
    rows = [("Region", "Units", "Revenue"), ("North", "120", "4,300"), ("South", "95", "3,100"), ("East", "40", "900")]
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            page.insert_text((12 + c * 95, 30 + r * 30), text, fontsize=11)
    words = layout.page_words(page)
    framed = layout.framed_layout(page)
    assert framed
    for raw in framed:
        x0, y0, x1, y1 = (float(v) for v in raw["group_bbox"][:4])
        assert -1 <= x0 < x1 <= 301 and -1 <= y0 < y1 <= 161
        for box in raw.get("bboxes") or []:
            assert -1 <= float(box[0]) and float(box[2]) <= 301
    # Every word's centre lies in some framed box: nothing was shifted off its text.
    for w in words:
        cx, cy = (w[0] + w[2]) / 2, (w[1] + w[3]) / 2
        assert any(
            float(r["group_bbox"][0]) - 2 <= cx <= float(r["group_bbox"][2]) + 2
            and float(r["group_bbox"][1]) - 2 <= cy <= float(r["group_bbox"][3]) + 2
            for r in framed
        ), w[4]


def test_whole_pages_are_never_framed():
    """A page-sized image input keeps the model's own reading: framed, scanned letters and newspapers came out as
    one Picture."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 100), "A letter that fills the page", fontsize=14)
    assert layout.page_layout(page, image_input=True) == layout.raw_layout(page)

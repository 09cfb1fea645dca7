"""Small text is read from an upscaled copy (Tesseract), and ordinary scans are left as they are."""

from __future__ import annotations

import io

import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageFilter

from tasks_app.engine import ocr, parse_document
from tasks_app.engine.ocr import OCR_ENGINE_ENV, ocr_image, text_height

from .conftest import options

ROWS = [
    ["Gene", "Cases", "Controls", "Odds ratio", "P value"],
    ["BRCA1", "112", "98", "1.42 (1.08-1.87)", "0.012"],
    ["ATM", "87", "91", "0.96 (0.71-1.29)", "0.781"],
    ["KRAS", "45", "22", "2.11 (1.25-3.56)", "0.005"],
    ["EGFR", "63", "70", "0.88 (0.61-1.27)", "0.493"],
    ["MYC", "29", "31", "0.94 (0.56-1.58)", "0.817"],
]


def _render(page: pymupdf.Page, dpi: int) -> Image.Image:
    pix = page.get_pixmap(dpi=dpi)
    return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)


def _table_image(dpi: int) -> Image.Image:
    """A table in 7.5 pt type, as a crop like PubTabNet's: at 100 dpi its capitals are 7-8 px high."""
    with pymupdf.open() as doc:
        page = doc.new_page(width=320, height=110)
        y = 16
        for i, row in enumerate(ROWS):
            for x, cell in zip((8, 50, 92, 140, 230), row, strict=True):
                page.insert_text((x, y), cell, fontsize=7.5, fontname="hebo" if i == 0 else "helv")
            if i == 0:
                page.draw_line((4, y + 4), (316, y + 4), width=0.6)
            y += 15
        page.draw_line((4, 4), (316, 4), width=0.8)
        page.draw_line((4, y - 9), (316, y - 9), width=0.8)
        return _render(page, dpi)


def _letter_page(dpi: int) -> Image.Image:
    with pymupdf.open() as doc:
        page = doc.new_page(width=612, height=792)
        text = "The committee met on Tuesday to review the proposal and agreed to fund phase two. " * 30
        page.insert_textbox(pymupdf.Rect(72, 72, 540, 720), text, fontsize=10, fontname="tiro")
        return _render(page, dpi)


def test_text_height_is_the_height_of_capitals_and_digits():
    # 7.5 pt Helvetica at 100 dpi: capitals (0.72 em) 7.5 px; 10 pt Times at 200 dpi: capitals (0.66 em) 18 px.
    assert 6 <= text_height(_table_image(100)) <= 9
    assert 14 <= text_height(_letter_page(200)) <= 22
    assert text_height(Image.new("RGB", (300, 200), "white")) is None  # nothing to measure


@pytest.mark.parametrize("dpi", [150, 200, 300])
def test_ordinary_scans_are_not_upscaled(dpi):
    page = _letter_page(dpi)
    rng = np.random.default_rng(0)
    noisy = np.asarray(page.convert("L").filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float32)
    noisy = np.clip(noisy * 0.85 + 20 + rng.normal(0, 18, noisy.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, "JPEG", quality=40)
    for image in (page, Image.open(io.BytesIO(buf.getvalue())).convert("RGB")):
        assert ocr._upscale_factor(image) == 1.0


def test_small_text_is_upscaled_to_about_20_px_within_the_pixel_budget():
    for dpi in (72, 100):
        image = _table_image(dpi)
        assert ocr._upscale_factor(image) == pytest.approx(20 / text_height(image))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ocr, "text_height", lambda image: 3.0)
        assert ocr._upscale_factor(_table_image(100)) == 4.0  # at most 4x
        huge = Image.new("RGB", (3200, 1100), "white")
        assert ocr._upscale_factor(huge) == pytest.approx((16_000_000 / (3200 * 1100)) ** 0.5)  # at most 16 MP


@pytest.fixture
def tesseract(monkeypatch):
    monkeypatch.setenv(OCR_ENGINE_ENV, "tesseract")
    ocr._reset_for_tests()
    if not ocr.ocr_available():
        pytest.skip("Tesseract is not installed")
    yield
    ocr._reset_for_tests()


def test_small_text_words_come_back_in_the_original_images_pixels(tesseract):
    image = _table_image(100)
    words = {w.text: w for w in ocr_image(image, dpi=100)}
    gene, last = words["Gene"], words["0.817"]
    # "Gene" starts 8 pt in from the left, its baseline 16 pt down, capitals 5.4 pt tall: at 100 dpi x 11 px,
    # top 15 px, baseline 22 px.
    assert 8 <= gene.x0 <= 14 and 10 <= gene.y0 <= 17 and 20 <= gene.y1 <= 28
    assert last.x1 <= image.width and last.y1 <= image.height


def test_a_small_text_table_image_reads_back_with_its_cells(tmp_path, tesseract):
    """PubTabNet-like: a table crop with no resolution metadata and 7-8 px capitals. Read as it is, Tesseract got
    about half of these cells; upscaled, all or nearly all."""
    path = tmp_path / "table.png"
    _table_image(100).save(path)  # no dpi in the file: a page of 1 pt per pixel
    result = parse_document(path, options(error_handling="Fail"))
    (table,) = [s for s in result.segments if s.segment_type == "Table"]
    got = [[cell.strip() for cell in row.split("|")] for row in table.text.splitlines()]
    assert len(got) == len(ROWS)
    right = sum(a == b for want, row in zip(ROWS, got, strict=True) for a, b in zip(want, row, strict=False))
    assert right >= 0.9 * sum(len(row) for row in ROWS), got


def test_boxes_are_cut_to_their_ink_never_grown():
    ink = np.zeros((60, 100), np.uint8)
    ink[10:20, 10:40] = 1  # a word's glyphs
    ink[23:24, 0:100] = 1  # a rule under it, three rows down: Tesseract upscaled takes it into the box
    ink[32:42, 10:30] = 1  # the next line
    word = ocr.OcrWord("Gene", 8, 9, 44, 25, 0.9, line=0)
    (cut,) = ocr._shrink_to_ink([word], ink, by_line=False)
    assert (cut.x0, cut.y0, cut.x1, cut.y1) == (10, 10, 40, 20)
    tight = ocr.OcrWord("Gene", 12, 12, 30, 18, 0.9, line=0)  # inside the ink already: left as it is
    assert ocr._shrink_to_ink([tight], ink, by_line=False) == [tight]


def test_rapidocr_boxes_are_cut_per_line_so_a_glyph_cut_in_two_keeps_its_height():
    ink = np.zeros((40, 100), np.uint8)
    ink[5:25, 10:30] = 1  # "5": its bowl leaves the left half blank in the middle rows
    ink[12:18, 10:20] = 0
    ink[5:25, 40:70] = 1
    words = [ocr.OcrWord("5", 10, 0, 20, 32, 0.9, line=3), ocr.OcrWord("mg", 40, 0, 70, 32, 0.9, line=3)]
    assert [(w.y0, w.y1) for w in ocr._shrink_to_ink(words, ink, by_line=True)] == [(5, 25), (5, 25)]
    assert [(w.y0, w.y1) for w in ocr._shrink_to_ink(words, ink, by_line=False)] == [(5, 12), (5, 25)]

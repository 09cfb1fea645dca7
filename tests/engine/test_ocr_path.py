"""Scanned pages go through the OCR adapter: a fake backend here, the real one when installed."""

from dataclasses import dataclass

import pymupdf
import pytest

from tasks_app.engine import OcrUnavailable, ocr, parse_document

from . import docs
from .conftest import options


def _scan_png(tmp_path, rotate: int = 0):
    """Render a text PDF to a PNG 'scan' (no text layer), optionally turned."""
    pdf = docs.structured_pdf(tmp_path / "src.pdf", pages=1)
    with pymupdf.open(pdf) as doc:
        page = doc[0]
        words = page.get_text("words")
        pix = page.get_pixmap(dpi=144, matrix=pymupdf.Matrix(1, 1).prerotate(rotate) if rotate else None)
        path = tmp_path / "scan.png"
        pix.save(path)
    return path, words


@dataclass
class FakeWord:
    text: str
    bbox: tuple
    confidence: float
    line: int = 0


def test_fake_ocr_backend_feeds_layout(tmp_path, monkeypatch):
    path, words = _scan_png(tmp_path)
    scale = 2.0  # 144 dpi render of PDF points

    def ocr_image(image, dpi=None):
        return [FakeWord(w[4], tuple(v * scale for v in w[:4]), 0.9, i) for i, w in enumerate(words)]

    monkeypatch.setattr(ocr, "ocr_image", ocr_image)
    result = parse_document(path, options(error_handling="Fail"))
    texts = " ".join(s.text for s in result.segments)
    assert "Annual Results Overview" in texts and "Region" in texts
    title = next(s for s in result.segments if "Annual Results Overview" in s.text)
    assert title.ocr and all(o.confidence == 0.9 for o in title.ocr)
    assert all(o.bbox.left >= -3 and o.bbox.top >= -3 for o in title.ocr)


def test_scan_without_ocr_fails_or_warns(tmp_path, monkeypatch, request):
    path, _ = _scan_png(tmp_path)
    monkeypatch.setattr(ocr, "_BACKENDS", {})  # neither Tesseract nor RapidOCR
    ocr._reset_for_tests()
    request.addfinalizer(ocr._reset_for_tests)  # the next test chooses its backend again
    with pytest.raises(OcrUnavailable):
        parse_document(path, options(error_handling="Fail"))
    result = parse_document(path, options(error_handling="Continue"))
    assert any("OCR" in w for w in result.warnings)


def _real_ocr_available() -> bool:
    return ocr.ocr_available()


@pytest.mark.skipif(not _real_ocr_available(), reason="OCR backend not installed")
@pytest.mark.parametrize("rotate", [0, 90, 180])
def test_real_ocr_turns_scans_upright(tmp_path, rotate):
    path, _ = _scan_png(tmp_path, rotate)
    result = parse_document(path, options(error_handling="Fail"))
    page = result.pages[0]
    assert page.page_height > page.page_width
    texts = " ".join(s.text for s in result.segments)
    assert "Annual Results Overview" in texts


def test_multi_page_scan_reads_every_page_in_order_with_ocr_run_ahead(tmp_path):
    """The serial loop OCRs page n + 1 in a thread while page n is analysed; each page must get its own words."""
    from tasks_app.engine.ocr import ocr_available

    if not ocr_available():
        pytest.skip("no OCR backend installed")
    path = docs.scanned_chapters_pdf(tmp_path / "scan.pdf", 4)

    result = parse_document(path, options(error_handling="Fail", ocr_strategy="All"))
    by_page = {}
    for segment in result.segments:
        by_page.setdefault(segment.page_number, []).append(segment.text)
    assert sorted(by_page) == [1, 2, 3, 4]
    for n in range(1, 5):
        text = " ".join(by_page[n])
        assert f"Chapter {n} opens here" in text and f"chapter number {n}" in text


def test_a_table_read_cell_by_cell_is_not_taken_for_an_upside_down_page():
    """Tesseract may give each cell of a wide table as its own line, row by row: successive lines then share a
    height, which once counted as "not running down the page" and turned such pages 180°."""
    from tasks_app.engine.scanned import _upside_down

    def word(line, top):
        return ((10.0, top, 50.0, top + 8), "cell", 90.0, line)

    table = [word(row * 5 + col, 100 + 20 * row) for row in range(4) for col in range(5)]
    assert not _upside_down(table)
    flipped = [word(n, 700 - 20 * n) for n in range(6)]  # lines numbered bottom to top
    assert _upside_down(flipped)
    upright = [word(n, 100 + 20 * n) for n in range(6)]
    assert not _upside_down(upright)


def test_ocr_runs_two_pages_at_once_each_once_in_order(tmp_path, monkeypatch):
    """While page n waits for its OCR, page n + 1's already runs: two OCR calls in flight on a scanned run (two
    Tesseract processes, one per core here). Every page is read exactly once and gets its own words, across text
    pages between scans and across the loop's periodic reopening of the document."""
    import threading
    import time

    from tasks_app.engine import pipeline

    monkeypatch.setattr(pipeline, "_REOPEN_EVERY", 4)
    kinds = ["scan", "scan", "text", "scan", "scan", "scan", "scan", "scan", "text"]
    doc = pymupdf.open()
    for n, kind in enumerate(kinds, start=1):
        page = doc.new_page(width=300, height=200)
        if kind == "text":
            page.insert_text((40, 100), f"Typed page {n} words", fontsize=14)
        else:
            # A blank "scan" whose grey level names the page: the fake OCR reads it back from the pixels.
            pix = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 60, 40), False)
            pix.set_rect(pix.irect, (200 + n,))
            page.insert_image(page.rect, pixmap=pix)
    path = tmp_path / "mixed.pdf"
    doc.save(path)

    lock = threading.Lock()
    active, most, calls = [0], [0], []

    def ocr_image(image, dpi=None):
        n = image.convert("L").getpixel((image.width // 2, image.height // 2)) - 200
        with lock:
            calls.append(n)
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.3)
        with lock:
            active[0] -= 1
        return [FakeWord(f"scanned{n}", (20.0, 20.0, 200.0, 50.0), 0.9, 0)]

    monkeypatch.setattr(ocr, "ocr_image", ocr_image)
    result = parse_document(path, options(error_handling="Fail", segmentation_strategy="Page"))

    scans = [n for n, kind in enumerate(kinds, start=1) if kind == "scan"]
    assert sorted(calls) == scans  # each scanned page read once, no text page read
    assert most[0] == 2  # the look-ahead really overlaps pages
    texts = {s.page_number: s.text for s in result.segments}
    for n, kind in enumerate(kinds, start=1):
        assert (f"scanned{n}" if kind == "scan" else f"Typed page {n} words") in texts[n]

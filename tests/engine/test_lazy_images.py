"""Lazy page images: skipped at parse time, rendered later from document.pdf exactly as they would have been."""

from __future__ import annotations

import io

import pymupdf
import pytest
from PIL import Image

from tasks_app.engine import DirectorySink, ParseConfig, ParseOptions, parse_document, render_page_png
from tasks_app.engine.parallel import POOL_MIN_PAGES
from tests.engine.conftest import BASE_CONFIG
from tests.engine.docs import LOREM, structured_pdf


def _mixed_pdf(path):
    """Plain text; /Rotate 90; text drawn sideways (turned upright by the engine); a scan with no text layer; the
    same scan upside down (OCR reads it, the engine turns it)."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Plain page heading", fontsize=18)
    page.insert_textbox(pymupdf.Rect(72, 130, 540, 400), LOREM, fontsize=10)
    page = doc.new_page()
    page.insert_text((72, 100), "Rotated page heading", fontsize=18)
    page.insert_textbox(pymupdf.Rect(72, 130, 540, 400), LOREM, fontsize=10)
    page.set_rotation(90)
    page = doc.new_page()
    for i in range(12):
        page.insert_text((100 + 18 * i, 120), f"Sideways line number {i} with words", fontsize=11, rotate=90)
    source = pymupdf.open()
    text = source.new_page()
    text.insert_textbox(pymupdf.Rect(72, 72, 540, 500), "Scanned invoice total 1,234.56\n" + LOREM, fontsize=12)
    scan = doc.new_page()
    scan.insert_image(scan.rect, stream=text.get_pixmap(dpi=150).tobytes("png"))
    flipped = doc.new_page()
    flipped.insert_image(flipped.rect, stream=text.get_pixmap(dpi=150).tobytes("png"), rotate=180)
    doc.save(path)
    return path


def _parse(path, out, page_images, workers=1, strategy="Page"):
    options = ParseOptions(
        config=ParseConfig.from_dict({**BASE_CONFIG, "segmentation_strategy": strategy}),
        page_images=page_images,
        workers=workers,
    )
    return parse_document(path, options, DirectorySink(out))


def test_lazy_images_render_later_exactly_as_eager_ones_and_turned_scans_stay_eager(tmp_path):
    pdf = _mixed_pdf(tmp_path / "mixed.pdf")
    eager = _parse(pdf, tmp_path / "eager", "eager")
    lazy = _parse(pdf, tmp_path / "lazy", "lazy")

    assert [p.image for p in lazy.pages] == [p.image for p in eager.pages]
    assert [(p.page_width, p.page_height) for p in lazy.pages] == [(p.page_width, p.page_height) for p in eager.pages]
    boxes = lambda r: [(s.page_number, s.bbox) for c in r.chunks for s in c.segments]  # noqa: E731
    assert boxes(lazy) == boxes(eager)
    assert eager.pages[1].page_width < eager.pages[1].page_height  # /Rotate 90 turned back so its text is upright
    scanned = [s.text for c in lazy.chunks for s in c.segments if s.page_number in (4, 5)]
    # Both scans OCR'd, the flipped one upright. Spaces aside: RapidOCR (the engine without Tesseract) joins words.
    assert sum("Scannedinvoicetotal1,234.56" in "".join(t.split()) for t in scanned) == 2

    for page in lazy.pages:
        stored = tmp_path / "lazy" / page.image
        expected = (tmp_path / "eager" / page.image).read_bytes()
        if page.page_number == 5:  # OCR found it upside down and the engine turned it: document.pdf no longer
            assert stored.read_bytes() == expected  # renders it so, so its image is stored at parse time
            continue
        assert not stored.exists()
        png = render_page_png(tmp_path / "lazy" / "document.pdf", page.page_number, int(page.dpi))
        assert png == expected
        assert Image.open(io.BytesIO(png)).size == (page.page_width, page.page_height)


def test_pool_processes_defer_page_images_too(tmp_path):
    pdf = structured_pdf(tmp_path / "long.pdf", pages=POOL_MIN_PAGES)
    result = _parse(pdf, tmp_path / "out", "lazy", workers=2, strategy="LayoutAnalysis")  # Page would stay in-process
    assert len(result.pages) == POOL_MIN_PAGES
    assert not list((tmp_path / "out").glob("pages/*.png"))
    last = result.pages[-1]
    png = render_page_png(tmp_path / "out" / "document.pdf", last.page_number, int(last.dpi))
    assert Image.open(io.BytesIO(png)).size == (last.page_width, last.page_height)


def test_rendering_a_page_that_is_not_there_is_an_error(tmp_path):
    pdf = structured_pdf(tmp_path / "one.pdf", pages=1)
    with pytest.raises(ValueError, match="page 2"):
        render_page_png(pdf, 2, 144)

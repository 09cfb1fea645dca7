"""Image inputs become pages sized by the image's own resolution, and their page images are the original pixels."""

from __future__ import annotations

import pymupdf
import pytest
from PIL import Image, TiffImagePlugin

from tasks_app.engine import parse_document
from tasks_app.engine.config import EngineLimits
from tasks_app.engine.render import open_document, page_dpi
from tasks_app.engine.sniff import sniff

from .conftest import options


def _pages(path) -> list[tuple[float, float, int]]:
    """(width pt, height pt, render dpi) of each page of an input, as the pipeline opens it."""
    opened = open_document(path, sniff(path), EngineLimits())
    with opened.doc as doc:
        return [
            (round(p.rect.width, 2), round(p.rect.height, 2), page_dpi(p, 144, EngineLimits(), image_input=True))
            for p in doc
        ]


def test_a_300_dpi_scan_becomes_a_page_of_its_paper_size(tmp_path):
    path = tmp_path / "letter.png"
    Image.new("L", (2550, 3300), 255).save(path, dpi=(300, 300))
    assert _pages(path) == [(612, 792, 300)]  # US Letter, rendered at 300 dpi: the original pixels


@pytest.mark.parametrize(
    ("fmt", "dpi"),
    [("PNG", None), ("JPEG", (1, 1)), ("TIFF", (5000, 5000)), ("PNG", (50, 50))],
    ids=["none", "one", "absurd", "too-low"],
)
def test_an_image_without_a_plausible_resolution_is_one_point_per_pixel(tmp_path, fmt, dpi):
    path = tmp_path / f"crop.{fmt.lower()}"
    extra = {"dpi": dpi} if dpi else {}
    Image.new("RGB", (503, 249), "white").save(path, format=fmt, **extra)
    assert _pages(path) == [(503, 249, 72)]


def test_exif_orientation_turns_the_resolution_with_the_pixels(tmp_path):
    path = tmp_path / "fax.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: turn 90° clockwise to view
    Image.new("L", (400, 100), 255).save(path, dpi=(200, 100), exif=exif)
    # Upright it is 100 x 400 px; its 100 px across were at 100 dpi, its 400 px down at 200 dpi: 1 x 2 inches.
    # It renders at the finer of the two, so no pixel is lost.
    assert _pages(path) == [(72, 144, 200)]


def test_each_tiff_frame_keeps_its_own_resolution(tmp_path):
    path = tmp_path / "scans.tif"
    with TiffImagePlugin.AppendingTiffWriter(path, True) as tiff:  # Pillow's save_all gives every frame one dpi
        for size, dpi in (((1275, 1650), 150), ((600, 300), 300)):
            Image.new("L", size, 255).save(tiff, format="TIFF", dpi=(dpi, dpi))
            tiff.newFrame()
    assert _pages(path) == [(612, 792, 150), (144, 72, 300)]


def test_the_requested_dpi_still_sizes_pdf_page_images(tmp_path):
    path = tmp_path / "doc.pdf"
    with pymupdf.open() as doc:
        doc.new_page(width=612, height=792).insert_text((72, 72), "Hello")
        doc.save(path)
    opened = open_document(path, sniff(path), EngineLimits())
    with opened.doc as doc:
        assert page_dpi(doc[0], 144, EngineLimits(), image_input=False) == 144


def test_parse_output_of_a_scan_is_in_its_own_pixels(tmp_path):
    """page_width/page_height, bboxes and the page image are in page-image pixels (API_CONTRACT §9): for an image
    input those are the image's pixels, as before, and `dpi` says the image's resolution."""
    from tasks_app.engine.ocr import ocr_available

    if not ocr_available():
        pytest.skip("no OCR backend installed")
    source = pymupdf.open()
    page = source.new_page(width=612, height=396)
    page.insert_text((72, 100), "Quarterly shipping report", fontsize=20)
    page.insert_textbox(pymupdf.Rect(72, 130, 540, 300), "Containers left the port on time in every week.", fontsize=12)
    path = tmp_path / "scan.png"
    page.get_pixmap(dpi=300).save(path)  # PyMuPDF writes the resolution into the PNG
    assert Image.open(path).info["dpi"] == pytest.approx((300, 300), abs=0.01)

    result = parse_document(path, options(error_handling="Fail"))

    (page_out,) = result.pages
    assert (page_out.page_width, page_out.page_height, page_out.dpi) == (2550, 1650, 300)
    assert page_out.image == "pages/0001-300dpi.png"
    text = " ".join(s.text for s in result.segments)
    assert "Quarterly shipping report" in text and "every week" in text
    title = next(s for s in result.segments if "Quarterly" in s.text)
    # 72 pt from the left at 300 dpi is 300 px; the 20 pt line sits around 100 pt (417 px) down.
    assert 280 <= title.bbox.left <= 320 and 330 <= title.bbox.top <= 420
    for s in result.segments:
        assert 0 <= s.bbox.left and s.bbox.left + s.bbox.width <= 2550
        assert 0 <= s.bbox.top and s.bbox.top + s.bbox.height <= 1650


def test_a_resolution_the_text_contradicts_is_not_believed(tmp_path):
    """An image scaled down but still marked 300 dpi: 10 pt text drawn 10 px high would be 2.4 pt at 300 dpi."""
    with pymupdf.open() as doc:
        page = doc.new_page(width=400, height=200)
        page.insert_textbox(
            pymupdf.Rect(20, 20, 380, 180), "Invoice number 20931, due within 30 days. " * 6, fontsize=10
        )
        pix = page.get_pixmap(dpi=72)
    path = tmp_path / "downscaled.png"
    Image.frombytes("RGB", (pix.width, pix.height), pix.samples).save(path, dpi=(300, 300))
    assert _pages(path) == [(400, 200, 72)]
    believable = tmp_path / "screenshot.png"
    Image.open(path).save(believable, dpi=(96, 96))  # capitals 7 px are 5 pt at 96 dpi
    assert _pages(believable) == [(300, 150, 96)]

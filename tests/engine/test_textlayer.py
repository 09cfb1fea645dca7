"""OCR words go into the page as invisible Unicode text and read back exactly: characters and boxes."""

from __future__ import annotations

import pymupdf
import pytest

from tasks_app.engine import ocr, parse_document
from tasks_app.engine.layout import page_words
from tasks_app.engine.textlayer import write_words

from .conftest import options
from .test_ocr_path import FakeWord

# Each was `·` (or lost) when the layer was base-14 Helvetica; PubTabNet cells hold the first seven.
HARD_WORDS = ["≤", "≥", "0.310–2.268", "−0.42", "μM", "∼3", "5′-UTR", "αβγ", "Жизнь", "日本語", "한국어", "ภาษาไทย"]


def _boxes(words):
    x = 20.0
    for text in words:
        width = 9.0 * len(text)
        yield (x, 40.0, x + width, 52.0), text
        x += width + 8


def test_unicode_words_read_back_with_their_boxes():
    words = list(_boxes(HARD_WORDS))
    with pymupdf.open() as doc:
        page = doc.new_page(width=1200, height=200)
        write_words(page, words)
        got = [(tuple(round(v, 2) for v in w[:4]), w[4]) for w in page_words(page)]
    assert got == [(tuple(round(v, 2) for v in box), text) for box, text in words]


def test_characters_outside_the_bmp_become_replacement_characters():
    with pymupdf.open() as doc:
        page = doc.new_page()
        write_words(page, [((10, 10, 60, 22), "a😀b")])
        assert [w[4] for w in page_words(page)] == ["a\ufffdb"]


def test_the_layer_is_invisible_and_follows_the_crop_box():
    with pymupdf.open() as doc:
        page = doc.new_page(width=400, height=300)
        page.draw_rect(pymupdf.Rect(50, 50, 150, 100), fill=(0.2, 0.4, 0.8))
        page.set_cropbox(pymupdf.Rect(30, 20, 330, 260))  # page coordinates now start at the crop box's corner
        before = page.get_pixmap().samples
        write_words(page, [((10, 10, 90, 30), "Total"), ((100, 10, 140, 30), "≥ 12")])
        assert page.get_pixmap().samples == before
        got = {w[4]: tuple(round(v, 2) for v in w[:4]) for w in page_words(page)}
    assert got == {"Total": (10, 10, 90, 30), "≥": (100, 10, 110, 30), "12": (120, 10, 140, 30)}


def test_ocr_words_with_symbols_and_other_scripts_reach_segment_text(tmp_path, monkeypatch):
    """The OCR backend is faked so that every character is known to have been read; what is tested is the way back
    from the OCR words through the text layer, layout analysis and segments."""
    lines = ["IC50 ≤ 5 μM in all assays", "range 0.310–2.268 (n ≥ 12, ∼3′)", "Ωμέγα Жизнь 日本語"]
    with pymupdf.open() as doc:
        page = doc.new_page(width=400, height=200)
        for i, line in enumerate(lines):  # something to look at; the fake OCR below says what it reads
            page.draw_rect(pymupdf.Rect(40, 40 + 40 * i, 40 + 9 * len(line), 56 + 40 * i), fill=(0, 0, 0))
        path = tmp_path / "scan.png"
        page.get_pixmap(dpi=144).save(path)
    scale = 2.0  # 144 dpi

    def ocr_image(image, dpi=None):
        found = []
        for n, line in enumerate(lines):
            x = 40.0
            for token in line.split():
                box = (x * scale, (40 + 40 * n) * scale, (x + 8.5 * len(token)) * scale, (56 + 40 * n) * scale)
                found.append(FakeWord(token, box, 0.9, n))
                x += 9.0 * (len(token) + 1)
        return found

    monkeypatch.setattr(ocr, "ocr_image", ocr_image)
    result = parse_document(path, options(error_handling="Fail"))
    text = " ".join(s.text for s in result.segments)
    for line in lines:
        assert line in text
    ocr_text = [o.text for s in result.segments for o in s.ocr]
    assert {"≤", "μM", "0.310–2.268", "∼3′)", "Жизнь", "日本語"} <= set(ocr_text)


@pytest.fixture
def rapidocr(monkeypatch):
    monkeypatch.setenv(ocr.OCR_ENGINE_ENV, "rapidocr")
    ocr._reset_for_tests()
    if not ocr.ocr_available():
        pytest.skip("RapidOCR is not installed")
    yield
    ocr._reset_for_tests()


def test_a_scanned_page_with_symbols_and_cjk_reads_back_with_them(tmp_path, rapidocr):
    """Real OCR end to end. RapidOCR (Chinese/English model) reads ≤, ≥ and CJK; Tesseract's English data reads
    them as < and > (so the text layer could not be checked with it)."""
    with pymupdf.open() as doc:
        page = doc.new_page(width=420, height=200)
        writer = pymupdf.TextWriter(page.rect)
        font = pymupdf.Font("cjk")  # MuPDF's built-in Droid Sans Fallback: has all of these glyphs
        for i, line in enumerate(["Dose ≤ 5 mg daily", "Age ≥ 65 years", "日本語のテキスト"]):
            writer.append((30, 60 + 50 * i), line, font=font, fontsize=20)
        writer.write_text(page)
        path = tmp_path / "scan.png"
        page.get_pixmap(dpi=150).save(path)
    result = parse_document(path, options(error_handling="Fail"))
    text = " ".join(s.text for s in result.segments)
    assert "≤" in text and "≥" in text and "日本語" in text
    assert "·" not in text

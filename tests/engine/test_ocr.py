from __future__ import annotations

import io
from dataclasses import FrozenInstanceError

import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageFilter

from tasks_app.engine import ocr
from tasks_app.engine.ocr import OCR_ENGINE_ENV, OcrWord, ocr_available, ocr_backend, ocr_image

DPI = 200
SCALE = DPI / 72

PARAGRAPHS = [
    "The quick brown fox jumps over the lazy dog. In 2024, revenue grew by 12.5% to $3,450,000, "
    "while operating costs fell by 4% compared with the previous year.",
    "Invoice number INV-20931 was issued on March 7, 2023; payment is due within 30 days. "
    "Please contact support@example.com or call +1 (555) 010-7788 with any questions!",
    "The mean temperature was 21.3 degrees, with a standard deviation of 0.8. Results show that "
    "87 of 112 participants (77.7%) preferred the new design over the old one.",
    "Shipping weight: 14.75 kg; dimensions 120 x 80 x 45 cm. Is this the final version? Yes, "
    "it was approved by J. Smith on 2025-01-15 after a short review.",
]


@pytest.fixture(scope="module", params=["tesseract", "tesserocr", "rapidocr"], autouse=True)
def backend(request: pytest.FixtureRequest):
    """Run every test against each engine that is installed here."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(OCR_ENGINE_ENV, request.param)
        ocr._reset_for_tests()
        if not ocr_available():
            pytest.skip(f"{request.param} is not installed")
        assert ocr_backend() == request.param
        yield request.param
    ocr._reset_for_tests()


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _norm(s: str) -> str:
    return " ".join(s.split())


def _words_to_text(words: list[OcrWord]) -> str:
    lines: dict[int, list[str]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w.text)
    return "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))


@pytest.fixture(scope="module")
def page() -> tuple[Image.Image, str, list[tuple[float, float, float, float, str]]]:
    doc = pymupdf.open()
    pg = doc.new_page(width=612, height=792)
    pg.insert_textbox(pymupdf.Rect(72, 72, 540, 720), "\n\n".join(PARAGRAPHS), fontsize=11, fontname="helv")
    truth = pg.get_text()
    pdf_words = [(w[0], w[1], w[2], w[3], w[4]) for w in pg.get_text("words")]
    # Lines' ink: glyph outlines (accurate boxes), not the font's line height.
    ink_lines: dict[tuple[int, int], list[float]] = {}
    for w in pg.get_text("words", flags=pymupdf.TEXT_ACCURATE_BBOXES):
        top, bottom = ink_lines.setdefault((w[5], w[6]), [w[1], w[3]])
        ink_lines[(w[5], w[6])] = [min(top, w[1]), max(bottom, w[3])]
    png = pg.get_pixmap(dpi=DPI).tobytes("png")
    return Image.open(io.BytesIO(png)).convert("RGB"), truth, pdf_words, sorted(ink_lines.values())


@pytest.fixture(scope="module")
def words(backend: str, page: tuple[Image.Image, str, list]) -> list[OcrWord]:
    return ocr_image(page[0])


def test_character_accuracy_at_200_dpi(page: tuple[Image.Image, str, list], words: list[OcrWord]) -> None:
    truth = _norm(page[1])
    got = _norm(_words_to_text(words))
    accuracy = 1 - _levenshtein(got, truth) / len(truth)
    assert accuracy >= 0.98, (accuracy, got)


def test_lines_in_reading_order(page: tuple[Image.Image, str, list], words: list[OcrWord]) -> None:
    text = _words_to_text(words)
    starts = [text.find(p.split()[0] + " " + p.split()[1]) for p in PARAGRAPHS]
    assert all(s >= 0 for s in starts)
    assert starts == sorted(starts)
    line_tops = {}
    for w in words:
        line_tops.setdefault(w.line, w.y0)
    tops = [line_tops[k] for k in sorted(line_tops)]
    assert tops == sorted(tops)


def test_word_boxes_lie_over_rendered_words(page: tuple[Image.Image, str, list], words: list[OcrWord]) -> None:
    pdf_words = page[2]
    by_text: dict[str, list[tuple[float, float, float, float]]] = {}
    for x0, y0, x1, y1, t in pdf_words:
        by_text.setdefault(t, []).append((x0 * SCALE, y0 * SCALE, x1 * SCALE, y1 * SCALE))
    matched = inside = 0
    for w in words:
        rects = by_text.get(w.text)
        if not rects:
            continue  # misread word: accuracy is checked elsewhere
        matched += 1
        cx, cy = (w.x0 + w.x1) / 2, (w.y0 + w.y1) / 2
        if any(x0 - 2 <= cx <= x1 + 2 and y0 - 2 <= cy <= y1 + 2 for x0, y0, x1, y1 in rects):
            inside += 1
    assert matched >= 0.9 * len(pdf_words)
    assert inside / matched >= 0.97, (inside, matched)


def test_word_boxes_hug_their_lines_ink(page: tuple[Image.Image, str, list, list], words: list[OcrWord]) -> None:
    """Not padded: RapidOCR's detector boxes are 40-45 % blank until shrunk to the ink, and boxes that tall overlap
    the next row of a dense table."""
    lines = [(top * SCALE, bottom * SCALE) for top, bottom in page[3]]
    hugging = 0
    for w in words:
        cy = (w.y0 + w.y1) / 2
        top, bottom = min(lines, key=lambda tb: abs((tb[0] + tb[1]) / 2 - cy))
        hugging += top - 3 <= w.y0 and w.y1 <= bottom + 3
    assert hugging >= 0.95 * len(words), (hugging, len(words))


def test_word_fields(page: tuple[Image.Image, str, list], words: list[OcrWord]) -> None:
    width, height = page[0].size
    assert words
    for w in words:
        assert w.text and not any(c.isspace() for c in w.text)
        assert 0 <= w.x0 < w.x1 <= width
        assert 0 <= w.y0 < w.y1 <= height
        assert 0.0 <= w.confidence <= 1.0
    with pytest.raises(FrozenInstanceError):
        words[0].text = "x"  # type: ignore[misc]


def test_upside_down_page_is_read(page: tuple[Image.Image, str, list]) -> None:
    img = page[0].transpose(Image.Transpose.ROTATE_180)
    words = ocr_image(img)
    truth = _norm(page[1])
    got = _norm(_words_to_text(words))
    assert 1 - _levenshtein(got, truth) / len(truth) >= 0.97
    # Boxes are in the coordinates of the image that was passed in (the rotated one): the first
    # paragraph, at the top of the page, now lies at the bottom.
    first = next(w for w in words if w.text == "quick")
    assert first.y0 > img.height / 2


def test_poor_scan_is_read(page: tuple[Image.Image, str, list]) -> None:
    """Every engine here, PP-OCRv6 included (PP-OCRv4, before it, ran words together on this page: 0.92-0.95)."""
    rng = np.random.default_rng(0)
    grey = page[0].convert("L").rotate(1.2, fillcolor=255, resample=Image.Resampling.BICUBIC)
    grey = grey.filter(ImageFilter.GaussianBlur(0.8))
    arr = np.asarray(grey).astype(np.float32) * 0.85 + 20 + rng.normal(0, 18, grey.size[::-1])
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=40)
    words = ocr_image(Image.open(io.BytesIO(buf.getvalue())))
    truth = _norm(page[1])
    got = _norm(_words_to_text(words))
    assert 1 - _levenshtein(got, truth) / len(truth) >= 0.97


def test_dpi_hint_accepted(page: tuple[Image.Image, str, list]) -> None:
    img = page[0].crop((0, 0, page[0].width, page[0].height // 4))
    assert any(w.text == "quick" for w in ocr_image(img, dpi=DPI))


def test_transparent_background_reads_as_paper(page: tuple[Image.Image, str, list]) -> None:
    crop = page[0].crop((0, 0, page[0].width, page[0].height // 4)).convert("L")
    # Text as opaque black ink on a fully transparent (black) background.
    ink = Image.new("RGBA", crop.size, (0, 0, 0, 0))
    ink.putalpha(crop.point(lambda v: 255 - v))
    assert any(w.text == "quick" for w in ocr_image(ink))


def test_blank_and_tiny_images() -> None:
    assert ocr_image(Image.new("RGB", (400, 300), "white")) == []
    assert ocr_image(Image.new("L", (1, 1), 255)) == []


def test_unknown_engine_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OCR_ENGINE_ENV, "nonsense")
    ocr._reset_for_tests()
    try:
        assert not ocr_available()
        assert ocr_backend() is None
        with pytest.raises(ocr.OcrUnavailable, match="nonsense"):
            ocr_image(Image.new("RGB", (10, 10), "white"))
    finally:
        ocr._reset_for_tests()

"""Pages as the engine sees them while processing: size and (lazily rendered) pixels, and OCR for pages with no
usable text layer — the words are written back as an invisible text layer, so layout analysis and text extraction
treat scanned pages like born-digital ones."""

from __future__ import annotations

from concurrent.futures import Executor, Future
from typing import Any

import pymupdf
from PIL import Image

from . import layout as layout_mod
from . import ocr as ocr_mod
from . import textlayer
from .config import ParseConfig
from .errors import EngineError, OcrUnavailable
from .render import render_page
from .types import BBox


def _ocr_image(image: Any, dpi: int) -> list[Any]:
    """OCR words (text, bbox in image pixels, confidence) for a PIL image (ocr.py picks the backend)."""
    try:
        return list(ocr_mod.ocr_image(image, dpi=dpi))
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - the OCR backend's own "unavailable"/runtime errors
        raise OcrUnavailable(f"OCR is not available on this server ({type(exc).__name__}).") from exc


def _word_box(w: Any) -> tuple[float, float, float, float]:
    """An OCR word's (x0, y0, x1, y1) in image pixels, whether given as `bbox` or as fields."""
    box = getattr(w, "bbox", None)
    if box is not None:
        return tuple(float(v) for v in box)  # type: ignore[return-value]
    return (float(w.x0), float(w.y0), float(w.x1), float(w.y1))


def _pil_from_pixmap(pix: pymupdf.Pixmap) -> Any:
    mode = "RGB" if pix.n >= 3 else "L"
    return Image.frombytes(mode, (pix.width, pix.height), pix.samples)


class PageContext:
    """One page being processed. The page image is rendered only when something needs its pixels (OCR, a crop, the
    stored page image), so text-layer pages with lazy page images never render at all."""

    def __init__(self, page: pymupdf.Page, number: int, dpi: int, *, image_input: bool = False) -> None:
        self.page = page
        self.number = number
        self.image_input = image_input  # the page is an image input (PNG, JPEG, TIFF frame...), not a PDF's page
        self.dpi = dpi
        self.scale = dpi / 72.0
        self._pix: pymupdf.Pixmap | None = None
        self._ocr_ahead: Future | None = None
        # Turned upright here: the stored document no longer renders this page as the engine saw it. (An OCR text
        # layer alone does not count: it is invisible, so the stored scan renders the same pixels.)
        self.transformed = False
        self._measure()
        self.ocr: list[tuple[tuple[float, float, float, float], str, float | None]] = []  # points

    def _measure(self) -> None:
        # The size get_pixmap(dpi) gives (checked equal on the corpus at 72–217 dpi), without rendering.
        size = (self.page.rect * pymupdf.Matrix(self.scale, self.scale)).irect
        self.width_px, self.height_px = size.width, size.height

    @property
    def pix(self) -> pymupdf.Pixmap:
        if self._pix is None:
            self._pix = render_page(self.page, self.dpi)
        return self._pix

    def rerender(self) -> None:
        self._pix = None
        self._ocr_ahead = None
        self._measure()

    def start_ocr(self, pool: Executor) -> None:
        """Start OCR of this page's image on `pool` now (the OCR backend runs outside the GIL), so it overlaps the
        previous page's layout analysis; `apply_ocr` then takes the result instead of running OCR itself."""
        self._ocr_ahead = pool.submit(_ocr_image, _pil_from_pixmap(self.pix), self.dpi)

    def take_ocr_ahead(self) -> Future | None:
        ahead, self._ocr_ahead = self._ocr_ahead, None
        return ahead

    def bbox(self, r: tuple[float, float, float, float]) -> BBox:
        s = self.scale
        x0, y0 = max(0.0, r[0] * s), max(0.0, r[1] * s)
        x1, y1 = min(self.width_px, r[2] * s), min(self.height_px, r[3] * s)
        return BBox.from_rect(x0, y0, max(x0, x1), max(y0, y1))


def _ocr_page(ctx: PageContext) -> list[tuple[tuple[float, float, float, float], str, float | None, int]]:
    """OCR words as (box in PDF points, text, confidence, line index)."""
    ahead = ctx.take_ocr_ahead()
    found = ahead.result() if ahead is not None else _ocr_image(_pil_from_pixmap(ctx.pix), ctx.dpi)
    out = []
    for w in found:
        text = str(getattr(w, "text", "")).strip()
        if text:
            x0, y0, x1, y1 = (float(v) / ctx.scale for v in _word_box(w))
            conf = getattr(w, "confidence", None)
            out.append(((x0, y0, x1, y1), text, None if conf is None else float(conf), int(getattr(w, "line", 0) or 0)))
    return out


def _sideways(found: list[Any]) -> bool:
    # Upright words are wider than tall; on a page scanned sideways most multi-letter words are not.
    long_words = [r for r, text, _, _ in found if len(text) >= 3]
    tall = sum(1 for r in long_words if (r[3] - r[1]) > (r[2] - r[0]))
    return bool(long_words) and tall > 0.6 * len(long_words)


_SAME_ROW_PT = 2.0


def _upside_down(found: list[Any]) -> bool:
    """The OCR backend reads flipped pages itself and maps boxes back; its line order then runs up
    the page. Compare successive lines' vertical positions to notice. Lines at the same height (the cells of
    one table row, which Tesseract may give as separate blocks) say nothing either way and are not counted."""
    by_line: dict[int, list[float]] = {}
    for r, _, _, line in found:
        by_line.setdefault(line, []).append((r[1] + r[3]) / 2)
    if len(by_line) < 3:
        return False
    ordered = [sum(v) / len(v) for _, v in sorted(by_line.items())]
    steps = [b - a for a, b in zip(ordered, ordered[1:], strict=False) if abs(b - a) > _SAME_ROW_PT]
    downs = sum(1 for step in steps if step > 0)
    return len(steps) >= 2 and downs < 0.3 * len(steps)


def _turn(ctx: PageContext, angle: int) -> None:
    ctx.page.set_rotation(angle)
    ctx.page.remove_rotation()
    ctx.transformed = True
    ctx.rerender()


def apply_ocr(ctx: PageContext, words: list[Any], warnings: Any, config: ParseConfig) -> list[Any]:
    """OCR the page image and write the words as an invisible text layer, so layout analysis and
    text extraction treat scanned pages like born-digital ones. Sideways and upside-down scans are
    turned upright first (the stored page image is the turned one)."""
    try:
        found = _ocr_page(ctx)
        if _sideways(found):
            _turn(ctx, 90)
            found = _ocr_page(ctx)
        if _upside_down(found):
            w, h = ctx.page.rect.width, ctx.page.rect.height
            found = [((w - r[2], h - r[3], w - r[0], h - r[1]), t, c, -ln) for r, t, c, ln in found]
            _turn(ctx, 180)
    except OcrUnavailable as exc:
        if config.error_handling == "Fail":
            raise OcrUnavailable(
                f"Page {ctx.number} has no text layer and OCR is not available on this server."
            ) from exc
        warnings.add("OCR is not available on this server; pages without a text layer have no text.")
        return words
    for box, text, conf, _ in found:
        ctx.ocr.append((box, text, conf))
    textlayer.write_words(ctx.page, ((box, text) for box, text, _, _ in found))
    return layout_mod.page_words(ctx.page)

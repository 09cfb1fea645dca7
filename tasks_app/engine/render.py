"""Open any accepted input as a PyMuPDF PDF document, and render page images.

Images become one PDF page per frame, sized by the image's own resolution (72 dpi, one point per pixel, when it
states none that is plausible), and render at that resolution, so a page image is the original pixels (no
resampling of scans); office files go through LibreOffice; text/HTML through MuPDF's own layout engine.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pymupdf
from PIL import Image, ImageOps

from . import office
from .config import EngineLimits
from .errors import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    ImageTooLarge,
    TooManyPages,
    UnsupportedFileType,
)
from .ocr import estimate_text_height
from .sniff import IMAGE_KINDS, OFFICE_KINDS, TEXT_KINDS, FileInfo


@dataclass(slots=True)
class OpenedDocument:
    doc: pymupdf.Document
    pdf_bytes: bytes | None  # the PDF rendition to store; None when the input PDF itself is stored
    converted: bool


def _check_pages(doc: pymupdf.Document, limits: EngineLimits) -> None:
    if doc.page_count == 0:
        raise EmptyDocument("The document has no pages.")
    if doc.page_count > limits.max_pages:
        raise TooManyPages(f"The document has {doc.page_count} pages; the limit is {limits.max_pages}.")


# An image's stated resolution is believed within this range (dpi); outside it (0, 1, "aspect ratio only", 10,000)
# it is unset or nonsense. The point size matters: the layout model reads a page as text of a size in points and as
# a 72-dpi picture of the page, so a 500-pixel crop of 8-pixel text made into a page at 144 dpi was a 250-point
# page of 4-point text, which it does not recognise as a table (docs/BENCHMARKS.md, "Tables: PubTabNet TEDS").
PLAUSIBLE_IMAGE_DPI = (72.0, 1200.0)
DEFAULT_IMAGE_DPI = 72
# EXIF orientations that turn the image a quarter (transposed or not): its x and y resolutions swap.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})
# Text whose capitals would be smaller than this at the stated resolution (a font under ~4 pt) says the resolution
# is wrong: an image scaled down but still marked 300 dpi (the corpus's qr_bill_example.jpg, 11 px capitals: 2.6
# pt). Believed, it made the page too small for the layout model, and Tesseract, told 300 dpi, dropped 16 of its
# 183 words. Genuine fine print (5-6 pt) has 3.6-4.3 pt capitals.
_MIN_CAPITALS_PT = 3.0


def image_dpi(im: Image.Image) -> tuple[int, int]:
    """(x, y) pixels per inch for the current frame of `im` after EXIF orientation is applied: its own resolution
    where that is plausible, else DEFAULT_IMAGE_DPI. (`_believable` then checks it against the text's size.)"""
    raw = im.info.get("dpi")
    try:
        x, y = (float(raw[0]), float(raw[1])) if raw else (0.0, 0.0)
    except (TypeError, ValueError, IndexError):
        x = y = 0.0
    lo, hi = PLAUSIBLE_IMAGE_DPI
    if not (lo <= x <= hi and lo <= y <= hi):
        return DEFAULT_IMAGE_DPI, DEFAULT_IMAGE_DPI
    if im.getexif().get(0x0112) in _QUARTER_TURNS:
        x, y = y, x
    return round(x), round(y)


def _believable(dpi: tuple[int, int], frame: Image.Image) -> bool:
    """Whether the text on `frame` is of a printable size at `dpi`; true where there is no text to measure."""
    if dpi == (DEFAULT_IMAGE_DPI, DEFAULT_IMAGE_DPI):
        return True
    height = estimate_text_height(frame)
    return height is None or height * 72 / dpi[1] >= _MIN_CAPITALS_PT  # heights are measured down the page


def _image_to_pdf(path: Path, info: FileInfo, limits: EngineLimits) -> bytes:
    # Pillow's global bomb guard (MAX_IMAGE_PIXELS) stays as configured process-wide: it rejects
    # absurd headers at open(); our own, per-call limit is checked on the header size before decoding.
    out = pymupdf.open()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            n = getattr(im, "n_frames", 1) if info.kind == "tiff" else 1
            if n > limits.max_pages:
                raise TooManyPages(f"The image has {n} pages; the limit is {limits.max_pages}.")
            for i in range(n):
                im.seek(i)
                w, h = im.size
                if w * h > limits.max_image_pixels:
                    raise ImageTooLarge(f"The image is too large to process ({w}x{h} pixels).")
                dpi_x, dpi_y = image_dpi(im)
                frame = ImageOps.exif_transpose(im.copy())
                if frame.mode not in ("RGB", "L"):
                    frame = (
                        frame.convert("RGBA").convert("RGB")
                        if "A" in frame.getbands() or frame.mode == "P"
                        else frame.convert("RGB")
                    )
                if not _believable((dpi_x, dpi_y), frame):
                    dpi_x = dpi_y = DEFAULT_IMAGE_DPI
                buf = io.BytesIO()
                frame.save(buf, format="PNG")
                fw, fh = frame.size
                page = out.new_page(width=fw * 72 / dpi_x, height=fh * 72 / dpi_y)
                page.insert_image(page.rect, stream=buf.getvalue())
        return out.tobytes(garbage=3, deflate=True)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge() from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptDocument("The image is damaged and could not be decoded.") from exc
    finally:
        out.close()


def _text_to_pdf(path: Path, kind: str) -> bytes:
    filetype = {"txt": "txt", "md": "txt", "html": "html", "svg": "svg"}[kind]
    try:
        with pymupdf.open(path, filetype=filetype) as src:
            if src.page_count == 0:
                raise EmptyDocument("The document is empty.")
            return src.convert_to_pdf()
    except EmptyDocument:
        raise
    except Exception as exc:  # noqa: BLE001
        raise CorruptDocument("The text document could not be read.") from exc


def open_document(path: str | Path, info: FileInfo, limits: EngineLimits) -> OpenedDocument:
    path = Path(path)
    pdf_bytes: bytes | None = None
    if info.kind == "pdf":
        if info.encrypted:
            raise EncryptedDocument()
        try:
            doc = pymupdf.open(path, filetype="pdf")
        except Exception as exc:  # noqa: BLE001
            raise CorruptDocument("The PDF is damaged and could not be opened.") from exc
        if doc.needs_pass:
            doc.close()
            raise EncryptedDocument()
        _check_pages(doc, limits)
        return OpenedDocument(doc, None, converted=False)
    if info.kind in IMAGE_KINDS:
        pdf_bytes = _image_to_pdf(path, info, limits)
    elif info.kind in OFFICE_KINDS:
        pdf_bytes = office.convert_to_pdf(path, info.kind, limits.convert_timeout_s)
    elif info.kind in TEXT_KINDS:
        pdf_bytes = _text_to_pdf(path, info.kind)
    else:
        raise UnsupportedFileType()
    try:
        doc = pymupdf.open(stream=pdf_bytes, filetype="pdf")
    except Exception as exc:  # noqa: BLE001
        raise CorruptDocument("The converted document could not be opened.") from exc
    _check_pages(doc, limits)
    return OpenedDocument(doc, pdf_bytes, converted=True)


def image_page_dpi(page: pymupdf.Page) -> int | None:
    """The resolution an image input's page was made at (see `_image_to_pdf`): its image's pixels per inch, the
    larger of the two axes where they differ. None for a page that is not one image."""
    images = page.get_images(full=True)
    if len(images) != 1 or page.rect.is_empty:
        return None
    px_long, px_short = sorted(images[0][2:4], reverse=True)
    pt_long, pt_short = sorted((page.rect.width, page.rect.height), reverse=True)  # the page may have been turned
    return round(max(px_long * 72 / pt_long, px_short * 72 / pt_short)) or None


def page_dpi(page: pymupdf.Page, dpi: int, limits: EngineLimits, *, image_input: bool = False) -> int:
    """The requested dpi, lowered for huge pages so one page image never exceeds the pixel limit. A page made from an
    image input renders at the image's own resolution instead, so its page image (and the boxes, in page-image
    pixels) is the original pixels whatever the dpi requested."""
    if image_input:
        dpi = image_page_dpi(page) or dpi
    w_in, h_in = page.rect.width / 72, page.rect.height / 72
    pixels = w_in * h_in * dpi * dpi
    if pixels <= limits.max_image_pixels:
        return dpi
    scaled = int((limits.max_image_pixels / max(w_in * h_in, 1e-6)) ** 0.5)
    if scaled < 18:
        raise ImageTooLarge("A page is too large to render.")
    return scaled


def render_page(page: pymupdf.Page, dpi: int) -> pymupdf.Pixmap:
    return page.get_pixmap(dpi=dpi, alpha=False)


def page_image_key(number: int, dpi: int) -> str:
    """The asset key of a page image. It names the dpi, so a lazy image can be rendered from the key alone."""
    return f"pages/{number:04d}-{dpi}dpi.png"


# Matches what page_image_key makes, at the end of a stored name: (page number, dpi).
LAZY_PAGE_IMAGE = re.compile(r"(?:^|/)pages/(\d{4,})-(\d{1,4})dpi\.png$")


def render_page_png(pdf: str | Path, number: int, dpi: int) -> bytes:
    """A page image exactly as `parse_document` would have stored it, from the stored `document.pdf`.

    For lazy page images (`ParseOptions.page_images = "lazy"`): the engine skips rendering and PNG encoding
    (two thirds of the time of a Page-strategy parse) for pages it did not transform, and the app calls this
    on the first request for one. Same upright turn, same dpi, so segment boxes line up.
    """
    with pymupdf.open(pdf, filetype="pdf") as doc:
        if not 1 <= number <= doc.page_count:
            raise ValueError(f"page {number} is not in the document")
        page = doc.load_page(number - 1)
        make_upright(page)
        return render_page(page, dpi).tobytes("png")


FIX_FOR_DIR = {(0, 1): 270, (-1, 0): 180, (0, -1): 90}


def make_upright(page: pymupdf.Page) -> None:
    """Analyse the page as displayed, then turn it so that most text runs left to right.

    /Rotate is folded into the content first (coordinates then match the rendered image); pages
    whose text layer still runs sideways or upside down (scanned landscape pages, rotated exports)
    are turned by the angle that makes the dominant text direction horizontal.
    """
    if page.rotation:
        page.remove_rotation()
    votes: dict[tuple[int, int], int] = {}
    for block in page.get_text("dict", flags=0)["blocks"]:
        for line in block.get("lines", []):
            d = (round(line["dir"][0]), round(line["dir"][1]))
            votes[d] = votes.get(d, 0) + sum(len(sp["text"].strip()) for sp in line["spans"])
    if not votes:
        return
    dominant = max(votes, key=lambda d: votes[d])
    fix = FIX_FOR_DIR.get(dominant)
    if fix and votes[dominant] > 0.6 * sum(votes.values()):
        page.set_rotation(fix)
        page.remove_rotation()

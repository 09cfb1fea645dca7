"""The invisible text layer OCR words are written into, so layout analysis and text extraction read scans like
born-digital pages.

Base-14 Helvetica (what PyMuPDF writes by default) encodes Latin-1 only: `≤ ≥ – − μ ∼ ′`, Greek, Cyrillic or CJK
came back as `·`. Here the text goes in as Unicode itself: a composite font whose character codes are UTF-16 code
units (Identity-H), mapped back by a /ToUnicode CMap that is the identity over the Basic Multilingual Plane, drawn
with a one-glyph font program built below (what Tesseract's and OCRmyPDF's PDF output do with their "GlyphLessFont").
Nothing is downloaded or read from disk, every character costs two bytes, and the font is about 400 bytes.

The glyph is a box from the font's descent to its ascent across the whole advance, so a character's box (MuPDF's
accurate boxes are glyph boxes) fills its share of the word: each word reads back with exactly the box OCR gave it.
Characters outside the BMP (emoji, rare CJK) become U+FFFD, and right-to-left words are written in reading order,
which MuPDF then reverses: neither comes out of the OCR engines here (English Tesseract, Chinese/English RapidOCR).
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Iterable

import pymupdf
from pymupdf import mupdf

FONT_NAME = "GlyphLessFont"
RESOURCE_NAME = "ChunkrOCR"  # the page's /Font resource name; unusual, so it never shadows a font of the page
# Font units (1000 per em). Size = 0.85 × box height and baseline 0.2 × height above the box's bottom, as the layer
# was written with Helvetica before; ascent and descent are set so that the glyph box then spans the word's box.
_ASCENT, _DESCENT = 941, -235
_ADVANCE = 500
# MuPDF's text extraction thresholds, in units of the font size (stext-device.c): gaps from SPACE_DIST up to
# SPACE_MAX_DIST are spaces, wider ones start a new line (a table cell); baselines BASE_MAX_DIST apart are lines.
_SPACE_DIST, _SPACE_MAX_DIST, _BASE_MAX_DIST = 0.15, 0.8, 0.8

Box = tuple[float, float, float, float]


def _checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


@functools.cache
def glyphless_font() -> bytes:
    """A TrueType program with two glyphs: an empty .notdef and glyph 1, a filled box of the advance's width from
    the descent to the ascent. Tables: the ones a PDF TrueType program needs (OpenType spec, "Required tables"),
    cmap left out, as PDF CIDFontType2 fonts allow."""
    outline = struct.pack(">hhhhh", 1, 0, _DESCENT, _ADVANCE, _ASCENT)  # one contour and its bounds
    outline += struct.pack(">HH", 3, 0)  # last point index, no instructions
    outline += bytes([0x01] * 4)  # four on-curve points, x and y as 16-bit deltas
    outline += struct.pack(">4h", 0, _ADVANCE, 0, -_ADVANCE) + struct.pack(">4h", _DESCENT, 0, _ASCENT - _DESCENT, 0)
    outline += b"\0" * (-len(outline) % 4)
    name = FONT_NAME.encode("utf-16-be")
    records = [(3, 1, 0x409, name_id, len(name), 0) for name_id in (1, 4, 6)]  # family, full name, PostScript name
    tables = {
        b"glyf": outline,
        b"head": struct.pack(
            ">IIIIHHQQhhhhHHhhh",
            0x10000,
            0x10000,
            0,
            0x5F0F3CF5,
            0x000B,
            1000,
            0,
            0,
            0,
            _DESCENT,
            _ADVANCE,
            _ASCENT,
            0,
            8,
            2,
            0,
            0,
        ),  # fmt: skip
        b"hhea": struct.pack(
            ">IhhhHhhhhhhhhhhhH", 0x10000, _ASCENT, _DESCENT, 0, _ADVANCE, 0, 0, _ADVANCE, 1, 0, 0, 0, 0, 0, 0, 0, 2
        ),
        b"hmtx": struct.pack(">HhHh", _ADVANCE, 0, _ADVANCE, 0),
        b"loca": struct.pack(">3H", 0, 0, len(outline) // 2),
        b"maxp": struct.pack(">IHHHHHHHHHHHHHH", 0x10000, 2, 4, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0),
        b"name": struct.pack(">HHH", 0, len(records), 6 + 12 * len(records))
        + b"".join(struct.pack(">6H", *r) for r in records)
        + name,
        b"post": struct.pack(">IIhhIIIII", 0x30000, 0, 0, 0, 0, 0, 0, 0, 0),
    }
    search = 1 << (len(tables).bit_length() - 1)
    head = struct.pack(
        ">IHHHH", 0x10000, len(tables), search * 16, search.bit_length() - 1, (len(tables) - search) * 16
    )
    directory, body = b"", b""
    offset = 12 + 16 * len(tables)
    for tag in sorted(tables):
        data = tables[tag]
        directory += struct.pack(">4sIII", tag, _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    return head + directory + body


@functools.cache
def _to_unicode() -> bytes:
    # bfrange entries may only vary in their last byte: one per high byte, surrogates left out.
    ranges = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256) if not 0xD8 <= hi <= 0xDF]
    blocks = "\n".join(
        f"{len(ranges[i : i + 100])} beginbfrange\n" + "\n".join(ranges[i : i + 100]) + "\nendbfrange"
        for i in range(0, len(ranges), 100)  # at most 100 entries per block
    )
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        f"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n{blocks}\n"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode()


@functools.cache
def _deflated(name: str) -> bytes:
    data = {"font": glyphless_font, "cid_to_gid": lambda: b"\x00\x01" * 0x10000, "to_unicode": _to_unicode}[name]()
    return zlib.compress(data, 9)


def _add_font(doc: pymupdf.Document) -> int:
    """The font's objects in `doc` (a few KB, streams compressed once per process); returns the Type0 font's xref."""

    def new(obj: str, stream: str | None = None) -> int:
        xref = doc.get_new_xref()
        doc.update_object(xref, obj)
        if stream is not None:
            doc.update_stream(xref, _deflated(stream), compress=0)
            doc.xref_set_key(xref, "Filter", "/FlateDecode")
        return xref

    font_file = new(f"<< /Length1 {len(glyphless_font())} >>", "font")
    every_cid_to_glyph_1 = new("<<>>", "cid_to_gid")
    descriptor = new(
        f"<< /Type /FontDescriptor /FontName /{FONT_NAME} /Flags 4 /FontBBox [0 {_DESCENT} {_ADVANCE} {_ASCENT}]"
        f" /ItalicAngle 0 /Ascent {_ASCENT} /Descent {_DESCENT} /CapHeight {_ASCENT} /StemV 80"
        f" /FontFile2 {font_file} 0 R >>"
    )
    cid_font = new(
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{FONT_NAME}"
        " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
        f" /FontDescriptor {descriptor} 0 R /DW {_ADVANCE} /CIDToGIDMap {every_cid_to_glyph_1} 0 R >>"
    )
    to_unicode = new("<<>>", "to_unicode")
    return new(
        f"<< /Type /Font /Subtype /Type0 /BaseFont /{FONT_NAME} /Encoding /Identity-H"
        f" /DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
    )


def _register(page: pymupdf.Page, font_xref: int) -> None:
    # As PyMuPDF's own Page.insert_font does: into the page's (possibly inherited) /Resources /Font.
    pdf_page = mupdf.pdf_page_from_fz_page(page.this)
    resources_key, font_key = mupdf.pdf_new_name("Resources"), mupdf.pdf_new_name("Font")
    resources = mupdf.pdf_dict_get_inheritable(pdf_page.obj(), resources_key)
    if not resources.pdf_is_dict():
        resources = mupdf.pdf_dict_put_dict(pdf_page.obj(), resources_key, 2)
    fonts = mupdf.pdf_dict_get(resources, font_key)
    if not fonts.pdf_is_dict():
        fonts = mupdf.pdf_dict_put_dict(resources, font_key, 2)
    mupdf.pdf_dict_puts(fonts, RESOURCE_NAME, mupdf.pdf_new_indirect(pdf_page.doc(), font_xref, 0))


def _utf16(text: str) -> str:
    try:
        data = text.encode("utf-16-be")
    except UnicodeEncodeError:  # a lone surrogate
        data = b""
    if len(data) != 2 * len(text):  # something outside the BMP (a surrogate pair) or a lone surrogate
        bmp = "".join(ch if ord(ch) < 0xD800 or 0xE000 <= ord(ch) <= 0xFFFF else "\ufffd" for ch in text)
        data = bmp.encode("utf-16-be")
    return data.hex()


def write_words(page: pymupdf.Page, words: Iterable[tuple[Box, str]]) -> None:
    """Write `words` (box in page coordinates, text; in reading order) into `page` as invisible text, each word
    spanning its box."""
    # Page coordinates (top-left origin) to PDF user space, as plain numbers: pymupdf.Point * Matrix took 60 % of
    # the time here.
    a, b, c, d, e, f = ~page.transformation_matrix
    ops = []
    previous: tuple[float, float, float, float] | None = None  # x1, baseline, size, MuPDF's size of the last word

    def show(x: float, baseline: float, advance: float, size: float, text: str) -> None:
        # Glyph space to page: `advance` per character across, `size` per em upwards (-y on the page).
        across = advance * 1000 / _ADVANCE
        ops.append(
            f"{across * a:.4f} {across * b:.4f} {-size * c:.4f} {-size * d:.4f}"
            f" {x * a + baseline * c + e:.3f} {x * b + baseline * d + f:.3f} Tm <{_utf16(text)}> Tj"
        )

    for (x0, y0, x1, y1), text in words:
        if not text:
            continue
        height, width = max(1.0, y1 - y0), max(0.5, x1 - x0)
        size, baseline, advance = height * 0.85, y1 - 0.2 * height, width / len(text)
        if previous is not None:
            # MuPDF puts a space between words only after Latin, Greek, Cyrillic, Hebrew and Arabic letters and
            # general punctuation (stext-device.c, may_add_space): "≤ 5", "∼ 3" or two CJK words came back as one.
            # So the space is written wherever MuPDF would see a space-sized gap on the same baseline.
            last_x1, last_baseline, last_size, expansion = previous
            gap = (x0 - last_x1) / expansion
            if abs(baseline - last_baseline) < _BASE_MAX_DIST * expansion and _SPACE_DIST <= gap < _SPACE_MAX_DIST:
                show(last_x1, last_baseline, x0 - last_x1, last_size, " ")
        show(x0, baseline, advance, size, text)
        previous = (x0 + width, baseline, size, (advance * 1000 / _ADVANCE * size) ** 0.5)
    if not ops:
        return
    doc = page.parent
    _register(page, _add_font(doc))
    # One content stream appended per page, left uncompressed: the layer lives only in memory while the page is
    # processed, and deflating it took as long as writing it.
    page.wrap_contents()  # the page's own content may leave its graphics state changed
    stream = doc.get_new_xref()
    doc.update_object(stream, "<<>>")
    doc.update_stream(stream, f"q BT 3 Tr /{RESOURCE_NAME} 1 Tf\n{chr(10).join(ops)}\nET Q\n".encode(), compress=0)
    contents = " ".join(f"{xref} 0 R" for xref in [*page.get_contents(), stream])
    doc.xref_set_key(page.xref, "Contents", f"[{contents}]")

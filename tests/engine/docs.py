"""Synthetic test documents built with PyMuPDF (no fixtures on disk)."""

from __future__ import annotations

import io
from pathlib import Path

import pymupdf
from PIL import Image

LOREM = (
    "Document processing systems turn scanned pages and born digital files into structured text. "
    "They detect layout elements such as paragraphs, tables and figures, and they keep the reading "
    "order so that downstream retrieval systems receive coherent passages of text for every page."
)


def _para(page: pymupdf.Page, rect: pymupdf.Rect, text: str, size: float = 10, font: str = "helv") -> None:
    rc = page.insert_textbox(rect, text, fontsize=size, fontname=font)
    assert rc >= 0, f"text did not fit: {rc}"


def _png(w: int = 200, h: int = 120, color: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    im = Image.new("RGB", (w, h), color)
    for x in range(0, w, 10):
        for y in range(h):
            im.putpixel((x, y), (250, 250, 250))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def structured_pdf(path: Path, pages: int = 2) -> Path:
    doc = pymupdf.open()
    for n in range(1, pages + 1):
        page = doc.new_page(width=612, height=792)
        page.insert_text((72, 40), "ACME Corporation Quarterly Report", fontsize=8)
        if n == 1:
            page.insert_text((72, 100), "Annual Results Overview", fontsize=24, fontname="hebo")
        page.insert_text((72, 140), f"{n}. Introduction and Scope", fontsize=14, fontname="hebo")
        _para(page, pymupdf.Rect(72, 150, 540, 220), LOREM)
        y = 230
        items = ("First point about revenue growth", "Second point about costs", "Third point about staff")
        for item in items:
            page.insert_text((80, y), "\u2022", fontsize=10)
            page.insert_text((92, y), item, fontsize=10)
            y += 16
        # Ruled table, 3 columns x 4 rows.
        x = [72, 232, 392, 540]
        ys = [300, 320, 340, 360, 380]
        rows = [
            ["Region", "Revenue", "Growth"],
            ["North", "1200", "5%"],
            ["South", "980", "3%"],
            ["West", "1410", "7%"],
        ]
        shape = page.new_shape()
        for yy in ys:
            shape.draw_line((x[0], yy), (x[-1], yy))
        for xx in x:
            shape.draw_line((xx, ys[0]), (xx, ys[-1]))
        shape.finish(color=(0, 0, 0), width=0.8)
        shape.commit()
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                page.insert_text((x[c] + 4, ys[r] + 14), cell, fontsize=10, fontname="hebo" if r == 0 else "helv")
        page.insert_image(pymupdf.Rect(150, 420, 450, 600), stream=_png())
        page.insert_text((150, 615), "Figure 1: Revenue by region in the last quarter.", fontsize=9, fontname="heit")
        _para(page, pymupdf.Rect(72, 630, 540, 720), LOREM)
        page.insert_text((300, 760), str(n), fontsize=9)
    doc.save(path)
    doc.close()
    return path


def two_column_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 80), "Two Column Study", fontsize=22, fontname="hebo")
    left = " ".join(f"Left column sentence number {i} talks about alpha topics." for i in range(1, 15))
    right = " ".join(f"Right column sentence number {i} talks about beta topics." for i in range(1, 15))
    _para(page, pymupdf.Rect(72, 110, 296, 700), "LEFTSTART " + left + " LEFTEND")
    _para(page, pymupdf.Rect(316, 110, 540, 700), "RIGHTSTART " + right + " RIGHTEND")
    doc.save(path)
    doc.close()
    return path


def rotated_pdf(path: Path, rotation: int = 90) -> Path:
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 100), "Rotated Page Heading", fontsize=20, fontname="hebo")
    _para(page, pymupdf.Rect(72, 130, 540, 300), LOREM)
    page.set_rotation(rotation)
    doc.save(path)
    doc.close()
    return path


def text_pdf(path: Path, text: str, pages: int = 1) -> Path:
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page(width=612, height=792)
        _para(page, pymupdf.Rect(72, 72, 540, 700), text)
    doc.save(path)
    doc.close()
    return path


def scanned_chapters_pdf(path: Path, pages: int, width: float = 612, height: float = 792) -> Path:
    """An image-only PDF (150 dpi scans, no text layer) whose page n reads "Chapter n opens here" and "Body text of
    chapter number n." - each page's OCR can be told apart."""
    source = pymupdf.open()
    for n in range(1, pages + 1):
        page = source.new_page(width=width, height=height)
        page.insert_text((40, 80), f"Chapter {n} opens here", fontsize=24)
        page.insert_textbox(pymupdf.Rect(40, 120, width - 40, 260), f"Body text of chapter number {n}.", fontsize=14)
    scan = pymupdf.open()
    for page in source:
        out = scan.new_page(width=page.rect.width, height=page.rect.height)
        out.insert_image(out.rect, stream=page.get_pixmap(dpi=150).tobytes("png"))
    scan.save(path)
    return path


_DOCX_CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml"
 ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"""
_DOCX_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
 Target="word/document.xml"/>
</Relationships>"""


def docx(path: Path, paragraphs: list[str]) -> Path:
    """A minimal valid .docx written by hand (no python-docx dependency)."""
    import zipfile
    from xml.sax.saxutils import escape

    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", _DOCX_CT)
        zf.writestr("_rels/.rels", _DOCX_RELS)
        zf.writestr("word/document.xml", document)
    return path

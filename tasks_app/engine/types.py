"""Plain output records mirroring API_CONTRACT.md §9.3–9.11.

Units: every box is in page-image pixels at the page's `dpi` (default 144, i.e. PDF points x 2; a page of an
image input is at the image's own resolution, so its boxes are the image's pixels), origin top-left; `Segment.ocr`
boxes are relative to the segment's top-left corner (§9.7).
Asset fields (`Page.image`, `Segment.image`, `ParseResult.pdf_key`) hold storage keys; `to_dict`
turns them into URLs through the caller's `url_for(key) -> str`, so the engine never knows where
assets are served from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

UrlFor = Callable[[str], str]

SEGMENT_TYPES: tuple[str, ...] = (
    "Caption",
    "Footnote",
    "Formula",
    "FormRegion",
    "GraphicalItem",
    "Legend",
    "LineNumber",
    "ListItem",
    "Page",
    "PageFooter",
    "PageHeader",
    "PageNumber",
    "Picture",
    "SectionHeader",
    "Table",
    "Text",
    "Title",
    "Unknown",
)


def _num(v: float) -> float:
    # Round so JSON stays small and stable across platforms; sub-pixel digits carry no meaning.
    return round(float(v), 2)


@dataclass(frozen=True, slots=True)
class BBox:
    """Page-image pixels at the page's dpi, origin top-left."""

    left: float
    top: float
    width: float
    height: float

    @classmethod
    def from_rect(cls, x0: float, y0: float, x1: float, y1: float) -> BBox:
        return cls(x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def relative_to(self, origin: BBox) -> BBox:
        return BBox(self.left - origin.left, self.top - origin.top, self.width, self.height)

    def to_dict(self) -> dict[str, float]:
        return {"left": _num(self.left), "top": _num(self.top), "width": _num(self.width), "height": _num(self.height)}


@dataclass(frozen=True, slots=True)
class OcrResult:
    """One word; `bbox` relative to the owning segment. confidence None = taken from the text layer."""

    ocr_id: str
    bbox: BBox
    text: str
    confidence: float | None = None
    ss_cell_ref: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bbox": self.bbox.to_dict(),
            "text": self.text,
            "confidence": None if self.confidence is None else round(float(self.confidence), 4),
            "ocr_id": self.ocr_id,
            "ss_cell_ref": self.ss_cell_ref,
        }


@dataclass(frozen=True, slots=True)
class CellStyle:
    align: str | None = None
    valign: str | None = None
    bg_color: str | None = None
    text_color: str | None = None
    font_face: str | None = None
    is_bold: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "align": self.align,
            "valign": self.valign,
            "bg_color": self.bg_color,
            "text_color": self.text_color,
            "font_face": self.font_face,
            "is_bold": self.is_bold,
        }


@dataclass(frozen=True, slots=True)
class Cell:
    cell_id: str
    range: str
    text: str
    value: str | None = None
    formula: str | None = None
    hyperlink: str | None = None
    style: CellStyle | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell_id": self.cell_id,
            "range": self.range,
            "text": self.text,
            "value": self.value,
            "formula": self.formula,
            "hyperlink": self.hyperlink,
            "style": self.style.to_dict() if self.style else None,
        }


@dataclass(frozen=True, slots=True)
class Segment:
    segment_id: str
    segment_type: str
    bbox: BBox
    page_number: int
    page_width: float
    page_height: float
    content: str = ""
    text: str = ""
    html: str = ""
    markdown: str = ""
    embed: str | None = None
    segment_length: int | None = None
    confidence: float | None = None
    ocr: tuple[OcrResult, ...] = ()
    image: str | None = None  # asset key
    description: str | None = None
    llm: str | None = None
    ss_cells: tuple[Cell, ...] | None = None
    ss_range: str | None = None
    ss_sheet_name: str | None = None
    ss_header_range: str | None = None
    ss_header_text: str | None = None
    ss_header_bbox: BBox | None = None
    ss_header_ocr: tuple[OcrResult, ...] | None = None

    def to_dict(self, url_for: UrlFor, legacy: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "segment_id": self.segment_id,
            "segment_type": self.segment_type,
            "bbox": self.bbox.to_dict(),
            "page_number": self.page_number,
            "page_width": _num(self.page_width),
            "page_height": _num(self.page_height),
            "content": self.content,
            "text": self.text,
            "embed": self.embed,
            "segment_length": self.segment_length,
            "confidence": None if self.confidence is None else round(float(self.confidence), 4),
            "ocr": [o.to_dict() for o in self.ocr],
            "image": url_for(self.image) if self.image else None,
            "description": self.description,
            "llm": self.llm,
            "ss_cells": None if self.ss_cells is None else [c.to_dict() for c in self.ss_cells],
            "ss_range": self.ss_range,
            "ss_sheet_name": self.ss_sheet_name,
            "ss_header_range": self.ss_header_range,
            "ss_header_text": self.ss_header_text,
            "ss_header_bbox": self.ss_header_bbox.to_dict() if self.ss_header_bbox else None,
            "ss_header_ocr": (None if self.ss_header_ocr is None else [o.to_dict() for o in self.ss_header_ocr]),
        }
        if legacy:
            # §12.5: older consumers read html/markdown instead of content.
            d["html"] = self.html
            d["markdown"] = self.markdown
        return d


@dataclass(frozen=True, slots=True)
class Chunk:
    chunk_id: str
    chunk_length: int
    segments: tuple[Segment, ...]
    content: str | None = None
    embed: str | None = None

    def to_dict(self, url_for: UrlFor, legacy: bool = False) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "chunk_length": self.chunk_length,
            "segments": [s.to_dict(url_for, legacy) for s in self.segments],
            "content": self.content,
            "embed": self.embed,
        }


@dataclass(frozen=True, slots=True)
class Page:
    page_number: int
    page_width: float
    page_height: float
    image: str  # asset key
    dpi: float | None = None
    ss_sheet_name: str | None = None

    def to_dict(self, url_for: UrlFor) -> dict[str, Any]:
        return {
            "page_number": self.page_number,
            "page_width": _num(self.page_width),
            "page_height": _num(self.page_height),
            "image": url_for(self.image),
            "dpi": self.dpi,
            "ss_sheet_name": self.ss_sheet_name,
        }


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The ParseOutputResponse (§9.3) plus engine-side notes that are not part of the contract."""

    chunks: tuple[Chunk, ...]
    pages: tuple[Page, ...]
    pdf_key: str | None
    file_name: str | None
    mime_type: str | None
    page_count: int | None
    warnings: tuple[str, ...] = ()
    configuration: dict[str, Any] = field(default_factory=dict)

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(s for c in self.chunks for s in c.segments)

    def to_dict(self, url_for: UrlFor, include_chunks: bool = True, legacy: bool = False) -> dict[str, Any]:
        return {
            "chunks": [c.to_dict(url_for, legacy) for c in self.chunks] if include_chunks else [],
            "pages": [p.to_dict(url_for) for p in self.pages],
            "pdf_url": url_for(self.pdf_key) if self.pdf_key else None,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "page_count": self.page_count,
        }

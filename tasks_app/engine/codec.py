"""A processed part of a document (pipeline.PagesPart) as plain JSON and back, exactly: a page-range job stores its
part for the merge job, which may run on another machine. JSON rather than pickle, so that bytes read back from a
database or an object store can never run code."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .generate import LlmReport
from .pipeline import PagesPart
from .types import BBox, Cell, CellStyle, OcrResult, Page, Segment

FORMAT = 1


def part_to_dict(part: PagesPart) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "pages": [asdict(page) for page in part.pages],
        "segments": [asdict(segment) for segment in part.segments],
        "warnings": list(part.warnings),
        "textless": list(part.textless),
        "llm": asdict(part.llm),
    }


def part_from_dict(data: dict[str, Any]) -> PagesPart:
    if data.get("format") != FORMAT:
        raise ValueError(f"Unknown page-range format {data.get('format')!r}")
    return PagesPart(
        pages=tuple(Page(**page) for page in data["pages"]),
        segments=tuple(_segment(segment) for segment in data["segments"]),
        warnings=tuple(data["warnings"]),
        textless=tuple(data["textless"]),
        llm=LlmReport(**data["llm"]),
    )


def _ocr(items: list[dict[str, Any]] | None) -> tuple[OcrResult, ...] | None:
    if items is None:
        return None
    return tuple(OcrResult(**{**item, "bbox": BBox(**item["bbox"])}) for item in items)


def _cell(item: dict[str, Any]) -> Cell:
    style = item.get("style")
    return Cell(**{**item, "style": CellStyle(**style) if style is not None else None})


def _segment(data: dict[str, Any]) -> Segment:
    header_bbox = data.get("ss_header_bbox")
    cells = data.get("ss_cells")
    return Segment(
        **{
            **data,
            "bbox": BBox(**data["bbox"]),
            "ocr": _ocr(data.get("ocr")) or (),
            "ss_cells": tuple(_cell(c) for c in cells) if cells is not None else None,
            "ss_header_bbox": BBox(**header_bbox) if header_bbox is not None else None,
            "ss_header_ocr": _ocr(data.get("ss_header_ocr")),
        }
    )

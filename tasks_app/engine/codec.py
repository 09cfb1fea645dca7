"""A processed part of a document (pipeline.PagesPart) as plain JSON and back, exactly: a page-range job stores its
part for the merge job, which may run on another machine. JSON rather than pickle, so that bytes read back from a
database or an object store can never run code.

`part_to_bytes` / `part_from_bytes` are what is stored: the same JSON, written by orjson straight from the dataclasses
and zlib-compressed. For a 25-page range of born-digital pages (2 MB of JSON) `dataclasses.asdict` and the standard
library's json took 0.15-0.25 s each way; orjson and zlib take a tenth of that, and the database keeps a fifth of the
bytes. That time is the range path's overhead over a single job (docs/BENCHMARKS.md, issue 20)."""

from __future__ import annotations

import zlib
from dataclasses import asdict
from typing import Any

import orjson

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


def part_to_bytes(part: PagesPart) -> bytes:
    """The part as zlib-compressed JSON: `part_to_dict`'s document, serialised from the dataclasses directly."""
    document = {
        "format": FORMAT,
        "pages": part.pages,
        "segments": part.segments,
        "warnings": part.warnings,
        "textless": part.textless,
        "llm": part.llm,
    }
    return zlib.compress(orjson.dumps(document), 1)


def part_from_bytes(data: bytes) -> PagesPart:
    return part_from_dict(orjson.loads(zlib.decompress(data)))


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

"""Segment records from a page's words: text joined into paragraphs, boxes grown to hold their words, OCR words
relative to their segment, crops, HTML/Markdown (content.py) and token lengths."""

from __future__ import annotations

import uuid
from typing import Any

import pymupdf

from . import content as content_mod
from . import tables as tables_mod
from .chunking import count_tokens
from .config import GenerationConfig
from .scanned import PageContext
from .types import BBox, OcrResult, Segment

PARAGRAPH_TYPES = frozenset({"Text", "Caption", "Footnote", "ListItem", "Title", "SectionHeader", "Formula"})


def new_id() -> str:
    return str(uuid.uuid4())


def paragraph(text: str) -> str:
    """Join a block's lines into flowing text, undoing end-of-line hyphenation."""
    out = ""
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        if out.endswith("-") and line[:1].islower():
            out = out[:-1] + line
        elif out:
            out += " " + line
        else:
            out = line
    return out


def cover(
    ctx: PageContext, rect: tuple[float, float, float, float], words: list[Any]
) -> tuple[float, float, float, float]:
    """Grow a box to contain its words (text layer and OCR), so segment-relative OCR boxes are
    never negative."""
    boxes = [w[:4] for w in words]
    x0, y0, x1, y1 = rect
    boxes += [
        r for r, _, _ in ctx.ocr if x0 - 1 <= (r[0] + r[2]) / 2 <= x1 + 1 and y0 - 1 <= (r[1] + r[3]) / 2 <= y1 + 1
    ]
    if not boxes:
        return rect
    return (
        min(x0, *(b[0] for b in boxes)),
        min(y0, *(b[1] for b in boxes)),
        max(x1, *(b[2] for b in boxes)),
        max(y1, *(b[3] for b in boxes)),
    )


def ocr_results(
    ctx: PageContext, rect: tuple[float, float, float, float], words: list[Any], seg_box: BBox
) -> tuple[OcrResult, ...]:
    out = []
    if ctx.ocr:
        x0, y0, x1, y1 = rect
        for r, text, conf in ctx.ocr:
            cx, cy = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
            if x0 - 1 <= cx <= x1 + 1 and y0 - 1 <= cy <= y1 + 1:
                out.append(OcrResult(new_id(), ctx.bbox(r).relative_to(seg_box), text, conf))
        return tuple(out)
    for w in sorted(words, key=lambda w: (w[5], w[6], w[7])):
        out.append(OcrResult(new_id(), ctx.bbox(w[:4]).relative_to(seg_box), w[4], None))
    return tuple(out)


def _crop(ctx: PageContext, rect: tuple[float, float, float, float], seg_id: str, sink: Any) -> str | None:
    r = pymupdf.Rect(rect) & ctx.page.rect
    if r.is_empty or r.width < 1 or r.height < 1:
        return None
    pix = ctx.page.get_pixmap(dpi=ctx.dpi, clip=r, alpha=False)
    return sink.put(f"crops/{seg_id}.png", pix.tobytes("png"), "image/png")


def make_segment(
    ctx: PageContext,
    seg_type: str,
    rect: tuple[float, float, float, float],
    words: list[Any],
    gen: GenerationConfig,
    tokenizer: str,
    sink: Any,
    confidence: float | None,
    grid: tables_mod.TableGrid | None = None,
) -> Segment:
    seg_id = new_id()
    rect = cover(ctx, rect, words)
    box = ctx.bbox(rect)
    raw_text = tables_mod.words_text(words)
    if seg_type == "Table" and grid is not None:
        text = grid.text()
    elif seg_type in PARAGRAPH_TYPES:
        text = paragraph(raw_text)
    else:
        text = raw_text
    html, md = content_mod.render(seg_type, text, grid)
    content = html if gen.format == "Html" else md
    image = _crop(ctx, rect, seg_id, sink) if gen.crop_image == "All" else None
    return Segment(
        segment_id=seg_id,
        segment_type=seg_type,
        bbox=box,
        page_number=ctx.number,
        page_width=ctx.width_px,
        page_height=ctx.height_px,
        content=content,
        text=text,
        html=html,
        markdown=md,
        embed=content,
        segment_length=count_tokens(content, tokenizer),
        confidence=confidence,
        ocr=ocr_results(ctx, rect, words, box),
        image=image,
    )

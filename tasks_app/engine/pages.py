"""One page at a time: load it, turn it upright, read its text layer, OCR it if it has none, segment it (layout
analysis, or one Page segment, or a sheet's cells), then ask the model where the configuration says so. The
in-process loop (pipeline.py) and the helper processes (parallel.py) both run pages through here."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import pymupdf

from . import generate as generate_mod
from . import layout as layout_mod
from .chunking import count_tokens
from .config import ParseConfig
from .errors import CorruptDocument, PageTimeout
from .llm_client import LlmEndpoint
from .render import make_upright, page_dpi, page_image_key
from .scanned import PageContext, apply_ocr
from .segments import make_segment
from .sniff import IMAGE_KINDS
from .spreadsheet import sheet_segments
from .tables import find_table_grid
from .types import Page, Segment


class Warnings(list):
    """Messages for the task, each once."""

    def add(self, msg: str) -> None:
        if msg not in self:
            self.append(msg)


@dataclass(frozen=True, slots=True)
class PageJob:
    """What every page of one document is processed with; picklable, so pool processes get the same."""

    kind: str
    config: ParseConfig
    limits: Any
    dpi: int
    tokenizer: str
    llm: LlmEndpoint | None = None  # set when some segment type asks for LLM content or a description
    llm_concurrency: int = 4
    page_images: str = "eager"


@dataclass(frozen=True, slots=True)
class PageOutcome:
    page: Page
    segments: list[Segment]
    warnings: list[str]
    assets: list[tuple[str, bytes, str]] = field(default_factory=list)  # only from pool processes
    llm: generate_mod.LlmReport = field(default_factory=generate_mod.LlmReport)
    no_text: bool = False  # neither the text layer nor OCR gave a word: the task's message says so

    def with_keys(self, stored: dict[str, str]) -> PageOutcome:
        """The outcome with asset keys replaced by the keys the caller's sink stored them under."""
        page = replace(self.page, image=stored.get(self.page.image, self.page.image))
        segments = [replace(s, image=stored.get(s.image, s.image)) if s.image else s for s in self.segments]
        return PageOutcome(page, segments, self.warnings, llm=self.llm, no_text=self.no_text)


@dataclass(slots=True)
class PreparedPage:
    """A page loaded, turned upright and measured, with its text layer read; OCR possibly already running."""

    ctx: PageContext
    words: list[Any]
    needs_ocr: bool


def prepare_page(doc: pymupdf.Document, index: int, job: PageJob, sheet: Any, ocr_pool: Any = None) -> PreparedPage:
    try:
        page = doc.load_page(index)
        make_upright(page)
    except Exception as exc:  # noqa: BLE001
        raise CorruptDocument(f"Page {index + 1} is damaged and could not be read.") from exc
    image_input = job.kind in IMAGE_KINDS
    ctx = PageContext(
        page, index + 1, page_dpi(page, job.dpi, job.limits, image_input=image_input), image_input=image_input
    )
    words = layout_mod.page_words(page)
    needs_ocr = sheet is None and page_needs_ocr(page, words, job.kind)
    if needs_ocr and ocr_pool is not None:
        ctx.start_ocr(ocr_pool)
    return PreparedPage(ctx, words, needs_ocr)


def process_page(
    doc: pymupdf.Document, index: int, job: PageJob, sheet: Any, sink: Any, prepared: PreparedPage | None = None
) -> PageOutcome:
    """Render, OCR if needed, and segment one page, then ask the model where the config says so; assets go to
    `sink`. The per-page time budget covers the local work; model requests are bounded by their own timeouts."""
    started = time.monotonic()
    warnings = Warnings()
    prepared = prepared if prepared is not None else prepare_page(doc, index, job, sheet)
    ctx, words = prepared.ctx, prepared.words
    dpi, number = ctx.dpi, ctx.number
    if prepared.needs_ocr:
        words = apply_ocr(ctx, words, warnings, job.config)
    key = page_image_key(number, dpi)
    if job.page_images == "lazy" and not ctx.transformed:
        image_key = sink.defer(key, "image/png")  # rendered from document.pdf when first asked for
    else:
        image_key = sink.put(key, ctx.pix.tobytes("png"), "image/png")
    page_record = Page(number, ctx.width_px, ctx.height_px, image_key, dpi, sheet.name if sheet else None)
    if sheet is not None:
        segments = sheet_segments(ctx, sheet, words, job.config, job.tokenizer)
    else:
        segments = page_segments(ctx, words, job.config, job.tokenizer, sink)
    elapsed = time.monotonic() - started
    if elapsed > job.limits.page_time_budget_s:
        raise PageTimeout(
            f"Page {number} took {elapsed:.0f} s, over the {job.limits.page_time_budget_s:.0f} s per-page budget."
        )
    if job.llm is None:
        return PageOutcome(page_record, segments, list(warnings), no_text=not words)
    segments, report = generate_mod.generate_page(
        ctx.page,
        ctx.scale,
        number,
        segments,
        job.config,
        job.llm,
        job.llm_concurrency,
        lambda text: count_tokens(text, job.tokenizer),
    )
    return PageOutcome(page_record, segments, list(warnings), llm=report, no_text=not words)


def ocr_ahead(prepared: PreparedPage, index: int) -> bool:
    """Whether to start the next page's OCR while page `index` (prepared) is processed: when this one is scanned,
    so the next likely is, but not beside the document's first page, whose OCR gets a core to itself for the first
    result's sake."""
    return prepared.needs_ocr and index > 0


def _text_layer_usable(words: list[Any]) -> bool:
    if not words:
        return False
    text = "".join(w[4] for w in words)
    bad = sum(1 for ch in text if ch == "\ufffd" or (0xE000 <= ord(ch) <= 0xF8FF))
    return bad <= 0.3 * len(text)


def page_needs_ocr(page: pymupdf.Page, words: list[Any], kind: str) -> bool:
    """A page with no usable text layer that holds raster content, and every image input, is OCRed."""
    return not _text_layer_usable(words) and bool(page.get_images(full=False) or kind in IMAGE_KINDS)


def page_segments(ctx: PageContext, words: list[Any], config: ParseConfig, tokenizer: str, sink: Any) -> list[Segment]:
    page = ctx.page
    if config.segmentation_strategy == "Page":
        gen = config.generation("Page")
        if gen.strategy == "Ignore":
            return []
        return [make_segment(ctx, "Page", tuple(page.rect), words, gen, tokenizer, sink, None)]
    segments = []
    text_layer = not ctx.ocr and not ctx.image_input
    for box in layout_mod.analyze(page, words, image_input=ctx.image_input, text_layer=text_layer):
        gen = config.generation(box.segment_type)
        if gen.strategy == "Ignore":
            continue
        grid = box.grid
        if box.segment_type == "Table" and grid is None:
            grid = find_table_grid(page, box.rect, box.words, box.raw)
        segments.append(
            make_segment(ctx, box.segment_type, box.rect, box.words, gen, tokenizer, sink, box.confidence, grid)
        )
    return segments

"""parse_document: one file in, a ParseResult out, one page at a time.

Pages are loaded, rendered, analysed and released in turn, so memory stays flat however long the
document is; only the (small) segment records accumulate. Boxes are computed in PDF points on the
upright page and scaled to page-image pixels (`dpi / 72`) when segments are built.

OCR decision (both `ocr_strategy` values): a page whose text layer is usable keeps it (born-digital
text is exact; OCR could only degrade it); a page without one that holds raster content, and every
image input, is OCRed through `.ocr` and the words are written back as an invisible text layer so
layout analysis treats scans like born-digital pages. Without an OCR backend such pages fail the
task (`error_handling: Fail`) or come out without text plus a warning (`Continue`).

Segment types configured with `strategy: LLM` or `description: true` are then sent to the model endpoint, page
by page while the page is still open (`.generate`).
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pymupdf

from . import content as content_mod
from . import generate as generate_mod
from . import layout as layout_mod
from . import parallel as parallel_mod
from . import tables as tables_mod
from .config import GenerationConfig, ParseConfig, ParseOptions, tokenizer_name
from .errors import Cancelled, CorruptDocument, PageTimeout
from .llm_client import LlmEndpoint
from .render import make_upright, open_document, page_dpi, page_image_key
from .scanned import PageContext, apply_ocr
from .sniff import IMAGE_KINDS, SPREADSHEET_KINDS, sniff
from .types import BBox, Chunk, OcrResult, Page, ParseResult, Segment

Progress = Callable[[int, int], None]
ShouldCancel = Callable[[], bool]

_PARAGRAPH_TYPES = frozenset({"Text", "Caption", "Footnote", "ListItem", "Title", "SectionHeader", "Formula"})


_REOPEN_EVERY = 20


class _Warnings(list):
    def add(self, msg: str) -> None:
        if msg not in self:
            self.append(msg)


# ---------------------------------------------------------------- adapters to sibling modules


def count_tokens(text: str, tokenizer: str) -> int:
    try:
        from .chunking import count_tokens as _count
    except ImportError:
        return len(text.split())
    return int(_count(text, tokenizer))


def _fallback_chunks(lengths: Sequence[int], target_length: int) -> list[list[int]]:
    """Greedy grouping of whole segments up to target_length tokens; 0 = one segment per chunk."""
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for i, n in enumerate(lengths):
        if current and (target_length == 0 or total + n > target_length):
            groups.append(current)
            current, total = [], 0
        current.append(i)
        total += n
    if current:
        groups.append(current)
    return groups


def _group_chunks(segments: list[Segment], target_length: int, tokenizer: str, warnings: _Warnings) -> list[list[int]]:
    try:
        from .chunking import build_chunks
    except ImportError:
        return _fallback_chunks([s.segment_length or 0 for s in segments], target_length)
    # Header/footer dropping is decided by segment strategies (Ignore) upstream; here they become own chunks.
    groups = build_chunks(segments, target_length, tokenizer, ignore_headers_and_footers=False)
    flat = sorted(i for g in groups for i in g)
    if flat != list(range(len(segments))):
        warnings.add("Chunk grouping returned an inconsistent result; used simple grouping instead.")
        return _fallback_chunks([s.segment_length or 0 for s in segments], target_length)
    return [list(g) for g in groups]


# ---------------------------------------------------------------- helpers


def _new_id() -> str:
    return str(uuid.uuid4())


def _paragraph(text: str) -> str:
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


def _needs_ocr(page: pymupdf.Page, words: list[Any], kind: str) -> bool:
    """A page with no usable text layer that holds raster content, and every image input, is OCRed."""
    return not _text_layer_usable(words) and bool(page.get_images(full=False) or kind in IMAGE_KINDS)


def _first_page_scanned(doc: pymupdf.Document, kind: str) -> bool:
    """Whether the first page will need OCR, which tells how heavy the document's pages are before choosing how
    many processes to give it."""
    if not doc.page_count:
        return False
    try:
        page = doc.load_page(0)
        return _needs_ocr(page, layout_mod.page_words(page), kind)
    except Exception:  # noqa: BLE001 - a damaged first page fails later, with its own message
        return False


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


def _cover(
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


def _ocr_results(
    ctx: PageContext, rect: tuple[float, float, float, float], words: list[Any], seg_box: BBox
) -> tuple[OcrResult, ...]:
    out = []
    if ctx.ocr:
        x0, y0, x1, y1 = rect
        for r, text, conf in ctx.ocr:
            cx, cy = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
            if x0 - 1 <= cx <= x1 + 1 and y0 - 1 <= cy <= y1 + 1:
                out.append(OcrResult(_new_id(), ctx.bbox(r).relative_to(seg_box), text, conf))
        return tuple(out)
    for w in sorted(words, key=lambda w: (w[5], w[6], w[7])):
        out.append(OcrResult(_new_id(), ctx.bbox(w[:4]).relative_to(seg_box), w[4], None))
    return tuple(out)


def _has_inner_vertical_rules(page: pymupdf.Page, rect: tuple[float, float, float, float]) -> bool:
    """True when vector lines separate columns inside the box (a fully ruled table)."""
    x0, y0, x1, y1 = rect
    try:
        drawings = page.get_drawings()
    except Exception:  # noqa: BLE001
        return False
    for d in drawings:
        for item in d.get("items", []):
            if item[0] == "l":
                p1, p2 = item[1], item[2]
                xs, ys = (p1.x, p2.x), (p1.y, p2.y)
            elif item[0] == "re":
                r = item[1]
                if r.width > 3:
                    xs, ys = (r.x0, r.x1), (r.y0, r.y1)
                    # A filled band's edges are borders, not column rules: only thin rects count.
                    continue
                xs, ys = (r.x0, r.x1), (r.y0, r.y1)
            else:
                continue
            if abs(xs[0] - xs[1]) <= 3 and abs(ys[0] - ys[1]) >= 8:
                x = (xs[0] + xs[1]) / 2
                if x0 + 5 < x < x1 - 5 and min(ys) < y1 and max(ys) > y0:
                    return True
    return False


def _find_table_grid(
    page: pymupdf.Page, rect: tuple[float, float, float, float], words: list[Any], raw: dict | None
) -> tables_mod.TableGrid | None:
    """Ruled tables: PyMuPDF's table finder (exact cells and spans from the rulings). Otherwise the
    layout model's predicted grid, which also predicts row/column spans; the finder's text-alignment
    guess is the last resort."""
    layout_grid = tables_mod.grid_from_layout(raw, words) if raw else None
    ruled = _has_inner_vertical_rules(page, rect)
    if layout_grid is not None and not ruled:
        return layout_grid
    try:
        clip = pymupdf.Rect(rect) + (-3, -3, 3, 3)
        found = page.find_tables(clip=clip)
        best = None
        for tab in found.tables:
            inter = pymupdf.Rect(tab.bbox) & pymupdf.Rect(rect)
            if inter.is_empty:
                continue
            if best is None or inter.get_area() > (pymupdf.Rect(best.bbox) & pymupdf.Rect(rect)).get_area():
                best = tab
        if best is not None and best.row_count * best.col_count > 1:
            grid = tables_mod.grid_from_cell_boxes([c for c in best.cells if c], words)
            if grid is not None and grid.n_rows * grid.n_cols > 1:
                return grid
    except Exception:  # noqa: BLE001, S110 - the table finder is a heuristic; fall back below
        pass
    return layout_grid


def _crop(ctx: PageContext, rect: tuple[float, float, float, float], seg_id: str, sink: Any) -> str | None:
    r = pymupdf.Rect(rect) & ctx.page.rect
    if r.is_empty or r.width < 1 or r.height < 1:
        return None
    pix = ctx.page.get_pixmap(dpi=ctx.dpi, clip=r, alpha=False)
    return sink.put(f"crops/{seg_id}.png", pix.tobytes("png"), "image/png")


def _make_segment(
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
    seg_id = _new_id()
    rect = _cover(ctx, rect, words)
    box = ctx.bbox(rect)
    raw_text = tables_mod.words_text(words)
    if seg_type == "Table" and grid is not None:
        text = grid.text()
    elif seg_type in _PARAGRAPH_TYPES:
        text = _paragraph(raw_text)
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
        ocr=_ocr_results(ctx, rect, words, box),
        image=image,
    )


def _page_segments(ctx: PageContext, words: list[Any], config: ParseConfig, tokenizer: str, sink: Any) -> list[Segment]:
    page = ctx.page
    if config.segmentation_strategy == "Page":
        gen = config.generation("Page")
        if gen.strategy == "Ignore":
            return []
        return [_make_segment(ctx, "Page", tuple(page.rect), words, gen, tokenizer, sink, None)]
    segments = []
    for box in layout_mod.analyze(page, words, image_input=ctx.image_input):
        gen = config.generation(box.segment_type)
        if gen.strategy == "Ignore":
            continue
        grid = None
        if box.segment_type == "Table":
            grid = _find_table_grid(page, box.rect, box.words, box.raw)
        segments.append(
            _make_segment(ctx, box.segment_type, box.rect, box.words, gen, tokenizer, sink, box.confidence, grid)
        )
    return segments


# ---------------------------------------------------------------- entry point


def parse_document(
    path: str | Path,
    options: ParseOptions | None = None,
    sink: Any = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
) -> ParseResult:
    """Parse one file. Raises an EngineError subclass for anything the user should be told about."""
    from .assets import NullSink

    options = options or ParseOptions()
    sink = sink if sink is not None else NullSink()
    path = Path(path)
    warnings = _Warnings()
    config, llm = generate_mod.resolve(options.config, options, warnings.add)
    limits = options.limits
    tokenizer = tokenizer_name(config.chunk_processing.tokenizer)

    info = sniff(path, max_bytes=limits.max_bytes)
    if should_cancel and should_cancel():
        raise Cancelled()
    opened = open_document(path, info, limits)
    doc = opened.doc
    sheets = _read_sheets(path, info.kind, doc.page_count, warnings, limits.convert_timeout_s)
    try:
        pdf_bytes = opened.pdf_bytes if opened.pdf_bytes is not None else path.read_bytes()
        pdf_key = sink.put("document.pdf", pdf_bytes, "application/pdf")
        del pdf_bytes
        total = doc.page_count
        job = PageJob(
            kind=info.kind,
            config=config,
            limits=limits,
            dpi=options.dpi,
            tokenizer=tokenizer,
            llm=llm,
            llm_concurrency=max(1, options.llm_concurrency),
            page_images=options.page_images,
        )
        pages: list[Page] = []
        segments: list[Segment] = []
        light = config.segmentation_strategy == "Page" and options.page_images == "lazy" and llm is None
        scanned = _first_page_scanned(doc, info.kind)
        workers = parallel_mod.workers_for(
            total, options.workers, has_sheets=sheets is not None, light=light, scanned=scanned
        )
        if workers > 1:
            doc.close()
            outcomes = parallel_mod.run_pages(
                opened.pdf_bytes if opened.pdf_bytes is not None else path, total, job, workers, should_cancel
            )
        else:
            outcomes = _serial_pages(doc, opened, path, job, sheets, sink, should_cancel)
        llm_report = generate_mod.LlmReport()
        for outcome in outcomes:
            llm_report += outcome.llm
            if outcome.assets:  # produced in a pool process: store them here, under the keys the sink gives
                stored = {
                    key: sink.put(key, data, ctype) if data is not None else sink.defer(key, ctype)
                    for key, data, ctype in outcome.assets
                }
                outcome = outcome.with_keys(stored)
            for message in outcome.warnings:
                warnings.add(message)
            pages.append(outcome.page)
            segments.extend(outcome.segments)
            if progress:
                progress(outcome.page.page_number, total)
        if llm_report.failed:
            warnings.add(llm_report.warning())  # one note for the document, however many segments failed
        groups = _group_chunks(segments, config.chunk_processing.target_length, tokenizer, warnings)
        chunks = []
        for g in groups:
            members = tuple(segments[i] for i in g)
            embed = "\n\n".join(s.embed or "" for s in members if s.embed)
            chunks.append(
                Chunk(
                    chunk_id=_new_id(),
                    chunk_length=count_tokens(embed, tokenizer),
                    segments=members,
                    content="\n\n".join(s.content for s in members if s.content),
                    embed=embed,
                )
            )
        return ParseResult(
            chunks=tuple(chunks),
            pages=tuple(pages),
            pdf_key=pdf_key,
            file_name=options.file_name or path.name,
            mime_type=info.mime_type,
            page_count=total,
            warnings=tuple(warnings),
            configuration=config.to_dict(),
        )
    finally:
        if not doc.is_closed:
            doc.close()


def _serial_pages(
    doc: pymupdf.Document,
    opened: Any,
    path: Path,
    job: PageJob,
    sheets: list[Any] | None,
    sink: Any,
    should_cancel: ShouldCancel | None,
) -> Iterator[PageOutcome]:
    """Pages in order, in this process. A page that needs OCR is prepared one step ahead and its OCR started in a
    thread, so on scanned documents the OCR of page n + 1 runs while page n goes through layout analysis."""
    ocr_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr-ahead")
    ahead: PreparedPage | None = None
    try:
        for index in range(doc.page_count):
            if should_cancel and should_cancel():
                raise Cancelled()
            if index and index % _REOPEN_EVERY == 0:
                # MuPDF keeps per-page caches (text, drawings, table finder) for the life of the document;
                # reopening bounds memory on long documents. Pages are never revisited.
                doc.close()
                doc = (
                    pymupdf.open(stream=opened.pdf_bytes, filetype="pdf")
                    if opened.pdf_bytes is not None
                    else pymupdf.open(path, filetype="pdf")
                )
            sheet = sheets[index] if sheets else None
            current = ahead if ahead is not None else prepare_page(doc, index, job, sheet)
            ahead = None
            following = index + 1
            if ocr_ahead(current, index) and following < doc.page_count and following % _REOPEN_EVERY:
                ahead = prepare_page(doc, following, job, sheets[following] if sheets else None, ocr_pool)
            yield process_page(doc, index, job, sheet, sink, current)
    finally:
        ocr_pool.shutdown(wait=False, cancel_futures=True)
        if not doc.is_closed:
            doc.close()


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

    def with_keys(self, stored: dict[str, str]) -> PageOutcome:
        """The outcome with asset keys replaced by the keys the caller's sink stored them under."""
        page = replace(self.page, image=stored.get(self.page.image, self.page.image))
        segments = [replace(s, image=stored.get(s.image, s.image)) if s.image else s for s in self.segments]
        return PageOutcome(page, segments, self.warnings, llm=self.llm)


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
    needs_ocr = sheet is None and _needs_ocr(page, words, job.kind)
    if needs_ocr and ocr_pool is not None:
        ctx.start_ocr(ocr_pool)
    return PreparedPage(ctx, words, needs_ocr)


def process_page(
    doc: pymupdf.Document, index: int, job: PageJob, sheet: Any, sink: Any, prepared: PreparedPage | None = None
) -> PageOutcome:
    """Render, OCR if needed, and segment one page, then ask the model where the config says so; assets go to
    `sink`. The per-page time budget covers the local work; model requests are bounded by their own timeouts."""
    started = time.monotonic()
    warnings = _Warnings()
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
        segments = _sheet_segments(ctx, sheet, words, job.config, job.tokenizer)
    else:
        segments = _page_segments(ctx, words, job.config, job.tokenizer, sink)
    elapsed = time.monotonic() - started
    if elapsed > job.limits.page_time_budget_s:
        raise PageTimeout(
            f"Page {number} took {elapsed:.0f} s, over the {job.limits.page_time_budget_s:.0f} s per-page budget."
        )
    if job.llm is None:
        return PageOutcome(page_record, segments, list(warnings))
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
    return PageOutcome(page_record, segments, list(warnings), llm=report)


def _read_sheets(path: Path, kind: str, page_count: int, warnings: _Warnings, timeout_s: float) -> list[Any] | None:
    if kind not in SPREADSHEET_KINDS:
        return None
    try:
        from .spreadsheet import read_workbook
    except ImportError:
        warnings.add("openpyxl is not installed; spreadsheet cell details (ss_* fields) are missing.")
        return None
    try:
        sheets = read_workbook(path, kind, timeout_s)
    except Exception:  # noqa: BLE001 - cell details are a bonus on top of the rendered pages
        warnings.add("Spreadsheet cell details could not be read; pages were analysed as images.")
        return None
    if len(sheets) != page_count:
        warnings.add("Sheets and rendered pages did not line up; pages were analysed as images.")
        return None
    if any(s.truncated for s in sheets):
        warnings.add("A sheet has more cells than the engine keeps; its ss_cells list is truncated.")
    return sheets


def _sheet_segments(
    ctx: PageContext, sheet: Any, words: list[Any], config: ParseConfig, tokenizer: str
) -> list[Segment]:
    """One Table segment per sheet, built from the cells rather than from the rendered image."""
    gen = config.generation("Table")
    if gen.strategy == "Ignore" or sheet.grid is None or not sheet.cells:
        return []
    rect = _cover(ctx, (words[0][0], words[0][1], words[0][2], words[0][3]), words) if words else tuple(ctx.page.rect)
    box = ctx.bbox(rect)
    html, md = content_mod.render("Table", "", sheet.grid)
    content = html if gen.format == "Html" else md
    return [
        Segment(
            segment_id=_new_id(),
            segment_type="Table",
            bbox=box,
            page_number=ctx.number,
            page_width=ctx.width_px,
            page_height=ctx.height_px,
            content=content,
            text=sheet.grid.text(),
            html=html,
            markdown=md,
            embed=content,
            segment_length=count_tokens(content, tokenizer),
            confidence=None,
            ocr=_ocr_results(ctx, rect, words, box),
            ss_cells=tuple(sheet.cells),
            ss_range=sheet.range,
            ss_sheet_name=sheet.name,
            ss_header_range=sheet.header_range,
            ss_header_text=sheet.header_text,
        )
    ]


def result_json(result: ParseResult, url_for: Callable[[str], str]) -> str:
    import json

    buf = io.StringIO()
    json.dump(result.to_dict(url_for), buf, ensure_ascii=False)
    return buf.getvalue()

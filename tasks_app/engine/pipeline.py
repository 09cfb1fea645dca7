"""parse_document: one file in, a ParseResult out, one page at a time.

Pages are loaded, rendered, analysed and released in turn, so memory stays flat however long the
document is; only the (small) segment records accumulate. Boxes are computed in PDF points on the
upright page and scaled to page-image pixels (`dpi / 72`) when segments are built.

OCR decision (both `ocr_strategy` values): a page whose text layer is usable keeps it (born-digital
text is exact; OCR could only degrade it); a page without one that holds raster content, and every
image input, is OCRed through `.ocr` and the words are written back as an invisible text layer so
layout analysis treats scans like born-digital pages. Without an OCR backend such pages fail the
task (`error_handling: Fail`) or come out without text plus a warning (`Continue`).

Chunks: page headers, footers and page numbers stay segments but are left out of every chunk's text, riding in
the chunk before them, unless `ignore_headers_and_footers` is explicitly false or `target_length` is 0 (one segment
per chunk, furniture included; see `_attach_furniture`). Pages
that gave no text are named in one warning, which the service appends to the task's message.

Segment types configured with `strategy: LLM` or `description: true` are then sent to the model endpoint, page
by page while the page is still open (`.generate`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pymupdf

from . import generate as generate_mod
from . import layout as layout_mod
from . import parallel as parallel_mod
from .assets import NullSink
from .chunking import FURNITURE_TYPES, ChunkItem, build_chunks, count_tokens
from .config import ParseOptions, tokenizer_name
from .errors import Cancelled
from .pages import PageJob, PageOutcome, PreparedPage, Warnings, ocr_ahead, page_needs_ocr, prepare_page, process_page
from .render import open_document
from .segments import new_id
from .sniff import sniff
from .spreadsheet import read_sheets
from .types import Chunk, Page, ParseResult, Segment

Progress = Callable[[int, int], None]
ShouldCancel = Callable[[], bool]

_REOPEN_EVERY = 20


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


def _group_chunks(
    segments: list[Segment], target_length: int, tokenizer: str, warnings: Warnings, *, furniture_as_text: bool = False
) -> list[list[int]]:
    """Chunks as lists of segment indexes (chunking.build_chunks), each page header, footer and page number placed
    in the chunk of the body segment before it (see _attach_furniture); with `furniture_as_text` they are chunked
    like body text instead."""
    items = [
        ChunkItem(
            "Text" if furniture_as_text and s.segment_type in FURNITURE_TYPES else s.segment_type,
            s.embed or "",
            s.page_number,
        )
        for s in segments
    ]
    groups = build_chunks(items, target_length, tokenizer, ignore_headers_and_footers=True)
    if not furniture_as_text:
        groups = _attach_furniture(groups, segments)
    flat = sorted(i for g in groups for i in g)
    if flat != list(range(len(segments))):
        warnings.add("Chunk grouping returned an inconsistent result; used simple grouping instead.")
        return _fallback_chunks([s.segment_length or 0 for s in segments], target_length)
    return [list(g) for g in groups]


def _attach_furniture(groups: list[list[int]], segments: list[Segment]) -> list[list[int]]:
    """Page headers, footers and page numbers stay segments (the viewer draws them; the API lists them) but are
    neither chunks of their own nor part of any chunk's text: each rides in the chunk of the body segment before it
    (the first chunk, before any body), and parse_document leaves it out of that chunk's content and embed. A
    running header as a chunk of its own was a retrieval hit on every page (issue 17)."""
    furniture = [i for i, s in enumerate(segments) if s.segment_type in FURNITURE_TYPES]
    if not furniture:
        return groups
    if not groups:
        return [furniture]
    owner = {i: k for k, g in enumerate(groups) for i in g}
    body = sorted(owner)
    out = [list(g) for g in groups]
    for f in furniture:
        k = bisect.bisect_left(body, f)
        out[owner[body[k - 1]] if k else 0].append(f)
    return [sorted(g) for g in out]


def no_text_message(pages: Sequence[int], total: int) -> str:
    """The task message's note on pages that gave no text (a picture is still a Picture segment)."""
    if total == 1:
        return "No text was found in this document: it holds images without readable text, or nothing."
    listed = ", ".join(str(n) for n in pages[:10]) + (f" and {len(pages) - 10} more" if len(pages) > 10 else "")
    which = f"page {listed}" if len(pages) == 1 else f"pages {listed}"
    return f"No text was found on {which}: images without readable text, or blank."


def _first_page_scanned(doc: pymupdf.Document, kind: str) -> bool:
    """Whether the first page will need OCR, which tells how heavy the document's pages are before choosing how
    many processes to give it."""
    if not doc.page_count:
        return False
    try:
        page = doc.load_page(0)
        return page_needs_ocr(page, layout_mod.page_words(page), kind)
    except Exception:  # noqa: BLE001 - a damaged first page fails later, with its own message
        return False


def parse_document(
    path: str | Path,
    options: ParseOptions | None = None,
    sink: Any = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
) -> ParseResult:
    """Parse one file. Raises an EngineError subclass for anything the user should be told about."""
    options = options or ParseOptions()
    sink = sink if sink is not None else NullSink()
    path = Path(path)
    warnings = Warnings()
    config, llm = generate_mod.resolve(options.config, options, warnings.add)
    limits = options.limits
    tokenizer = tokenizer_name(config.chunk_processing.tokenizer)

    info = sniff(path, max_bytes=limits.max_bytes)
    if should_cancel and should_cancel():
        raise Cancelled()
    opened = open_document(path, info, limits)
    doc = opened.doc
    sheets = read_sheets(path, info.kind, doc.page_count, warnings.add, limits.convert_timeout_s)
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
        textless: list[int] = []
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
            if outcome.no_text:
                textless.append(outcome.page.page_number)
            pages.append(outcome.page)
            segments.extend(outcome.segments)
            if progress:
                progress(outcome.page.page_number, total)
        if textless:
            warnings.add(no_text_message(textless, total))
        if llm_report.failed:
            warnings.add(llm_report.warning())  # one note for the document, however many segments failed
        # Headers and footers join the chunks' text only when the request says not to ignore them (explicit false),
        # or asks for one segment per chunk (target_length 0: the contract's "exactly one segment per chunk").
        furniture_as_text = (
            config.chunk_processing.ignore_headers_and_footers is False or config.chunk_processing.target_length == 0
        )
        groups = _group_chunks(
            segments, config.chunk_processing.target_length, tokenizer, warnings, furniture_as_text=furniture_as_text
        )
        chunks = []
        for g in groups:
            members = tuple(segments[i] for i in g)
            text = [s for s in members if furniture_as_text or s.segment_type not in FURNITURE_TYPES]
            embed = "\n\n".join(s.embed or "" for s in text if s.embed)
            chunks.append(
                Chunk(
                    chunk_id=new_id(),
                    chunk_length=count_tokens(embed, tokenizer),
                    segments=members,
                    content="\n\n".join(s.content for s in text if s.content),
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

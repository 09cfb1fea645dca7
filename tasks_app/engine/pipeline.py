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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymupdf

from . import generate as generate_mod
from . import layout as layout_mod
from . import parallel as parallel_mod
from .assets import NullSink
from .chunking import FURNITURE_TYPES, ChunkItem, build_chunks, count_tokens
from .config import ParseOptions, tokenizer_name
from .errors import Cancelled, EngineError
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


def _first_page_scanned(doc: pymupdf.Document, kind: str, index: int = 0) -> bool:
    """Whether the first page to process (`index`) will need OCR, which tells how heavy the document's pages are
    before choosing how many processes to give it."""
    if index >= doc.page_count:
        return False
    try:
        page = doc.load_page(index)
        return page_needs_ocr(page, layout_mod.page_words(page), kind)
    except Exception:  # noqa: BLE001 - a damaged first page fails later, with its own message
        return False


@dataclass(frozen=True, slots=True)
class PagesPart:
    """Some pages of a document, processed: what a page-range job hands to the merge (`assemble_result`), and what
    `parse_document` makes of all pages at once. `warnings` come in the order the single pass raises them (the
    configuration's first, then the pages'), so parts joined in page order give the single pass's list."""

    pages: tuple[Page, ...]
    segments: tuple[Segment, ...]
    warnings: tuple[str, ...]
    textless: tuple[int, ...]  # page numbers that gave no text
    llm: generate_mod.LlmReport = field(default_factory=generate_mod.LlmReport)


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
    with _Opened(path, options, should_cancel) as opened:
        pdf_bytes = opened.pdf_bytes if opened.pdf_bytes is not None else path.read_bytes()
        pdf_key = sink.put("document.pdf", pdf_bytes, "application/pdf")
        del pdf_bytes
        part = opened.process(range(opened.total), sink, progress, should_cancel)
        return assemble_result(
            [part],
            options,
            pdf_key=pdf_key,
            file_name=options.file_name or path.name,
            mime_type=opened.info.mime_type,
            page_count=opened.total,
        )


def parse_pages(
    path: str | Path,
    pages: range,
    options: ParseOptions | None = None,
    sink: Any = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
) -> PagesPart:
    """Process the `pages` (0-based, a slice of the document's) of the PDF at `path`, as `parse_document` would
    process them: one range of a long document, on whichever worker took it. Page numbers and asset keys are the
    document's own, so parts from several workers join without renumbering. `progress(done, len(pages))`."""
    options = options or ParseOptions()
    sink = sink if sink is not None else NullSink()
    with _Opened(Path(path), options, should_cancel) as opened:
        if opened.sheets is not None or opened.info.kind != "pdf":
            raise EngineError("Only PDF documents are processed by page range.")
        if pages.step != 1 or pages.start < 0 or pages.stop > opened.total or not len(pages):
            raise EngineError(f"Pages {pages.start + 1}-{pages.stop} are not in this {opened.total}-page document.")
        return opened.process(pages, sink, progress, should_cancel)


def assemble_result(
    parts: Sequence[PagesPart],
    options: ParseOptions,
    *,
    pdf_key: str | None,
    file_name: str | None,
    mime_type: str | None,
    page_count: int,
) -> ParseResult:
    """The document's result from its parts in page order: warnings, then chunks built over all segments at once
    (a chunk may span two parts, exactly as in one pass)."""
    warnings = Warnings()
    config, _ = generate_mod.resolve(options.config, options, lambda _message: None)
    tokenizer = tokenizer_name(config.chunk_processing.tokenizer)
    pages: list[Page] = []
    segments: list[Segment] = []
    textless: list[int] = []
    llm_report = generate_mod.LlmReport()
    for part in parts:
        for message in part.warnings:
            warnings.add(message)
        pages.extend(part.pages)
        segments.extend(part.segments)
        textless.extend(part.textless)
        llm_report += part.llm
    if textless:
        warnings.add(no_text_message(textless, page_count))
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
        file_name=file_name,
        mime_type=mime_type,
        page_count=page_count,
        warnings=tuple(warnings),
        configuration=config.to_dict(),
    )


class _Opened:
    """A document opened for processing: sniffed, converted to PDF where needed, its configuration settled."""

    def __init__(self, path: Path, options: ParseOptions, should_cancel: ShouldCancel | None) -> None:
        self.path = path
        self.options = options
        self.warnings = Warnings()
        self.config, self.llm = generate_mod.resolve(options.config, options, self.warnings.add)
        self.tokenizer = tokenizer_name(self.config.chunk_processing.tokenizer)
        limits = options.limits
        self.info = sniff(path, max_bytes=limits.max_bytes)
        if should_cancel and should_cancel():
            raise Cancelled()
        self.opened = open_document(path, self.info, limits)
        self.doc = self.opened.doc
        try:
            self.sheets = read_sheets(
                path, self.info.kind, self.doc.page_count, self.warnings.add, limits.convert_timeout_s
            )
        except BaseException:
            self.doc.close()
            raise
        self.pdf_bytes = self.opened.pdf_bytes
        self.total = self.doc.page_count

    def __enter__(self) -> _Opened:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.doc.is_closed:
            self.doc.close()

    def process(
        self, indices: range, sink: Any, progress: Progress | None, should_cancel: ShouldCancel | None
    ) -> PagesPart:
        options, config, doc = self.options, self.config, self.doc
        job = PageJob(
            kind=self.info.kind,
            config=config,
            limits=options.limits,
            dpi=options.dpi,
            tokenizer=self.tokenizer,
            llm=self.llm,
            llm_concurrency=max(1, options.llm_concurrency),
            page_images=options.page_images,
        )
        warnings = Warnings()
        for message in self.warnings:
            warnings.add(message)
        pages: list[Page] = []
        segments: list[Segment] = []
        light = config.segmentation_strategy == "Page" and options.page_images == "lazy" and self.llm is None
        scanned = _first_page_scanned(doc, self.info.kind, indices.start)
        workers = parallel_mod.workers_for(
            len(indices), options.workers, has_sheets=self.sheets is not None, light=light, scanned=scanned
        )
        if workers > 1:
            doc.close()
            outcomes = parallel_mod.run_pages(
                self.pdf_bytes if self.pdf_bytes is not None else self.path, indices, job, workers, should_cancel
            )
        else:
            outcomes = _serial_pages(doc, self.opened, self.path, job, self.sheets, sink, should_cancel, indices)
        llm_report = generate_mod.LlmReport()
        textless: list[int] = []
        for done, outcome in enumerate(outcomes, start=1):
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
                progress(done, len(indices))
        return PagesPart(tuple(pages), tuple(segments), tuple(warnings), tuple(textless), llm_report)


def _serial_pages(
    doc: pymupdf.Document,
    opened: Any,
    path: Path,
    job: PageJob,
    sheets: list[Any] | None,
    sink: Any,
    should_cancel: ShouldCancel | None,
    indices: range,
) -> Iterator[PageOutcome]:
    """Pages in order, in this process. A page that needs OCR is prepared one step ahead and its OCR started in a
    thread, so on scanned documents the OCR of page n + 1 runs while page n goes through layout analysis."""
    ocr_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr-ahead")
    ahead: PreparedPage | None = None
    try:
        for index in indices:
            if should_cancel and should_cancel():
                raise Cancelled()
            if index > indices.start and index % _REOPEN_EVERY == 0:
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
            if ocr_ahead(current, index) and following < indices.stop and following % _REOPEN_EVERY:
                ahead = prepare_page(doc, following, job, sheets[following] if sheets else None, ocr_pool)
            yield process_page(doc, index, job, sheet, sink, current)
    finally:
        ocr_pool.shutdown(wait=False, cancel_futures=True)
        if not doc.is_closed:
            doc.close()

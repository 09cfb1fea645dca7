"""`strategy: LLM` and `description: true` (API_CONTRACT §8.5): segment content and descriptions from a vision model.

Runs inside `process_page` (so in pool processes too) while the page is still open. Crops, and the whole page for
`extended_context`, are rendered in memory on the calling thread (MuPDF is not thread-safe), scaled so that their
longest side is at most MAX_IMAGE_SIDE pixels, and sent as PNG data URLs to the OpenAI-compatible endpoint, at most
`concurrency` requests at a time per page. Whether a crop is also *stored* is still decided by `crop_image` alone.

An answer becomes the segment's content in its configured format. HTML goes through nh3 (ammonia's allow-list,
less <img>), Markdown gets its raw-HTML openings and script links escaped, so a model can inject markup no more
than a document can (see .content). Formulas are LaTeX in Markdown (`$$…$$`); with format Html they are wrapped,
escaped, as Auto wraps them. The other of html/markdown keeps the Auto rendering; `text` stays the words on the
page; `embed` is the content plus the description (§9.5).

Failures: with `error_handling: Fail` the first one stops the parse with an LlmError naming page, segment type and
cause; with `Continue` the segment keeps its Auto output (or gets no description) and the failure is counted in
the page's LlmReport, which parse_document turns into one warning for the whole document.
"""

from __future__ import annotations

import html as html_mod
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any

import nh3
import pymupdf

from .config import GenerationConfig, ParseConfig, ParseOptions
from .errors import LlmError, LlmUnavailable
from .llm_client import ChatClient, LlmEndpoint, answer_text, png_data_url, strip_fences
from .types import Segment

MAX_IMAGE_SIDE = 1568  # px; vision endpoints scale larger images down themselves, after the upload
DESCRIPTION_MAX_CHARS = 2000

_SYSTEM = (
    "You read regions of document pages from images and write them out faithfully. Transcribe exactly what is "
    "shown and never invent content. Answer with the requested output only: no explanations, no code fences."
)
_HTML_TAGS = nh3.ALLOWED_TAGS - {"img"}  # a model-written <img> would fetch a remote URL wherever it is shown
_CODE_RE = re.compile(r"(```.*?```|`[^`\n]+`)", re.S)  # raw HTML is literal text inside code
_TAG_OPEN_RE = re.compile(r"(\\*)<(?=[A-Za-z/!?])")
_SCRIPT_LINK_RE = re.compile(r"(\]\(\s*<?|^\s*\[[^\]\n]+\]:\s*<?)\s*(?:javascript|vbscript|data)\s*:", re.I | re.M)


@dataclass(frozen=True, slots=True)
class LlmReport:
    """One page's model requests; `reason` is the last failure's cause (error_handling Continue)."""

    calls: int = 0
    failed: int = 0
    reason: str | None = None

    def __add__(self, other: LlmReport) -> LlmReport:
        return LlmReport(self.calls + other.calls, self.failed + other.failed, other.reason or self.reason)

    def warning(self) -> str:
        return (
            f"The LLM failed on {self.failed} of {self.calls} requests (last cause: {self.reason}); those segments "
            "kept their Auto output and got no description."
        )


@dataclass(frozen=True, slots=True)
class _Request:
    index: int  # the segment's position in the page's list
    kind: str  # "content" | "description"
    body: dict[str, Any]
    parse: Callable[[Any], str]


def resolve(
    config: ParseConfig, options: ParseOptions, warn: Callable[[str], None]
) -> tuple[ParseConfig, LlmEndpoint | None]:
    """Settle LLM and description requests before any work, so a missing endpoint fails at once: the config to
    run with and the endpoint to ask (None when nothing needs a model). Without an endpoint, `Fail` raises
    LlmUnavailable and `Continue` runs those types as Auto and says so through `warn`."""
    wanted = [k for k, g in config.segment_processing.items() if g.strategy == "LLM" or g.description]
    if not wanted:
        return config, None
    if options.llm_base_url:
        endpoint = LlmEndpoint(
            base_url=options.llm_base_url,
            api_key=options.llm_api_key,
            model=options.llm_model or "gpt-4o-mini",
            timeout_s=options.llm_timeout_s,
            max_retries=options.llm_max_retries,
        )
        return config, endpoint
    if config.error_handling == "Fail":
        raise LlmUnavailable(
            "No LLM endpoint is configured, but the configuration asks for LLM generation or "
            f"descriptions ({', '.join(wanted)}). Use strategy Auto or error_handling Continue."
        )
    warn(f"No LLM endpoint is configured; used Auto generation for: {', '.join(wanted)}.")
    auto = {
        k: (GenerationConfig(**{**g.to_dict(), "strategy": "Auto", "description": False}) if k in wanted else g)
        for k, g in config.segment_processing.items()
    }
    return replace(config, segment_processing=auto), None


def clean_html(text: str) -> str:
    return nh3.clean(text, tags=_HTML_TAGS).strip()


def safe_markdown(text: str) -> str:
    """Markdown with every raw-HTML opening backslash-escaped and script/data link targets defused; code stays."""
    pieces = _CODE_RE.split(text)
    for i in range(0, len(pieces), 2):  # even pieces lie outside code spans and fences
        piece = _TAG_OPEN_RE.sub(lambda m: m.group(1) + ("<" if len(m.group(1)) % 2 else "\\<"), pieces[i])
        pieces[i] = _SCRIPT_LINK_RE.sub(lambda m: m.group(1) + "#", piece)
    return "".join(pieces).strip()


def _label(segment_type: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", segment_type).lower()  # "SectionHeader" -> "section header"


def _content_instruction(segment_type: str, fmt: str) -> str:
    as_html = fmt == "Html"
    kind = "an HTML fragment (no <html>, <head> or <body>)" if as_html else "Markdown"
    if segment_type == "Table":
        if as_html:
            return (
                "Transcribe this table as one HTML <table> element: <th> for header cells, <td> for the others, "
                "colspan and rowspan for merged cells, no other attributes."
            )
        return "Transcribe this table as a GitHub-flavoured Markdown table: a header row, a separator row, the rows."
    if segment_type == "Formula":
        return "Transcribe this formula as LaTeX in Markdown display math: $$ ... $$."
    if segment_type == "Picture":
        return (
            f"Describe this picture in {kind}: what it shows, then any text, labels or values in it; for a chart, "
            "give its data as a table."
        )
    if segment_type == "Page":
        return f"Transcribe this page in reading order as {kind}: headings, paragraphs, lists and tables."
    return f"Transcribe the text of this {_label(segment_type)} as {kind}, keeping its structure (lists, emphasis)."


def _description_instruction(segment_type: str) -> str:
    return (
        f"Describe this {_label(segment_type)} in one to three plain sentences for a reader who cannot see it: what "
        "it shows and what it is for. Plain text only."
    )


def _content_parser(segment_type: str, fmt: str) -> Callable[[Any], str]:
    def parse(payload: Any) -> str:
        text = strip_fences(answer_text(payload))
        if segment_type == "Table" and fmt == "Html":
            low = text.lower()
            start, end = low.find("<table"), low.rfind("</table>")
            if start < 0:
                raise ValueError("no HTML table in the answer")
            text = text[start : end + len("</table>") if end > start else len(text)]
        out = clean_html(text) if fmt == "Html" and segment_type != "Formula" else safe_markdown(text)
        if not out:
            raise ValueError("empty answer")
        if segment_type == "Table" and fmt == "Html" and not re.search(r"<t[dh][\s>]", out):
            raise ValueError("no table cells")
        return out

    return parse


def _parse_description(payload: Any) -> str:
    text = " ".join(strip_fences(answer_text(payload)).split())
    if not text:
        raise ValueError("empty answer")
    return text[:DESCRIPTION_MAX_CHARS]


def _render_png(page: pymupdf.Page, rect: pymupdf.Rect, scale: float) -> bytes | None:
    r = rect & page.rect
    if r.is_empty or r.width < 1 or r.height < 1:
        return None
    zoom = min(scale, MAX_IMAGE_SIDE / max(r.width, r.height))
    return page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=r, alpha=False).tobytes("png")


def _body(model: str, instruction: str, image_urls: list[str]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": instruction}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in image_urls]
    return {
        "model": model,
        "messages": [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": parts}],
        "temperature": 0,
    }


def _requests(
    page: pymupdf.Page, scale: float, segments: list[Segment], config: ParseConfig, model: str
) -> list[_Request]:
    out: list[_Request] = []
    page_url: str | None = None  # one copy for every request that wants the page (it can be megabytes)
    for index, seg in enumerate(segments):
        gen = config.generation(seg.segment_type)
        if gen.strategy != "LLM" and not gen.description:
            continue
        b = seg.bbox
        crop = _render_png(page, pymupdf.Rect(b.left, b.top, b.right, b.bottom) / scale, scale)
        if crop is None:
            continue  # a degenerate box: nothing to show the model
        images = [png_data_url(crop)]
        context = ""
        if gen.extended_context and seg.segment_type != "Page":
            if page_url is None:
                page_png = _render_png(page, page.rect, scale)
                page_url = png_data_url(page_png) if page_png else ""
            if page_url:
                images.append(page_url)
                context = (
                    " The first image is the segment; the second shows its whole page, for context only: write "
                    "out the segment alone."
                )
        extra = f"\n\nAlso: {gen.llm}" if gen.llm else ""  # the deprecated per-type custom prompt
        if gen.strategy == "LLM":
            instruction = _content_instruction(seg.segment_type, gen.format) + context + extra
            out.append(
                _Request(
                    index, "content", _body(model, instruction, images), _content_parser(seg.segment_type, gen.format)
                )
            )
        if gen.description:
            instruction = _description_instruction(seg.segment_type) + context
            out.append(_Request(index, "description", _body(model, instruction, images), _parse_description))
    return out


def _apply(
    seg: Segment, config: ParseConfig, content: str | None, description: str | None, count: Callable[[str], int]
) -> Segment:
    fmt = config.generation(seg.segment_type).format
    html, md = seg.html, seg.markdown
    if content is not None:
        if seg.segment_type == "Formula":
            md, html = content, f'<span class="formula">{html_mod.escape(content)}</span>'
        elif fmt == "Html":
            html = content
        else:
            md = content
    main = html if fmt == "Html" else md
    desc = description if description is not None else seg.description
    embed = "\n\n".join(p for p in (main, desc) if p)
    return replace(
        seg, content=main, html=html, markdown=md, description=desc, embed=embed, segment_length=count(embed)
    )


def generate_page(
    page: pymupdf.Page,
    scale: float,
    number: int,
    segments: list[Segment],
    config: ParseConfig,
    endpoint: LlmEndpoint,
    concurrency: int,
    count: Callable[[str], int],
) -> tuple[list[Segment], LlmReport]:
    """Ask the model for every LLM-strategy segment's content and every wanted description on one page.

    `scale` is page-image pixels per PDF point (segment boxes are in pixels); `count` counts tokens of an embed."""
    requests = _requests(page, scale, segments, config, endpoint.model)
    if not requests:
        return segments, LlmReport()
    answers: dict[tuple[int, str], str] = {}
    failed, reason = 0, None
    with (
        ChatClient(endpoint, what="The LLM") as chat,
        ThreadPoolExecutor(max(1, min(concurrency, len(requests))), thread_name_prefix="llm") as pool,
    ):
        futures = {pool.submit(chat.complete, lambda r=r: r.body, r.parse): r for r in requests}
        for future in as_completed(futures):
            req = futures[future]
            try:
                answers[(req.index, req.kind)] = future.result()
            except LlmError as exc:
                if config.error_handling == "Fail":
                    chat.stop()  # requests still running give up instead of retrying
                    for f in futures:
                        f.cancel()
                    what = "content" if req.kind == "content" else "a description"
                    seg_type = segments[req.index].segment_type
                    raise LlmError(
                        f"The LLM could not produce {what} for a {seg_type} segment on page {number}: {exc.reason}.",
                        reason=exc.reason,
                    ) from exc
                failed, reason = failed + 1, exc.reason
    out = [
        _apply(s, config, answers.get((i, "content")), answers.get((i, "description")), count)
        if (i, "content") in answers or (i, "description") in answers
        else s
        for i, s in enumerate(segments)
    ]
    return out, LlmReport(len(requests), failed, reason)

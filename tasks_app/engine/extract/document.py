"""The parse output (ParseOutputResponse dict, API_CONTRACT §9.3) as words, lines and phrases.

Words come from each segment's `ocr` list (segment-relative boxes, §9.7) and are moved to page
coordinates, so every extracted value can cite the exact boxes of its own words. Lines are rebuilt
per page from word geometry (not from segments), so label/value pairs that layout analysis put in
different segments still meet; a phrase is a run of words on a line without a wide gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import EngineError

CHECK_ON = frozenset({"☑", "☒", "■", "✓", "✔", "✗", "✘", "[x]", "[X]", "(x)", "(X)", "[✓]", "[✔]", "⊠", "▣"})
CHECK_OFF = frozenset({"☐", "□", "[ ]", "[]", "( )", "()", "○", "◯"})


class ParseOutputInvalid(EngineError):
    default_message = "The parse output to extract from is not a valid ParseOutputResponse."


@dataclass(slots=True)
class SegInfo:
    segment_id: str
    segment_type: str
    page_number: int
    page_width: float
    page_height: float
    bbox: tuple[float, float, float, float]
    text: str


@dataclass(slots=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    page: int
    seg: int  # index into Document.segments
    order: int  # reading order over the document
    line: int = -1

    @property
    def h(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(slots=True)
class Phrase:
    words: list[Word]
    line: int

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def y0(self) -> float:
        return min(w.y0 for w in self.words)

    @property
    def y1(self) -> float:
        return max(w.y1 for w in self.words)

    @property
    def page(self) -> int:
        return self.words[0].page


@dataclass(slots=True)
class Line:
    index: int
    page: int
    words: list[Word]
    phrases: list[Phrase] = field(default_factory=list)

    @property
    def y0(self) -> float:
        return min(w.y0 for w in self.words)

    @property
    def y1(self) -> float:
        return max(w.y1 for w in self.words)

    @property
    def height(self) -> float:
        hs = sorted(w.h for w in self.words)
        return hs[len(hs) // 2]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(slots=True)
class Document:
    segments: list[SegInfo]
    words: list[Word]
    lines: list[Line]
    pages: list[int]
    page_sizes: dict[int, tuple[float, float]]
    day_first: bool | None = None

    def lines_on(self, page: int) -> list[Line]:
        return [ln for ln in self.lines if ln.page == page]

    def page_text(self, page: int) -> str:
        return "\n".join(ln.text for ln in self.lines if ln.page == page)


def _segments(parse_output: Any) -> list[dict[str, Any]]:
    if not isinstance(parse_output, dict):
        raise ParseOutputInvalid("The parse output must be a JSON object (ParseOutputResponse).")
    chunks = parse_output.get("chunks")
    if not isinstance(chunks, list):
        raise ParseOutputInvalid("The parse output has no 'chunks' list; parse the document with chunks included.")
    out = []
    for chunk in chunks:
        segs = chunk.get("segments") if isinstance(chunk, dict) else None
        if not isinstance(segs, list):
            raise ParseOutputInvalid("A chunk in the parse output has no 'segments' list.")
        out.extend(s for s in segs if isinstance(s, dict))
    return out


def _num(v: Any, default: float = 0.0) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def build_document(parse_output: Any, pages: set[int] | None = None) -> Document:
    segments: list[SegInfo] = []
    words: list[Word] = []
    page_sizes: dict[int, tuple[float, float]] = {}
    for raw in _segments(parse_output):
        try:
            page = int(raw.get("page_number") or 1)
        except (TypeError, ValueError):
            raise ParseOutputInvalid("A segment in the parse output has an invalid page_number.") from None
        if pages is not None and page not in pages:
            continue
        bbox = raw.get("bbox") or {}
        left, top = _num(bbox.get("left")), _num(bbox.get("top"))
        width, height = _num(bbox.get("width")), _num(bbox.get("height"))
        info = SegInfo(
            segment_id=str(raw.get("segment_id") or ""),
            segment_type=str(raw.get("segment_type") or "Text"),
            page_number=page,
            page_width=_num(raw.get("page_width")),
            page_height=_num(raw.get("page_height")),
            bbox=(left, top, left + width, top + height),
            text=str(raw.get("text") or ""),
        )
        page_sizes.setdefault(page, (info.page_width, info.page_height))
        idx = len(segments)
        segments.append(info)
        ocr = raw.get("ocr") or []
        got = False
        for o in ocr:
            if not isinstance(o, dict):
                continue
            text = str(o.get("text") or "").strip()
            b = o.get("bbox") or {}
            if not text:
                continue
            x0, y0 = left + _num(b.get("left")), top + _num(b.get("top"))
            # OCR results may be whole lines; split them so values can still be cited word by word.
            parts = text.split()
            w = _num(b.get("width"))
            total = sum(len(p) for p in parts) + len(parts) - 1
            cursor = 0
            for p in parts:
                px0 = x0 + w * cursor / max(1, total)
                px1 = x0 + w * (cursor + len(p)) / max(1, total)
                words.append(Word(p, px0, y0, px1, y0 + _num(b.get("height")), page, idx, len(words)))
                cursor += len(p) + 1
            got = True
        if not got and info.text.strip():
            # No word boxes (e.g. generated content): the segment's own box is the finest evidence.
            for p in info.text.split():
                words.append(Word(p, left, top, left + width, top + height, page, idx, len(words)))
    lines = _build_lines(words)
    doc = Document(segments, words, lines, sorted(page_sizes), page_sizes)
    doc.day_first = _infer_day_first(words)
    return doc


def _build_lines(words: list[Word]) -> list[Line]:
    lines: list[Line] = []
    by_page: dict[int, list[Word]] = {}
    for w in words:
        by_page.setdefault(w.page, []).append(w)
    for page in sorted(by_page):
        current: list[list[Word]] = []
        for w in sorted(by_page[page], key=lambda w: ((w.y0 + w.y1) / 2, w.x0)):
            cy = (w.y0 + w.y1) / 2
            placed = False
            # Compare with the last few lines only: words arrive sorted by their vertical centre.
            for ln in reversed(current[-3:]):
                ly0 = min(x.y0 for x in ln)
                ly1 = max(x.y1 for x in ln)
                mid = (ly0 + ly1) / 2
                if abs(cy - mid) <= 0.35 * max(w.h, ly1 - ly0) and not any(_overlaps_x(w, x) for x in ln):
                    ln.append(w)
                    placed = True
                    break
            if not placed:
                current.append([w])
        for ws in current:
            ws.sort(key=lambda w: w.x0)
            ws = _merge_brackets(ws)
            line = Line(len(lines), page, ws)
            for w in ws:
                w.line = line.index
            line.phrases = _phrases(line)
            lines.append(line)
    return lines


def _merge_brackets(ws: list[Word]) -> list[Word]:
    """'[ ]' comes out of a text layer as two words; an empty checkbox is one mark."""
    out: list[Word] = []
    for w in ws:
        if out and w.text in ("]", ")") and out[-1].text in ("[", "(") and w.x0 - out[-1].x1 < 2 * w.h:
            prev = out.pop()
            w = Word(prev.text + " " + w.text, prev.x0, min(prev.y0, w.y0), w.x1, max(prev.y1, w.y1), w.page, w.seg,
                     prev.order)  # fmt: skip
        out.append(w)
    return out


def _overlaps_x(a: Word, b: Word) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 * min(a.x1 - a.x0, b.x1 - b.x0)


def _phrases(line: Line) -> list[Phrase]:
    height = line.height or 10.0
    out: list[Phrase] = []
    cur: list[Word] = []
    for w in line.words:
        # A gap wider than ~1.1 x the text height (about three spaces) separates columns / fields.
        if cur and (w.x0 - cur[-1].x1 > 1.1 * height or _is_mark(w.text) or _is_mark(cur[-1].text)):
            out.append(Phrase(cur, line.index))
            cur = []
        cur.append(w)
    if cur:
        out.append(Phrase(cur, line.index))
    return out


def _is_mark(text: str) -> bool:
    return text in CHECK_ON or text in CHECK_OFF


_NUM_DATE = re.compile(r"\b(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\b")


def _infer_day_first(words: list[Word]) -> bool | None:
    """Decide dd/mm vs mm/dd for the whole document from its unambiguous numeric dates."""
    votes = 0
    for w in words:
        m = _NUM_DATE.search(w.text)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a > 12 >= b:
                votes += 1
            elif b > 12 >= a:
                votes -= 1
    if votes > 0:
        return True
    if votes < 0:
        return False
    return None

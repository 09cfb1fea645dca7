"""The parse output (ParseOutputResponse dict, API_CONTRACT §9.3) as words, lines and phrases.

Words come from each segment's `ocr` list (segment-relative boxes, §9.7) and are moved to page
coordinates, so every extracted value can cite the exact boxes of its own words. Lines are rebuilt
per page from word geometry (not from segments), so label/value pairs that layout analysis put in
different segments still meet; a phrase is a run of words on a line without a wide gap.

`PageSource` yields the document one `Page` at a time (the offline extractor keeps only a window of
pages, so its memory does not grow with the document); `build_document` materialises every page at
once for the LLM path and the topic split, which need the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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
    index: int = -1  # position over the document's segments (the LLM path numbers segments by it)
    ss_sheet_name: str | None = None  # spreadsheet Table segments: their words carry the range of their cell


@dataclass(slots=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    page: int
    seg: SegInfo  # the segment it came from (its citation)
    order: int  # reading order over the document
    line: int = -1
    cell: str | None = None  # spreadsheets: the range (e.g. "B4") of the cell the word is in
    ocr: bool = False  # read by OCR (its result carried a confidence), not from a text layer

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
class Page:
    """One page: its segments, words (reading order) and rebuilt lines (top to bottom)."""

    number: int
    width: float
    height: float
    segments: list[SegInfo]
    words: list[Word]
    lines: list[Line]


@dataclass(slots=True)
class Document:
    segments: list[SegInfo]
    words: list[Word]
    lines: list[Line]
    pages: list[int]
    page_sizes: dict[int, tuple[float, float]]
    day_first: bool | None = None
    page_list: list[Page] = field(default_factory=list)

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


def _page_of(raw: dict[str, Any]) -> int:
    try:
        return int(raw.get("page_number") or 1)
    except (TypeError, ValueError):
        raise ParseOutputInvalid("A segment in the parse output has an invalid page_number.") from None


def _word_texts(raw: dict[str, Any]) -> Iterator[str]:
    """The segment's words as `_page` makes them (OCR words, else the segment text), without boxes."""
    got = False
    for o in raw.get("ocr") or []:
        if isinstance(o, dict):
            text = str(o.get("text") or "").strip()
            if text:
                got = True
                yield from text.split()
    if not got:
        yield from str(raw.get("text") or "").split()


class PageSource:
    """The parse output page by page, in page order.

    Construction reads the segments once: it checks their page numbers, keeps a reference to each
    segment dict under its page (no copies) and decides dd/mm vs mm/dd from the whole document's
    numeric dates. Iterating builds one `Page` at a time; word order and line numbers run on over
    pages, as if the document had been built at once.
    """

    def __init__(self, parse_output: Any, pages: set[int] | None = None) -> None:
        self._by_page: dict[int, list[dict[str, Any]]] = {}
        for raw in _segments(parse_output):
            page = _page_of(raw)
            if pages is None or page in pages:
                self._by_page.setdefault(page, []).append(raw)
        self.numbers = sorted(self._by_page)
        texts = (t for segs in self._by_page.values() for raw in segs for t in _word_texts(raw))
        self.day_first = _infer_day_first(texts)

    def __iter__(self) -> Iterator[Page]:
        order = line_index = seg_index = 0
        for number in self.numbers:
            page = _page(number, self._by_page[number], order, line_index, seg_index)
            order += len(page.words)
            line_index += len(page.lines)
            seg_index += len(page.segments)
            yield page


def _page(number: int, raws: list[dict[str, Any]], order: int, line_index: int, seg_index: int) -> Page:
    segments: list[SegInfo] = []
    words: list[Word] = []
    for raw in raws:
        bbox = raw.get("bbox") or {}
        left, top = _num(bbox.get("left")), _num(bbox.get("top"))
        width, height = _num(bbox.get("width")), _num(bbox.get("height"))
        info = SegInfo(
            segment_id=str(raw.get("segment_id") or ""),
            segment_type=str(raw.get("segment_type") or "Text"),
            page_number=number,
            page_width=_num(raw.get("page_width")),
            page_height=_num(raw.get("page_height")),
            bbox=(left, top, left + width, top + height),
            text=str(raw.get("text") or ""),
            index=seg_index + len(segments),
            ss_sheet_name=raw.get("ss_sheet_name") if raw.get("ss_cells") else None,
        )
        segments.append(info)
        first_word = len(words)
        got = False
        for o in raw.get("ocr") or []:
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
                words.append(Word(p, px0, y0, px1, y0 + _num(b.get("height")), number, info, order + len(words)))
                cursor += len(p) + 1
            if o.get("confidence") is not None:
                for w in words[len(words) - len(parts) :]:
                    w.ocr = True
            got = True
        if not got and info.text.strip():
            # No word boxes (e.g. generated content): the segment's own box is the finest evidence.
            for p in info.text.split():
                words.append(Word(p, left, top, left + width, top + height, number, info, order + len(words)))
        if info.ss_sheet_name:
            _assign_cells(words[first_word:], raw.get("ss_cells") or [])
    first = segments[0]
    _restore_heights(words)
    lines = _build_lines(words, line_index)
    return Page(number, first.page_width, first.page_height, segments, words, lines)


def build_document(parse_output: Any, pages: set[int] | None = None) -> Document:
    """Every page at once (the LLM path and the topic split read the whole text)."""
    source = PageSource(parse_output, pages)
    page_list = list(source)
    return Document(
        segments=[s for p in page_list for s in p.segments],
        words=[w for p in page_list for w in p.words],
        lines=[ln for p in page_list for ln in p.lines],
        pages=source.numbers,
        page_sizes={p.number: (p.width, p.height) for p in page_list},
        day_first=source.day_first,
        page_list=page_list,
    )


_HEIGHT_PER_CHAR = 1.5  # text height / average character width, typical of printed text (median, born-digital)


_CELL_LOOKAHEAD = 64  # cell tokens skipped at most to find a word (a cell's text may be missing from the render)


def _assign_cells(words: list[Word], cells: list[Any]) -> None:
    """Give each word of a spreadsheet Table segment the range of its cell: the rendered words and the cells'
    texts both run row by row, so walk them together, skipping tokens that did not render (hidden, cut off)."""
    tokens = [
        (str(c.get("range") or ""), tok)
        for c in cells
        if isinstance(c, dict)
        for tok in str(c.get("text") or "").split()
    ]
    j = 0
    for word in words:
        for k in range(j, min(len(tokens), j + _CELL_LOOKAHEAD)):
            if tokens[k][1] == word.text:
                word.cell = tokens[k][0] or None
                j = k + 1
                break


def _restore_heights(words: list[Word]) -> None:
    """Give words back a plausible height where the page's boxes are flattened.

    The invisible text layer that OCR software adds to scanned PDFs often uses a glyphless font
    whose boxes are a sliver of the real text height (here a fifth of a character width, where
    printed text is about 1.5 widths tall). Line building, phrase gaps and "value below the label"
    all measure in text heights, so such a page falls apart into one-word phrases. On a page whose
    boxes are mostly that flat, each flat box grows about its centre to the height its character
    width implies. Pages with ordinary boxes are left as they are.
    """
    widths = [(w.x1 - w.x0) / len(w.text) for w in words if len(w.text) >= 3 and w.x1 > w.x0]
    if len(widths) < 5:
        return
    ratios = sorted(w.h / ((w.x1 - w.x0) / len(w.text)) for w in words if len(w.text) >= 3 and w.x1 > w.x0)
    if ratios[len(ratios) // 2] >= 0.6:
        return
    widths.sort()
    typical = widths[len(widths) // 2]
    for w in words:
        cw = (w.x1 - w.x0) / len(w.text) if len(w.text) >= 3 and w.x1 > w.x0 else typical
        want = _HEIGHT_PER_CHAR * cw
        if w.h < 0.8 * want:
            cy = (w.y0 + w.y1) / 2
            w.y0, w.y1 = cy - want / 2, cy + want / 2


def _build_lines(words: list[Word], start: int) -> list[Line]:
    """Lines of one page's words, numbered from `start`."""
    lines: list[Line] = []
    if words:
        page = words[0].page
        current: list[list[Word]] = []
        for w in sorted(words, key=lambda w: ((w.y0 + w.y1) / 2, w.x0)):
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
            line = Line(start + len(lines), page, ws)
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


# Words of documents written where numeric dates are day-first (French, German, Dutch, Spanish, Italian): with no
# unambiguous date to vote, 02/11/2019 on a 'facture' is the 2nd of November.
_DAY_FIRST_WORDS = frozenset(
    "facture factures rechnung rechnungsdatum datum factuur factuurdatum fecha factura fattura montant tva mwst "
    "ust btw iva betrag bedrag totaal janvier février mars avril juin juillet août septembre octobre novembre "
    "décembre januar februar märz juni juli oktober dezember januari februari maart mei augustus".split()
)


def _infer_day_first(texts: Iterable[str]) -> bool | None:
    """Decide dd/mm vs mm/dd for the whole document from its unambiguous numeric dates."""
    votes = 0
    european = False
    for text in texts:
        if not european and text.lower().strip(".,:;()") in _DAY_FIRST_WORDS:
            european = True
        m = _NUM_DATE.search(text)
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
    return True if european else None

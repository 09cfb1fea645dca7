"""Arrays of objects from tables: header line -> columns -> one item per row.

A header is a line where at least two phrases (or one, for single-property items) match distinct
item properties. Rows are the lines below, cut into columns by the header phrases' positions
(overlap first, then the nearest column). A line with text only in text columns continues the
previous row (wrapped descriptions). The table ends at a totals line, a wide gap or a new label
block; a table that runs to the foot of a page continues at the top of the next one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import labels as lb
from .coerce import coerce_words
from .document import Document, Line, Phrase, Word
from .offline import _TOTALS
from .output import Found, KeyPath
from .schema import Node, iter_leaves

_HEADER_MIN = 78.0


@dataclass(slots=True)
class Column:
    x0: float
    x1: float
    prop: KeyPath | None  # None: a column no property asked for
    score: float


def _prop_phrases(path: KeyPath, node: Node, parent: str) -> tuple[list[str], frozenset[str]]:
    phrases = lb.field_phrases(str(path[-1]), node.title, (parent,) if parent else ())
    return phrases, lb.description_words(node.description)


def _match_header(line: Line, props: list[tuple[KeyPath, Node, list[str], frozenset[str]]]) -> list[Column] | None:
    cols: list[Column] = []
    used: set[KeyPath] = set()
    pairs = []
    for pi, p in enumerate(line.phrases):
        text = p.text.rstrip(":")
        for path, _node, phrases, desc in props:
            s = lb.label_score(phrases, desc, text)
            if s >= _HEADER_MIN:
                pairs.append((s, pi, path))
    pairs.sort(key=lambda t: -t[0])
    assigned: dict[int, tuple[KeyPath, float]] = {}
    for s, pi, path in pairs:
        if pi in assigned or path in used:
            continue
        assigned[pi] = (path, s)
        used.add(path)
    need = 1 if len(props) == 1 else 2
    if len(assigned) < need:
        return None
    for pi, p in enumerate(line.phrases):
        path, s = assigned.get(pi, (None, 0.0))
        cols.append(Column(p.x0, p.x1, path, s))
    return cols


def _assign(phrase_or_words: list[Word], cols: list[Column]) -> int:
    x0, x1 = phrase_or_words[0].x0, phrase_or_words[-1].x1
    best, best_ov = -1, 0.0
    for i, c in enumerate(cols):
        ov = min(x1, c.x1) - max(x0, c.x0)
        if ov > best_ov:
            best, best_ov = i, ov
    if best >= 0:
        return best
    cx = (x0 + x1) / 2
    return min(range(len(cols)), key=lambda i: min(abs(cx - cols[i].x0), abs(cx - cols[i].x1)))


def _cells(line: Line, cols: list[Column]) -> dict[int, list[Word]]:
    cells: dict[int, list[Word]] = {}
    for p in line.phrases:
        hits = [i for i, c in enumerate(cols) if min(p.x1, c.x1) - max(p.x0, c.x0) > 0]
        if len(hits) > 1:
            # The phrase straddles columns (cells closer than the phrase gap): place word by word.
            for w in p.words:
                cells.setdefault(_assign([w], cols), []).append(w)
        else:
            cells.setdefault(_assign(p.words, cols), []).extend(p.words)
    return cells


def _is_numeric(words: list[Word]) -> bool:
    return bool(words) and all(re.fullmatch(r"[-+(]?[$€£]?[\d.,]+%?\)?", w.text) for w in words)


def extract_rows(doc: Document, path: KeyPath, node: Node) -> list[dict[KeyPath, Found]]:
    items = node.items
    if items is None or items.kind != "object":
        return []
    # "items" -> "item": a column "Item" is the item's name; "line_items" -> "line item" likewise.
    parent = re.sub(r"s$", "", str(path[-1])) if path else ""
    props = [(p, n, *_prop_phrases(p, n, parent)) for p, n in iter_leaves(items)]
    if not props:
        return []
    rows: list[dict[KeyPath, Found]] = []
    lines = doc.lines
    i = 0
    while i < len(lines):
        cols = _match_header(lines[i], props)
        if cols is None:
            i += 1
            continue
        i = _read_table(doc, lines, i, cols, props, rows)
    return rows


def _read_table(
    doc: Document,
    lines: list[Line],
    header_idx: int,
    cols: list[Column],
    props: list,
    rows: list[dict[KeyPath, Found]],
) -> int:
    nodes = {p: n for p, n, _, _ in props}
    header = lines[header_idx]
    pitch = max(1.0, header.height * 1.3)
    last_y = header.y1
    page = header.page
    i = header_idx + 1
    current: dict[int, list[Word]] | None = None
    row_cells: list[dict[int, list[Word]]] = []
    numeric_cols: set[int] = set()
    pitches: list[float] = []
    n_props = len([c for c in cols if c.prop is not None])
    while i < len(lines):
        ln = lines[i]
        if ln.page != page:
            # Continue on the next page only if the table ran to the foot of this one.
            page_h = doc.page_sizes.get(page, (0, 0))[1]
            if not page_h or last_y < page_h * 0.8:
                break
            page, last_y = ln.page, ln.y0 - pitch
            if _match_header(ln, props) is not None:
                i += 1
                last_y = ln.y1
                continue
        gap = ln.y0 - last_y
        typical = sorted(pitches)[len(pitches) // 2] if pitches else pitch
        if gap > max(2.5 * typical, 3.0 * ln.height):
            break
        first = ln.phrases[0].text if ln.phrases else ""
        cells = _cells(ln, cols)
        filled = sum(1 for ci in cells if cols[ci].prop is not None)
        if _TOTALS.match(first.strip()) and filled < n_props:
            break
        if any(re.search(r":\s*$", " ".join(w.text for w in ws)) for ws in cells.values()) and len(cells) <= 2:
            break
        has_num = any(_is_numeric(ws) for ws in cells.values())
        if current is not None and not has_num and numeric_cols and len(cells) == 1 and gap < 1.2 * typical:
            # Wrapped text of the previous row.
            ((ci, ws),) = cells.items()
            current.setdefault(ci, []).extend(ws)
            last_y = ln.y1
            i += 1
            continue
        if len(cells) < min(2, len([c for c in cols if c.prop])):
            break
        for ci, ws in cells.items():
            if _is_numeric(ws):
                numeric_cols.add(ci)
        if row_cells:
            pitches.append(max(1.0, ln.y0 - last_y + ln.height))
        current = cells
        row_cells.append(cells)
        last_y = ln.y1
        i += 1
    for cells in row_cells:
        row: dict[KeyPath, Found] = {}
        for ci, c in enumerate(cols):
            if c.prop is None or ci not in cells:
                continue
            ws = cells[ci]
            got = coerce_words([w.text for w in ws], nodes[c.prop], doc.day_first)
            if got is None:
                continue
            used = ws[got.start : got.end]
            row[c.prop] = Found(got.value, used, high=c.score >= 88 and got.strength >= 0.95)
        if row:
            rows.append(row)
    return i


def phrase_of(words: list[Word]) -> Phrase:
    return Phrase(words, words[0].line)

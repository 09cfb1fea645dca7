"""Arrays of objects from tables: header line -> columns -> one item per row.

A header is a line where at least two phrases (or one, for single-property items) match distinct
item properties. Rows are the lines below, cut into columns by the header phrases' positions
(overlap first, then the nearest column). A line with text only in text columns continues the
previous row (wrapped descriptions). The table ends at a totals line, a wide gap or a new label
block; a table that runs to the foot of a page continues at the top of the next one.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from . import labels as lb
from .coerce import coerce_words, parse_number
from .document import Line, Phrase, Word
from .offline import _TOTALS
from .output import BuiltRows, Found, KeyPath
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


class TableRows:
    """One array-of-objects field over a stream of lines (page by page, top to bottom).

    Looking for a header line; then reading its table until it ends, when the line that ended it
    may itself be the next header. A row is final once the next one starts (a wrapped line may
    still extend it); with `built`, it then goes straight into output form, so nothing but the
    output grows with the document. Without, rows are kept as found (the LLM path merges them).
    """

    def __init__(self, path: KeyPath, node: Node, day_first: bool | None, built: BuiltRows | None = None) -> None:
        items = node.items
        # "items" -> "item": a column "Item" is the item's name; "line_items" -> "line item" likewise.
        parent = re.sub(r"s$", "", str(path[-1])) if path else ""
        leaves = iter_leaves(items) if items is not None and items.kind == "object" else []
        self.props = [(p, n, *_prop_phrases(p, n, parent)) for p, n in leaves]
        self.day_first = day_first
        self.item = items
        self.built = built
        self.rows: list[dict[KeyPath, Found]] = []
        self.table: _Table | None = None
        # The numeric properties that multiply out (quantity x unit price = amount), by concept.
        self.roles: dict[str, KeyPath] = {}
        for p, n, phrases, _ in self.props:
            if n.kind not in ("number", "integer"):
                continue
            named = set().union(*(lb.concepts(ph) for ph in phrases))
            for role in ("quantity", "unit_price", "line_amount"):
                if role in named and role not in self.roles and p not in self.roles.values():
                    self.roles[role] = p
                    break

    def feed(self, line: Line, page_height: float) -> None:
        if not self.props:
            return
        if self.table is not None:
            if self.table.feed(line, page_height):
                return
            self.table.close()
            self.table = None
        cols = _match_header(line, self.props)
        if cols is not None:
            self.table = _Table(self, line, cols, page_height)

    def finish(self) -> list[dict[KeyPath, Found]]:
        if self.table is not None:
            self.table.close()
            self.table = None
        return self.rows


_PITCHES = 64  # the typical row pitch is the median of the last rows read


class _Table:
    def __init__(self, owner: TableRows, header: Line, cols: list[Column], page_height: float) -> None:
        self.owner = owner
        self.cols = cols
        self.nodes = {p: n for p, n, _, _ in owner.props}
        self.pitch = max(1.0, header.height * 1.3)
        self.last_y = header.y1
        self.page = header.page
        self.page_h = page_height
        self.current: dict[int, list[Word]] | None = None
        self.numeric_cols: set[int] = set()
        self.pitches: deque[float] = deque(maxlen=_PITCHES)
        self.n_props = len([c for c in cols if c.prop is not None])

    def feed(self, ln: Line, page_height: float) -> bool:
        """Take the line into the table; False when the table ended before it."""
        cols = self.cols
        if ln.page != self.page:
            # Continue on the next page only if the table ran to the foot of this one.
            if not self.page_h or self.last_y < self.page_h * 0.8:
                return False
            self.page, self.last_y, self.page_h = ln.page, ln.y0 - self.pitch, page_height
            if _match_header(ln, self.owner.props) is not None:
                self.last_y = ln.y1
                return True
        gap = ln.y0 - self.last_y
        if self.current is None and not self.pitches and gap < 1.5 * ln.height and not re.search(r"\d", ln.text):
            # The header's second line ("Price w/o" / "Description Quantity Unit Price" / "Tax").
            self.last_y = ln.y1
            return True
        typical = sorted(self.pitches)[len(self.pitches) // 2] if self.pitches else self.pitch
        if gap > max(2.5 * typical, 3.0 * ln.height):
            return False
        first = ln.phrases[0].text if ln.phrases else ""
        cells = _cells(ln, cols)
        filled = sum(1 for ci in cells if cols[ci].prop is not None)
        if _TOTALS.match(first.strip()) and filled < self.n_props:
            return False
        if any(re.search(r":\s*$", " ".join(w.text for w in ws)) for ws in cells.values()) and len(cells) <= 2:
            return False
        has_num = any(_is_numeric(ws) for ws in cells.values())
        if self.current is not None and not has_num and self.numeric_cols and len(cells) == 1 and gap < 1.2 * typical:
            # Wrapped text of the previous row.
            ((ci, ws),) = cells.items()
            self.current.setdefault(ci, []).extend(ws)
            self.last_y = ln.y1
            return True
        if len(cells) < min(2, len([c for c in cols if c.prop])):
            return False
        for ci, ws in cells.items():
            if _is_numeric(ws):
                self.numeric_cols.add(ci)
        if self.current is not None:
            self.pitches.append(max(1.0, ln.y0 - self.last_y + ln.height))
            self._emit(self.current)
        self.current = cells
        self.last_y = ln.y1
        return True

    def close(self) -> None:
        if self.current is not None:
            self._emit(self.current)
            self.current = None

    def _emit(self, cells: dict[int, list[Word]]) -> None:
        row: dict[KeyPath, Found] = {}
        for ci, c in enumerate(self.cols):
            if c.prop is None or ci not in cells:
                continue
            ws = cells[ci]
            got = coerce_words([w.text for w in ws], self.nodes[c.prop], self.owner.day_first)
            if got is None:
                continue
            used = ws[got.start : got.end]
            row[c.prop] = Found(got.value, used, high=c.score >= 88 and got.strength >= 0.95)
        self._arithmetic(cells, row)
        if not row or (self.owner.roles and not any(p in row for p in self.owner.roles.values())):
            return  # a row without any of the item's numbers is a note under the table, not an item
        owner = self.owner
        if owner.built is not None and owner.item is not None:
            owner.built.add(owner.item, row)
        else:
            owner.rows.append(row)

    def _arithmetic(self, cells: dict[int, list[Word]], row: dict[KeyPath, Found]) -> None:
        """Quantity x unit price = amount: the row's own numbers say which is which.

        Real tables head their columns in words no synonym list holds ('Netto', 'Price w/o Tax') and print units
        beside quantities ('8 Unit(s)'); the three numbers that multiply out, read left to right, are the
        quantity, the unit price and the amount, whatever the header said.
        """
        roles = self.owner.roles
        if len(roles) < 3:
            return
        nums: list[tuple[float, Word]] = []
        discount = 0.0
        for ci in sorted(cells, key=lambda i: self.cols[i].x0):
            for w in cells[ci]:
                if w.text.endswith("%"):
                    discount = parse_number(w.text) or 0.0
                    continue
                v = parse_number(w.text)
                if v is not None and re.search(r"\d", w.text):
                    nums.append((v, w))
        col_of = {id(w): ci for ci, ws in cells.items() for w in ws}
        qty_path = roles["quantity"]

        def header_says_quantity(w: Word) -> bool:
            return self.cols[col_of[id(w)]].prop == qty_path

        for k in range(len(nums) - 1, 1, -1):
            a = abs(nums[k][0])
            for j in range(k - 1, 0, -1):
                for i in range(j - 1, -1, -1):
                    q, p = abs(nums[i][0]), abs(nums[j][0])
                    net = (q * p - a, q * p * (1 - discount / 100) - a)  # a line discount in % may sit between
                    if not (a and q and min(abs(d) for d in net) <= max(0.011, 0.005 * a)):
                        continue
                    first, second = nums[i], nums[j]
                    if header_says_quantity(second[1]) and not header_says_quantity(first[1]):
                        first, second = second, first  # 'P.U. HT | Qté': the header knows the order
                    for role, (_, w) in zip(("quantity", "unit_price", "line_amount"), (first, second, nums[k]),
                                            strict=True):  # fmt: skip
                        path = roles[role]
                        have = row.get(path)
                        if have is not None and any(x is w for x in have.words):
                            continue
                        got = coerce_words([w.text], self.nodes[path], self.owner.day_first)
                        if got is not None:
                            row[path] = Found(got.value, [w], high=False)
                    return


def phrase_of(words: list[Word]) -> Phrase:
    return Phrase(words, words[0].line)

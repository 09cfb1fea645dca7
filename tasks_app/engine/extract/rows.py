"""Arrays of objects from tables: header line -> columns -> one item per row.

A header is a line where at least two phrases (or one, for single-property items) match distinct
item properties (by their labels, or by headings only item tables use: "Nettopreis", "Menge Einheit").
Rows are the lines below, cut into columns by the header phrases' positions (overlap first, then the
nearest column). A line with text only in text columns continues the previous row (wrapped
descriptions). Lines that give none of the item's numbers are held: printed tight above the next
row's numbers they are its name (Factur-X layouts set the name above the numbers, details under
them); otherwise they are notes between rows, and the row after them must multiply out (quantity x
unit price = amount) or give two of the item's numbers under their headings. The table ends at a
totals line, a wide gap, another table's header or too many held lines (which are read again, as
they may head the next table); a table that runs to the foot of a page continues at the top of the
next one.
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


# Column headings that name an item property only inside an item table, so they live here and not with the
# leaf labels: "Nettobetrag" heads the net line amounts of a table and labels the net subtotal elsewhere.
_COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "description": ("artikelname", "produktname", "leistungsbeschreibung", "positionsbezeichnung", "designation",
                    "omschrijving", "descripcion", "concepto", "descrizione"),
    "quantity": ("cantidad", "quantita", "qta", "hoeveelheid", "stuckzahl"),
    "unit_price": ("nettopreis", "netto preis", "bruttopreis", "nettoeinzelpreis", "einzelpreis netto", "preis netto",
                   "preis je einheit", "prix unitaire ht", "precio unitario", "precio", "prezzo unitario",
                   "prezzo", "stukprijs", "prijs per eenheid"),
    "line_amount": ("nettobetrag", "betrag netto", "positionsbetrag", "zeilenbetrag", "entgelt", "nettoentgelt",
                    "gesamtpreis netto", "gesamt netto", "montant net", "importe", "importo", "regeltotaal"),
}  # fmt: skip
_COLUMN_INDEX = {lb.norm_label(w): role for role, words in _COLUMN_WORDS.items() for w in words}
_ITEM_ROLES = ("description", "quantity", "unit_price", "line_amount")
_NUMBER_ROLES = ("quantity", "unit_price", "line_amount")


def _other_header(line: Line) -> bool:
    """Three or more short headings and no number: the header of another table (a VAT breakdown, say)."""
    return len(line.phrases) >= 3 and not re.search(r"\d", line.text) and all(
        lb.looks_like_label(p.text) for p in line.phrases)  # fmt: skip


def _column_score(text: str, role: str | None) -> float:
    """A heading named by the table words above (90), or one of whose words names the role while the others
    name nothing ("Menge Einheit", "Nom & Désignation": 86, never High)."""
    if role is None:
        return 0.0
    norm = lb.norm_label(re.sub(r"\([^)]*\)", " ", text))
    if _COLUMN_INDEX.get(norm) == role:
        return 90.0
    words = norm.split()
    if len(words) < 2 or len(words) > 3:
        return 0.0
    named = [lb.concepts(w) | ({_COLUMN_INDEX[w]} if w in _COLUMN_INDEX else set()) for w in words]
    hits = [i for i, cs in enumerate(named) if role in cs]
    if len(hits) == 1 and all(not cs for i, cs in enumerate(named) if i != hits[0]):
        return 86.0
    return 0.0


def _match_header(
    line: Line, props: list[tuple[KeyPath, Node, list[str], frozenset[str]]], role_of: dict[KeyPath, str] | None = None
) -> list[Column] | None:
    cols: list[Column] = []
    used: set[KeyPath] = set()
    pairs = []
    role_of = role_of or {}
    for pi, p in enumerate(line.phrases):
        text = p.text.rstrip(":")
        for path, _node, phrases, desc in props:
            s = max(lb.label_score(phrases, desc, text), _column_score(text, role_of.get(path)))
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


def _extend_header(cols: list[Column], line: Line, owner: TableRows) -> list[Column]:
    """Headings of a header's second line (above or below it) that sit apart from every column found so far
    ('TOTAL HT' printed a line above 'Qté'): new columns, for properties no column names yet."""
    used = {c.prop for c in cols if c.prop is not None}
    added: list[Column] = []
    for p in line.phrases:
        if any(min(p.x1, c.x1) - max(p.x0, c.x0) > 0 for c in cols):
            continue
        text = p.text.rstrip(":")
        best, best_path = 0.0, None
        for path, _node, phrases, desc in owner.props:
            if path in used:
                continue
            sc = max(lb.label_score(phrases, desc, text), _column_score(text, owner.role_of.get(path)))
            if sc > best:
                best, best_path = sc, path
        if best_path is not None and best >= _HEADER_MIN:
            added.append(Column(p.x0, p.x1, best_path, best))
            used.add(best_path)
    return sorted(cols + added, key=lambda c: c.x0) if added else cols


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
        self.above: list[Line] = []  # the last two lines read outside a table (a header may start in them)
        # The numeric properties that multiply out (quantity x unit price = amount), by concept.
        self.roles: dict[str, KeyPath] = {}
        # Every property an item column can be (the numbers above and the item's name), for table-only headings.
        self.role_of: dict[KeyPath, str] = {}
        for p, n, phrases, _ in self.props:
            named = set().union(*(lb.concepts(ph) for ph in phrases))
            for role in _ITEM_ROLES:
                if role in named and role not in self.role_of.values() and p not in self.role_of:
                    if role != "description" and n.kind not in ("number", "integer"):
                        continue
                    if role == "description" and n.kind != "string":
                        continue
                    self.role_of[p] = role
                    if role != "description":
                        self.roles[role] = p
                    break

    def feed(self, line: Line, page_height: float) -> None:
        if not self.props:
            return
        if self.table is not None:
            if self.table.feed(line, page_height):
                self.above = []
                return
            # Lines the table held as notes, in case no row followed them, are read again: one may head a table.
            held = self.table.close()
            self.table = None
            for ln, h in held:
                self.feed(ln, h)
            if self.table is not None:
                self.feed(line, page_height)
                return
        cols = _match_header(line, self.props, self.role_of)
        if cols is not None:
            # A header set over several lines: the lines printed tight above it may hold more headings.
            top = line
            for prev in reversed(self.above):
                if prev.page != line.page or top.y0 - prev.y1 > 0.5 * min(prev.height, top.height):
                    break
                cols = _extend_header(cols, prev, self)
                top = prev
            self.above = []
            self.table = _Table(self, line, cols, page_height)
        else:
            self.above = [*self.above[-1:], line]

    def finish(self) -> list[dict[KeyPath, Found]]:
        while self.table is not None:
            held = self.table.close()
            self.table = None
            for ln, h in held:
                self.feed(ln, h)
        return self.rows


_PITCHES = 64  # the typical row pitch is the median of the last rows read
_HELD = 10  # lines of notes between two item rows before the table is taken to have ended


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
        # Lines read since the last row that are not rows: an item's name printed above its numbers, or notes.
        self.held: list[tuple[Line, float, dict[int, list[Word]], float]] = []  # line, page height, cells, gap above
        self.name_above = False  # the current row's text began on a line above its numbers
        self.anchor = -1  # the line index of the current row's numbers
        self.anchor_y0, self.anchor_page = 0.0, -1
        self.max_gap = 0.0  # the widest gap between two lines taken into the table
        self.header_y1 = header.y1
        self._set_cols(cols)
        self.named_rows = self.rows_read = 0  # rows with text under the description heading, rows in all

    def _set_cols(self, cols: list[Column]) -> None:
        self.cols = cols
        self.n_props = len([c for c in cols if c.prop is not None])
        role_of = self.owner.role_of
        desc = [i for i, c in enumerate(cols) if c.prop is not None and role_of.get(c.prop) == "description"]
        self.desc_col = desc[0] if desc else None

    def feed(self, ln: Line, page_height: float) -> bool:
        """Take the line into the table; False when the table ended before it."""
        cols = self.cols
        if ln.page != self.page:
            # Continue on the next page only if the table ran to the foot of this one.
            if not self.page_h or self.last_y < self.page_h * 0.8:
                return False
            self.page, self.last_y, self.page_h = ln.page, ln.y0 - self.pitch, page_height
            if _match_header(ln, self.owner.props, self.owner.role_of) is not None:
                self.last_y = ln.y1
                return True
        gap = ln.y0 - self.last_y
        if (self.current is None and not self.held and not self.pitches and gap < 1.5 * ln.height
                and not re.search(r"\d", ln.text)):  # fmt: skip
            # The header's second line ("Price w/o" / "Description Quantity Unit Price" / "Tax").
            self._set_cols(_extend_header(self.cols, ln, self.owner))
            self.last_y = self.header_y1 = ln.y1
            return True
        typical = sorted(self.pitches)[len(self.pitches) // 2] if self.pitches else self.pitch
        if gap > max(2.5 * typical, 3.0 * ln.height):
            return False
        first = ln.phrases[0].text if ln.phrases else ""
        cells = _cells(ln, cols)
        filled = sum(1 for ci in cells if cols[ci].prop is not None)
        if _TOTALS.match(first.strip()) and filled < self.n_props:
            return False
        labelled = any(re.search(r":\s*$", " ".join(w.text for w in ws)) for ws in cells.values()) and len(cells) <= 2
        has_num = any(_is_numeric(ws) for ws in cells.values())
        roles = self.owner.roles
        # Only a row whose name began on its numbers line wraps on: under a name set above the numbers come details.
        open_row = self.current is not None and not self.held and not self.name_above
        if (open_row and not labelled and not has_num and self.numeric_cols and len(cells) == 1
                and gap < min(1.2 * typical, 1.5 * ln.height)):  # fmt: skip
            # Wrapped text of the previous row.
            ((ci, ws),) = cells.items()
            self.current.setdefault(ci, []).extend(ws)
            self.last_y = ln.y1
            self.max_gap = max(self.max_gap, gap)
            return True
        if (self.current is not None and not self.held and has_num and gap < 0.5 * ln.height
                and all(ci not in self.current and cols[ci].prop is not None for ci in cells)):  # fmt: skip
            # Cells of the previous row printed a little lower (an amount under the row's other numbers).
            for ci, ws in cells.items():
                self.current[ci] = list(ws)
            self.last_y = ln.y1
            return True
        if roles:
            n_values = self._values(cells)
            multiplies = self._triple(cells) is not None
            strong = n_values >= 2 or multiplies
            above = self._name_lines(ln)
            if self.held and strong and self._unnamed(cells, above):
                strong = False  # every row so far named its item, and this one names none: another table's line
            # After a wider gap than any inside the table so far, only numbers that multiply out (or name two
            # of the item's numbers) go on with it: lines below (allowances, charges) look like rows.
            wide = self.current is not None and gap > 1.5 * max(self.max_gap, ln.height)
            if labelled or not (n_values or multiplies) or ((self.held or wide) and not strong) or len(cells) < 2:
                # Not a row (yet): the name of the next item above its numbers, or notes under the last one.
                if len(self.held) >= _HELD or _other_header(ln) or _match_header(
                        ln, self.owner.props, self.owner.role_of) is not None:  # fmt: skip
                    return False
                self.held.append((ln, page_height, cells, gap))
                self.last_y = ln.y1
                self.max_gap = max(self.max_gap, gap)
                return True
        else:
            if labelled:
                return False
            if len(cells) < min(2, len([c for c in cols if c.prop])):
                return False
        for ci, ws in cells.items():
            if _is_numeric(ws):
                self.numeric_cols.add(ci)
        if self.current is not None:
            # Numbers line to numbers line: a row's wrapped name, notes or name above do not shrink the pitch.
            step = ln.y0 - self.anchor_y0 if ln.page == self.anchor_page else ln.y0 - self.last_y + ln.height
            self.pitches.append(max(1.0, step))
            self._emit(self.current)
        above = self._name_lines(ln)
        if self.current is None and not self.pitches:
            # The first row: its distance below the header is a first guess at the row pitch.
            top = min([ln.y0] + [w.y0 for ab in above for ws in ab.values() for w in ws])
            self.pitch = max(self.pitch, top - self.header_y1 + ln.height)
        self.held = []
        self.name_above = bool(above)
        self.anchor, self.anchor_y0, self.anchor_page = ln.index, ln.y0, ln.page
        row: dict[int, list[Word]] = {}
        for ab in above:
            for ci, ws in ab.items():
                row.setdefault(ci, []).extend(ws)
        for ci, ws in cells.items():
            row.setdefault(ci, []).extend(ws)
        self.current = row
        self.last_y = ln.y1
        self.max_gap = max(self.max_gap, gap)
        return True

    def _name_lines(self, ln: Line) -> list[dict[int, list[Word]]]:
        """The held lines printed tight above a row's numbers line: the same row, its name set above the numbers.

        Tight, and set apart from what is above them by a wider gap than any between them and the numbers: in a
        dense table every line is tight, and a line held under one row is not the name of the next.
        """
        chain: list[tuple[dict[int, list[Word]], float]] = []  # (cells, gap above), bottom up
        below = ln
        for held, _, cells, gap_above in reversed(self.held):
            if held.page != ln.page or below.y0 - held.y1 > 0.5 * min(held.height, below.height):
                break
            chain.append((cells, gap_above))
            below = held
        chain.reverse()
        gaps = [g for _, g in chain[1:]] + [ln.y0 - self.last_y]  # the gaps inside each candidate block
        margin = 0.1 * ln.height
        for s in range(len(chain)):
            if chain[s][1] > max(gaps[s:]) + margin:
                return [cells for cells, _ in chain[s:]]
        return []

    def _unnamed(self, cells: dict[int, list[Word]], above: list[dict[int, list[Word]]]) -> bool:
        if self.desc_col is None or not self.rows_read or self.named_rows < self.rows_read:
            return False
        return self.desc_col not in cells and not any(self.desc_col in ab for ab in above)

    def close(self) -> list[tuple[Line, float]]:
        """Emit the last row; return the held lines no row claimed (to be read again)."""
        if self.current is not None:
            self._emit(self.current)
            self.current = None
        held = [(ln, h) for ln, h, _, _ in self.held]
        self.held = []
        return held

    def _values(self, cells: dict[int, list[Word]]) -> int:
        """How many of the item's numbers the line's cells give under their own column headings.

        A cell counts when it is a number with at most a unit or currency beside it: "5,00 % sur 100,00 EUR"
        under 'Qté' (an allowance's base) is no quantity.
        """
        n = 0
        wanted = set(self.owner.roles.values())
        for ci, ws in cells.items():
            path = self.cols[ci].prop
            if path not in wanted or len(ws) > 2 or any(w.text.endswith("%") for w in ws):
                continue
            if coerce_words([w.text for w in ws], self.nodes[path], self.owner.day_first):
                n += 1
        return n

    def _emit(self, cells: dict[int, list[Word]]) -> None:
        self.rows_read += 1
        self.named_rows += self.desc_col in cells
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

    def _triple(self, cells: dict[int, list[Word]]) -> tuple[Word, Word, Word] | None:
        """The quantity, unit price and amount words of a line whose numbers multiply out, or None."""
        roles = self.owner.roles
        if len(roles) < 3:
            return None
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

        def agreement(words: tuple[Word, Word, Word]) -> int:
            # Numbers on the row's own numbers line, under the headings of their roles, come first.
            on_line = sum(w.line == self.anchor for w in words)
            headed = sum(self.cols[col_of[id(w)]].prop == roles[r] for r, w in zip(_NUMBER_ROLES, words, strict=True))
            return 2 * on_line + headed

        best: tuple[Word, Word, Word] | None = None
        for k in range(len(nums) - 1, 1, -1):
            a = abs(nums[k][0])
            for j in range(k - 1, 0, -1):
                for i in range(j - 1, -1, -1):
                    q, p = abs(nums[i][0]), abs(nums[j][0])
                    net = (q * p - a, q * p * (1 - discount / 100) - a)  # a line discount in % may sit between
                    if not (a and q and min(abs(d) for d in net) <= max(0.011, 0.005 * a)):
                        continue
                    first, second = nums[i][1], nums[j][1]
                    if header_says_quantity(second) and not header_says_quantity(first):
                        first, second = second, first  # 'P.U. HT | Qté': the header knows the order
                    got = (first, second, nums[k][1])
                    if best is None or agreement(got) > agreement(best):
                        best = got
        return best

    def _arithmetic(self, cells: dict[int, list[Word]], row: dict[KeyPath, Found]) -> None:
        """Quantity x unit price = amount: the row's own numbers say which is which.

        Real tables head their columns in words no synonym list holds ('Netto', 'Price w/o Tax') and print units
        beside quantities ('8 Unit(s)'); the three numbers that multiply out, read left to right, are the
        quantity, the unit price and the amount, whatever the header said.
        """
        triple = self._triple(cells)
        if triple is None:
            return
        roles = self.owner.roles
        for role, w in zip(_NUMBER_ROLES, triple, strict=True):
            path = roles[role]
            have = row.get(path)
            if have is not None and any(x is w for x in have.words):
                continue
            got = coerce_words([w.text], self.nodes[path], self.owner.day_first)
            if got is not None:
                row[path] = Found(got.value, [w], high=False)


def phrase_of(words: list[Word]) -> Phrase:
    return Phrase(words, words[0].line)

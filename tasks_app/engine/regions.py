"""Text the layout model called a picture, read back as text, tables and the pictures really there.

On a scan or a photographed page the page itself is one image, and the layout model sometimes boxes a whole stretch
of it as a Picture: a letter's body with its item table under a watermark, an advertisement's copy beside its
product photo. The words the OCR read there are the document's text, not a figure's labels. Evidence decides: the
Picture box is rendered, the words' boxes are masked out, and what ink is left is gathered into blobs. When those
blobs fill most of the box, it is a picture (a photo, a chart with its labels) and stays one. Otherwise the box
dissolves into:

- Tables where the words form a grid: at least three rows whose phrases fall into the same three or more columns;
- Text blocks from the remaining lines, stacked by their spacing (a one-line block in taller letters a SectionHeader);
- a Picture for each blob large enough to be a figure (the QR code, the product photo).

Only pages whose words came from OCR are looked at: on born-digital pages a Picture with text is a figure (a
screenshot, a diagram), and docling's labels agree with that (docs/BENCHMARKS.md, issue 17).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np
import pymupdf

from .tables import TableCell, TableGrid, Word, complete_grid

Rect = tuple[float, float, float, float]

# A box whose leftover ink (outside the words) gathers into blobs covering at least this share of it is a picture.
PICTURE_SHARE = 0.5
# A blob is a figure when both its sides are at least this many grid cells and it covers this share of the box.
_BLOB_MIN_CELLS = 3
_BLOB_MIN_SHARE = 0.01
# The ink mask is read on a grid of this many cells along the box's longer side.
_GRID = 100
# Words split into phrases at a gap wider than this many times their height; into separate text columns wider still.
_PHRASE_GAP = 1.2
_COLUMN_GAP = 2.5
# A one-line block of at most so many words, its letters this much taller than the body's, is a heading.
_HEADING = 1.3
_HEADING_WORDS = 12
# The median cell of a table holds at most so many words.
_CELL_WORDS = 3
# Rows of one table are at most this many line heights apart.
_ROW_GAP = 2.5


@dataclass(slots=True)
class Phrase:
    words: list[Word]
    rect: Rect

    @property
    def height(self) -> float:
        return self.rect[3] - self.rect[1]


@dataclass(slots=True)
class Line:
    words: list[Word] = field(default_factory=list)

    @property
    def rect(self) -> Rect:
        return _bounds(self.words)

    def pieces(self, gap: float) -> list[Phrase]:
        """The line cut where two neighbouring words stand more than `gap` word heights apart."""
        ws = sorted(self.words, key=lambda w: w[0])
        h = median(w[3] - w[1] for w in ws)
        out: list[list[Word]] = [[ws[0]]]
        for w in ws[1:]:
            if w[0] - out[-1][-1][2] > gap * h:
                out.append([w])
            else:
                out[-1].append(w)
        return [Phrase(p, _bounds(p)) for p in out]


def _bounds(words: list[Word]) -> Rect:
    return (min(w[0] for w in words), min(w[1] for w in words), max(w[2] for w in words), max(w[3] for w in words))


def _area(r: Rect) -> float:
    return max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])


def _centre_in(w: Word, r: Rect) -> bool:
    cx, cy = (w[0] + w[2]) / 2, (w[1] + w[3]) / 2
    return r[0] - 1 <= cx <= r[2] + 1 and r[1] - 1 <= cy <= r[3] + 1


def text_lines(words: list[Word]) -> list[Line]:
    """Words into printed lines by vertical overlap, top to bottom."""
    lines: list[Line] = []
    tops: list[tuple[float, float]] = []  # each line's vertical extent, kept as it grows
    for w in sorted(words, key=lambda w: ((w[1] + w[3]) / 2, w[0])):
        h = w[3] - w[1]
        best, best_overlap = None, 0.0
        for i, (y0, y1) in enumerate(tops):
            overlap = min(y1, w[3]) - max(y0, w[1])
            if overlap >= 0.5 * min(h, y1 - y0) and overlap > best_overlap:
                best, best_overlap = i, overlap
        if best is None:
            lines.append(Line([w]))
            tops.append((w[1], w[3]))
        else:
            lines[best].words.append(w)
            y0, y1 = tops[best]
            tops[best] = (min(y0, w[1]), max(y1, w[3]))
    for ln in lines:
        ln.words.sort(key=lambda w: w[0])
    lines.sort(key=lambda ln: ln.rect[1])
    return lines


def ink_blobs(page: pymupdf.Page, rect: Rect, words: list[Word], min_fill: float = 0.0) -> list[Rect]:
    """Boxes (page coordinates) of the ink in `rect` outside the words' boxes, gathered on a coarse grid; specks,
    rules and thin strokes are dropped, and blobs inking less than `min_fill` of their box's grid cells (a frame
    drawn around text is hollow, a photo is not)."""
    r = pymupdf.Rect(rect)
    if r.is_empty:
        return []
    zoom = min(2.0, 800.0 / max(r.width, r.height))
    pix = page.get_pixmap(clip=r, matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY, alpha=False)
    gray = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width]
    # Dark against this box's own paper, its brighter tones: a yellowed newspaper is darker than white, and in a
    # photo the paper is the photo's own highlights.
    dark = gray < min(160.0, float(np.percentile(gray, 90)) - 50.0)
    pad = max(1, int(round(0.2 * zoom * median([w[3] - w[1] for w in words])))) if words else 0
    for w in words:
        x0, y0 = int((w[0] - r.x0) * zoom) - pad, int((w[1] - r.y0) * zoom) - pad
        x1, y1 = int((w[2] - r.x0) * zoom) + pad + 1, int((w[3] - r.y0) * zoom) + pad + 1
        dark[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = False
    cell = max(2, int(round(max(pix.width, pix.height) / _GRID)))
    rows, cols = -(-pix.height // cell), -(-pix.width // cell)
    padded = np.zeros((rows * cell, cols * cell), dtype=bool)
    padded[: pix.height, : pix.width] = dark
    marked = padded.reshape(rows, cell, cols, cell).mean(axis=(1, 3)) >= 0.08
    if min_fill > 0:
        marked = _opened(marked)  # frames and rules that would join pictures into one hollow blob go
    seen = np.zeros_like(marked)
    out: list[Rect] = []
    box_area = _area(rect)
    for i, j in zip(*np.nonzero(marked), strict=True):
        if seen[i, j]:
            continue
        stack, r0, r1, c0, c1 = [(i, j)], i, i, j, j
        seen[i, j] = True
        cells = 0
        while stack:
            a, b = stack.pop()
            cells += 1
            r0, r1, c0, c1 = min(r0, a), max(r1, a), min(c0, b), max(c1, b)
            for da in (-1, 0, 1):
                for db in (-1, 0, 1):
                    na, nb = a + da, b + db
                    if 0 <= na < rows and 0 <= nb < cols and marked[na, nb] and not seen[na, nb]:
                        seen[na, nb] = True
                        stack.append((na, nb))
        if r1 - r0 + 1 < _BLOB_MIN_CELLS or c1 - c0 + 1 < _BLOB_MIN_CELLS:
            continue
        if cells < min_fill * (r1 - r0 + 1) * (c1 - c0 + 1):
            continue
        blob = (
            r.x0 + c0 * cell / zoom,
            r.y0 + r0 * cell / zoom,
            min(r.x1, r.x0 + (c1 + 1) * cell / zoom),
            min(r.y1, r.y0 + (r1 + 1) * cell / zoom),
        )
        if _area(blob) >= _BLOB_MIN_SHARE * box_area:
            out.append(blob)
    return _merged(out)


def _opened(marked: np.ndarray) -> np.ndarray:
    """Morphological opening with a 3x3 square: what is thinner than three cells (lines, frames) goes, solid
    regions keep their shape."""
    padded = np.pad(marked, 1)
    eroded = np.ones_like(marked)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            eroded &= padded[dy : dy + marked.shape[0], dx : dx + marked.shape[1]]
    padded = np.pad(eroded, 1)
    out = np.zeros_like(marked)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out |= padded[dy : dy + marked.shape[0], dx : dx + marked.shape[1]]
    return out


def _merged(rects: list[Rect]) -> list[Rect]:
    rects = list(rects)
    changed = True
    while changed:
        changed = False
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                a, b = rects[i], rects[j]
                if min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1]):
                    rects[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del rects[j]
                    changed = True
                    break
            if changed:
                break
    return rects


def is_text(page: pymupdf.Page, rect: Rect, words: list[Word]) -> tuple[bool, list[Rect]]:
    """Whether an OCR'd Picture box (`rect`, holding `words`) is text, with the blobs of real picture in it."""
    if len(text_lines(words)) < 2 or sum(len(w[4]) for w in words) < 12:
        return False, []
    blobs = ink_blobs(page, rect, words)
    covered = sum(_area(b) for b in blobs)
    return covered < PICTURE_SHARE * _area(rect), blobs


# A blob inside a Text box is a picture when it inks this share of its grid cells (solid, not a frame around text)
# and covers this share of the page.
_SOLID = 0.3
_PAGE_PICTURE = 0.01


def pictures_in_text(page: pymupdf.Page, rect: Rect, words: list[Word], page_area: float) -> list[Rect]:
    """The solid pictures inside an OCR'd Text box that the layout model drew around them as well."""
    return [b for b in ink_blobs(page, rect, words, min_fill=_SOLID) if _area(b) >= _PAGE_PICTURE * page_area]


def _columns(rows: list[list[Phrase]]) -> list[tuple[float, float]]:
    """The x-intervals of the phrases of `rows`, overlapping ones joined: a table's columns."""
    spans = sorted((p.rect[0], p.rect[2]) for row in rows for p in row)
    out: list[tuple[float, float]] = []
    for x0, x1 in spans:
        if out and x0 <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], x1))
        else:
            out.append((x0, x1))
    return out


def _fits(rows: list[list[Phrase]]) -> list[tuple[float, float]] | None:
    """The columns `rows` share, when there are three or more and the cells are short (a table's cells are a few
    words; three columns of running text are lines of many)."""
    cols = _columns(rows)
    if len(cols) < 3 or median(len(p.words) for row in rows for p in row) > _CELL_WORDS:
        return None
    return cols


def _column(cols: list[tuple[float, float]], phrase: Phrase) -> int:
    return next(k for k, (x0, x1) in enumerate(cols) if x0 <= phrase.rect[0] <= x1)


def find_grids(lines: list[Line]) -> list[tuple[list[Line], list[tuple[float, float]]]]:
    """Runs of consecutive lines that read as a table: three or more rows, three or more columns shared by all,
    at least two rows filling three columns."""
    phrases = [ln.pieces(_PHRASE_GAP) for ln in lines]
    out = []
    i = 0
    while i < len(lines):
        if len(phrases[i]) < 3:
            i += 1
            continue
        j, cols = i, _fits([phrases[i]])
        while j + 1 < len(lines) and len(phrases[j + 1]) >= 2:
            height = median(w[3] - w[1] for w in lines[j].words)
            if lines[j + 1].rect[1] - lines[j].rect[3] > _ROW_GAP * height:
                break
            wider = _fits(phrases[i : j + 2])
            if wider is None:
                break
            j, cols = j + 1, wider
        run = phrases[i : j + 1]
        if cols is not None and len(run) >= 3 and sum(1 for row in run if len(row) >= 3) >= 2:
            out.append((lines[i : j + 1], cols))
            i = j + 1
        else:
            i += 1
    return out


def grid_of(lines: list[Line], cols: list[tuple[float, float]]) -> TableGrid:
    """Each row's phrases in the columns they fall in; two in one column (OCR cut a cell's words apart) are one
    cell."""
    cells: list[TableCell] = []
    for r, line in enumerate(lines):
        by_col: dict[int, list[Word]] = {}
        for phrase in line.pieces(_PHRASE_GAP):
            by_col.setdefault(_column(cols, phrase), []).extend(phrase.words)
        for c, ws in by_col.items():
            cells.append(TableCell(r, c, 1, 1, " ".join(w[4] for w in ws), _bounds(ws)))
    return complete_grid(TableGrid(n_rows=len(lines), n_cols=len(cols), cells=cells))


def text_blocks(lines: list[Line]) -> list[list[Word]]:
    """Lines cut into column pieces, stacked into blocks: a piece joins the block above it when it starts within
    a line's height below it, overlaps it sideways and is printed in letters within half to twice the height of
    its last line's. The pieces of one
    line are placed against the blocks as they stood before that line."""
    blocks: list[list[Any]] = []  # [rect, words, line height]
    for line in lines:
        placed = []
        for piece in line.pieces(_COLUMN_GAP):
            h, r = piece.height, piece.rect
            home = None
            for k in range(len(blocks) - 1, -1, -1):
                rect, _, bh = blocks[k]
                gap = r[1] - rect[3]
                overlap = min(rect[2], r[2]) - max(rect[0], r[0])
                if -0.5 * h <= gap <= 0.9 * max(h, bh) and overlap > 0 and 0.5 * bh <= h <= 2.0 * bh:
                    home = k
                    break
            placed.append((home, piece))
        for home, piece in placed:
            r = piece.rect
            if home is None:
                blocks.append([r, list(piece.words), piece.height])
            else:
                rect = blocks[home][0]
                blocks[home][0] = (min(rect[0], r[0]), rect[1], max(rect[2], r[2]), max(rect[3], r[3]))
                blocks[home][1].extend(piece.words)
                blocks[home][2] = piece.height
    return [ws for _, ws, _ in blocks]


def dissolve(words: list[Word], blobs: list[Rect], make: Any) -> list[Any]:
    """The boxes that replace a Picture box of text. `make(type, rect, words, grid=None)` builds one.

    The model's own boxes inside the picture are not used: where it took text for a picture its finer labels
    there were no better (a salutation read as a section header). A one-line block in letters clearly taller than
    the box's body text, not ending as a sentence does, is a SectionHeader."""
    rest = list(words)
    out: list[Any] = []
    for blob in blobs:
        mine = [w for w in rest if _centre_in(w, blob)]
        rest = [w for w in rest if not _centre_in(w, blob)]
        out.append(make("Picture", blob, mine))
    if not rest:
        return out
    body = median(w[3] - w[1] for w in rest)
    lines = text_lines(rest)
    in_grid: set[int] = set()
    for rows, cols in find_grids(lines):
        ws = [w for ln in rows for w in ln.words]
        in_grid.update(id(ln) for ln in rows)
        out.append(make("Table", _bounds(ws), ws, grid=grid_of(rows, cols)))
    for ws in text_blocks([ln for ln in lines if id(ln) not in in_grid]):
        heading = (
            len(text_lines(ws)) == 1
            and len(ws) <= _HEADING_WORDS
            and median(w[3] - w[1] for w in ws) >= _HEADING * body
            and not str(ws[-1][4]).endswith((".", ",", ";"))  # a sentence, a salutation
        )
        out.append(make("SectionHeader" if heading else "Text", _bounds(ws), ws))
    return out

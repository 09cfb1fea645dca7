"""Table structure (rows, columns, spans) and its HTML/Markdown rendering.

Grids come from PyMuPDF's table finder (ruled tables: exact cells and spans) or, failing that,
from the layout model's predicted cell grid. Coordinates here are PDF points.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pymupdf

from .markup import md_escape

Word = tuple  # pymupdf "words" tuple: (x0, y0, x1, y1, text, block, line, word_no)


@dataclass(slots=True)
class TableCell:
    row: int
    col: int
    rowspan: int
    colspan: int
    text: str
    bbox: tuple[float, float, float, float] | None = None


@dataclass(slots=True)
class TableGrid:
    n_rows: int
    n_cols: int
    cells: list[TableCell] = field(default_factory=list)
    header_rows: int = 1

    def rows(self) -> list[list[TableCell]]:
        out: list[list[TableCell]] = [[] for _ in range(self.n_rows)]
        for c in sorted(self.cells, key=lambda c: (c.row, c.col)):
            out[c.row].append(c)
        return out

    def text(self) -> str:
        return "\n".join(" | ".join(c.text for c in row) for row in self.rows() if row)


def words_text(words: list[Word]) -> str:
    """Join words in reading order: spaces inside a line, newlines between lines."""
    lines: list[str] = []
    last_key = None
    for w in sorted(words, key=lambda w: (w[5], w[6], w[7])):
        key = (w[5], w[6])
        if key != last_key:
            lines.append(w[4])
            last_key = key
        else:
            lines[-1] += " " + w[4]
    return "\n".join(lines)


def words_in(words: list[Word], rect: tuple[float, float, float, float]) -> list[Word]:
    x0, y0, x1, y1 = rect
    return [w for w in words if x0 <= (w[0] + w[2]) / 2 <= x1 and y0 <= (w[1] + w[3]) / 2 <= y1]


def _boundaries(values: list[float], tol: float = 2.0) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def _index(bounds: list[float], v: float) -> int:
    return min(range(len(bounds)), key=lambda i: abs(bounds[i] - v))


def grid_from_cell_boxes(boxes: list[tuple[float, float, float, float]], words: list[Word]) -> TableGrid | None:
    """Derive rows/cols and spans from cell rectangles: a cell covering k column gaps spans k columns."""
    boxes = [b for b in boxes if b and b[2] - b[0] > 0.5 and b[3] - b[1] > 0.5]
    if not boxes:
        return None
    xs = _boundaries([b[0] for b in boxes] + [b[2] for b in boxes])
    ys = _boundaries([b[1] for b in boxes] + [b[3] for b in boxes])
    if len(xs) < 2 or len(ys) < 2:
        return None
    seen: set[tuple[int, int]] = set()
    cells: list[TableCell] = []
    for b in boxes:
        c0, c1 = _index(xs, b[0]), _index(xs, b[2])
        r0, r1 = _index(ys, b[1]), _index(ys, b[3])
        if c1 <= c0 or r1 <= r0 or (r0, c0) in seen:
            continue
        seen.add((r0, c0))
        cells.append(TableCell(r0, c0, r1 - r0, c1 - c0, words_text(words_in(words, b)).replace("\n", " "), tuple(b)))
    grid = TableGrid(n_rows=len(ys) - 1, n_cols=len(xs) - 1, cells=cells)
    _fill_holes(grid)
    grid.header_rows = _header_rows(grid)
    return grid


def grid_from_layout(raw: dict, words: list[Word]) -> TableGrid | None:
    """Use the layout model's cell predictions (row/col starts and ends) for tables without rulings."""
    cells_info = raw.get("table_cells") or []
    bboxes = raw.get("bboxes") or []
    if not cells_info:
        return None
    merged: dict[tuple[int, int], TableCell] = {}
    n_rows = n_cols = 0
    for ci in cells_info:
        r0, r1 = int(ci.row_start), int(ci.row_end)
        c0, c1 = int(ci.col_start), int(ci.col_end)
        r1, c1 = max(r1, r0 + 1), max(c1, c0 + 1)
        n_rows, n_cols = max(n_rows, r1), max(n_cols, c1)
        idx = getattr(ci, "bbox_idx", None)
        bb = tuple(bboxes[idx]) if idx is not None and 0 <= idx < len(bboxes) else None
        text = words_text(words_in(words, bb)).replace("\n", " ") if bb else (ci.text or "")
        key = (r0, c0)
        if key in merged:
            # The model sometimes assigns two text boxes to one slot; keep both texts.
            if text:
                merged[key].text = f"{merged[key].text} {text}".strip()
        else:
            merged[key] = TableCell(r0, c0, r1 - r0, c1 - c0, text, bb)
    grid = TableGrid(n_rows=n_rows, n_cols=n_cols, cells=list(merged.values()))
    _fill_holes(grid)
    grid.header_rows = _header_rows(grid)
    return grid


def grid_from_placements(tables: list[Any]) -> TableGrid | None:
    """A grid from PyMuPDF's refined tables (`find_tables(refine=True)`: `Table.placements`, a row-major grid of
    span cells), several stacked into one when the finder cut one table at a repeated header row.

    A section row (`Table.section_rows`) with a single label becomes one cell across the table, as the finder's own
    HTML has it."""
    cells: list[TableCell] = []
    n_rows = n_cols = 0
    header_rows = 0
    for t_index, tab in enumerate(tables):
        placements = getattr(tab, "placements", None) or []
        section_rows = set(getattr(tab, "section_rows", ()) or ())
        taken: set[tuple[int, int]] = set()
        width = 0
        for i, row in enumerate(placements):
            j = 0
            labels = [c for c in row if (c.text or "").strip()]
            if i in section_rows and len(labels) == 1 and len(row) >= 2:
                cells.append(TableCell(n_rows + i, 0, 1, -1, " ".join(labels[0].text.split()), _bbox(labels[0])))
                continue
            for c in row:
                while (i, j) in taken:
                    j += 1
                rowspan, colspan = max(1, int(c.rowspan)), max(1, int(c.colspan))
                for di in range(rowspan):
                    for dj in range(colspan):
                        taken.add((i + di, j + dj))
                cells.append(TableCell(n_rows + i, j, rowspan, colspan, " ".join((c.text or "").split()), _bbox(c)))
                j += colspan
            width = max(width, j)
        if t_index == 0:
            header_rows = int(getattr(tab, "header_rows", 0) or 0)
        n_rows += len(placements)
        n_cols = max(n_cols, width)
    if n_rows == 0 or n_cols == 0:
        return None
    for c in cells:
        if c.colspan == -1:  # a section label: across the whole table
            c.colspan = n_cols
    grid = TableGrid(n_rows=n_rows, n_cols=n_cols, cells=cells)
    _fill_holes(grid)
    grid.header_rows = max(1, min(header_rows, n_rows - 1 if n_rows > 1 else 1))
    return grid


def _bbox(cell: Any) -> tuple[float, float, float, float] | None:
    b = getattr(cell, "bbox", None)
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3])) if b is not None else None


def _fill_holes(grid: TableGrid) -> None:
    """Give every uncovered slot an empty cell so rendered rows line up."""
    covered = [[False] * grid.n_cols for _ in range(grid.n_rows)]
    keep: list[TableCell] = []
    for c in sorted(grid.cells, key=lambda c: (c.row, c.col)):
        c.rowspan = max(1, min(c.rowspan, grid.n_rows - c.row))
        c.colspan = max(1, min(c.colspan, grid.n_cols - c.col))
        if covered[c.row][c.col]:
            continue  # overlapping prediction: drop rather than emit a broken table
        # Shrink spans that would run over already-covered slots.
        while c.colspan > 1 and any(covered[c.row][c.col + k] for k in range(c.colspan)):
            c.colspan -= 1
        while c.rowspan > 1 and any(covered[c.row + k][c.col + j] for k in range(c.rowspan) for j in range(c.colspan)):
            c.rowspan -= 1
        for r in range(c.row, c.row + c.rowspan):
            for k in range(c.col, c.col + c.colspan):
                covered[r][k] = True
        keep.append(c)
    for r in range(grid.n_rows):
        for k in range(grid.n_cols):
            if not covered[r][k]:
                keep.append(TableCell(r, k, 1, 1, ""))
    grid.cells = keep


def complete_grid(grid: TableGrid) -> TableGrid:
    """A grid built cell by cell, made whole: empty cells in the holes, its header rows counted."""
    _fill_holes(grid)
    grid.header_rows = _header_rows(grid)
    return grid


def _header_rows(grid: TableGrid) -> int:
    # A first-row cell spanning down (a grouped header) pulls the rows it covers into the header.
    first = [c for c in grid.cells if c.row == 0]
    rows = max((c.rowspan for c in first), default=1)
    return max(1, min(rows, grid.n_rows // 2 if grid.n_rows > 2 else 1))


def to_html(grid: TableGrid) -> str:
    parts = ["<table>"]
    rows = grid.rows()
    for i, row in enumerate(rows):
        if i == 0:
            parts.append("<thead>")
        if i == grid.header_rows:
            parts.append("<tbody>")
        tag = "th" if i < grid.header_rows else "td"
        parts.append("<tr>")
        for c in row:
            attrs = ""
            if c.rowspan > 1:
                attrs += f' rowspan="{c.rowspan}"'
            if c.colspan > 1:
                attrs += f' colspan="{c.colspan}"'
            parts.append(f"<{tag}{attrs}>{html.escape(c.text)}</{tag}>")
        parts.append("</tr>")
        if i == grid.header_rows - 1:
            parts.append("</thead>")
    if grid.header_rows < len(rows):
        parts.append("</tbody>")
    parts.append("</table>")
    return "".join(parts)


def _md_cell(text: str) -> str:
    return md_escape(text.replace("\n", " ")).replace("|", "\\|").strip()


def to_markdown(grid: TableGrid) -> str:
    """Markdown has no spans: a spanned cell's text goes in its first slot, the rest stay empty."""
    matrix = [["" for _ in range(grid.n_cols)] for _ in range(grid.n_rows)]
    for c in grid.cells:
        matrix[c.row][c.col] = _md_cell(c.text)
    if not matrix or grid.n_cols == 0:
        return ""
    lines = ["| " + " | ".join(matrix[0]) + " |", "|" + "|".join(["---"] * grid.n_cols) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in matrix[1:]]
    return "\n".join(lines)


def lines_grid(words: list[Word]) -> TableGrid:
    """Last resort for a table box with no recognisable structure: one row per text line."""
    texts = [t for t in words_text(words).split("\n") if t.strip()]
    cells = [TableCell(i, 0, 1, 1, t) for i, t in enumerate(texts)] or [TableCell(0, 0, 1, 1, "")]
    grid = TableGrid(n_rows=max(1, len(texts)), n_cols=1, cells=cells)
    grid.header_rows = 1
    return grid


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


def find_table_grid(
    page: pymupdf.Page, rect: tuple[float, float, float, float], words: list[Any], raw: dict | None
) -> TableGrid | None:
    """Ruled tables: PyMuPDF's table finder (exact cells and spans from the rulings). Otherwise the
    layout model's predicted grid, which also predicts row/column spans; the finder's text-alignment
    guess is the last resort."""
    layout_grid = grid_from_layout(raw, words) if raw else None
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
            grid = grid_from_cell_boxes([c for c in best.cells if c], words)
            if grid is not None and grid.n_rows * grid.n_cols > 1:
                return grid
    except Exception:  # noqa: BLE001, S110 - the table finder is a heuristic; fall back below
        pass
    return layout_grid

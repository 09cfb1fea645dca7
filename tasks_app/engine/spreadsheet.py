"""Spreadsheet cells (ss_* fields, API_CONTRACT §9.10–9.11) read with openpyxl.

LibreOffice exports each visible sheet as one PDF page (SinglePageSheets), so page i is sheet i;
each sheet becomes one Table segment whose HTML comes from the cells themselves (exact values,
merged ranges as spans) rather than from layout analysis of the rendered image.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from . import content as content_mod
from . import office
from .chunking import count_tokens
from .config import ParseConfig
from .scanned import PageContext
from .segments import cover, new_id, ocr_results
from .sniff import SPREADSHEET_KINDS
from .tables import TableCell, TableGrid
from .types import Cell, CellStyle, Segment

MAX_CELLS_PER_SHEET = 50_000


@dataclass(slots=True)
class SheetData:
    name: str
    range: str | None
    header_range: str | None
    header_text: str | None
    cells: list[Cell] = field(default_factory=list)
    grid: TableGrid | None = None
    truncated: bool = False


_ALIGN = {
    "left": "Left",
    "center": "Center",
    "centerContinuous": "Center",
    "right": "Right",
    "justify": "Justify",
    "distributed": "Justify",
}
_VALIGN = {"top": "Top", "center": "Middle", "bottom": "Bottom", "justify": "Middle", "distributed": "Middle"}


def _color(c: Any) -> str | None:
    rgb = getattr(c, "rgb", None) if c is not None else None
    if isinstance(rgb, str) and len(rgb) in (6, 8) and getattr(c, "type", "rgb") == "rgb":
        return "#" + rgb[-6:].upper()
    return None


def _style(cell: Any) -> CellStyle | None:
    font, fill, al = cell.font, cell.fill, cell.alignment
    bg = _color(fill.fgColor) if fill is not None and fill.fill_type == "solid" else None
    style = CellStyle(
        align=_ALIGN.get(al.horizontal) if al is not None else None,
        valign=_VALIGN.get(al.vertical) if al is not None else None,
        bg_color=bg,
        text_color=_color(font.color) if font is not None else None,
        font_face=font.name if font is not None else None,
        is_bold=bool(font.b) if font is not None else None,
    )
    return style


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def _missing_cached_values(wb_f: Any, wb_v: Any) -> bool:
    for ws in wb_f.worksheets:
        wv = wb_v[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                if (
                    isinstance(cell.value, str)
                    and cell.value.startswith("=")
                    and wv.cell(cell.row, cell.column).value is None
                ):
                    return True
    return False


def read_workbook(path: Path, kind: str, timeout_s: float = 300.0) -> list[SheetData]:
    """Sheets of an .xlsx, .xls or .ods workbook. openpyxl reads only .xlsx, so the other two are converted to it
    by LibreOffice first (which also computes every formula's value)."""
    if kind == "xlsx":
        return read_xlsx(path, timeout_s)
    data = office.recalculated_xlsx(path, timeout_s, kind=kind)
    with tempfile.TemporaryDirectory(prefix="engine-sheets-") as tmp:
        converted = Path(tmp) / "workbook.xlsx"
        converted.write_bytes(data)
        return read_xlsx(converted, timeout_s)


def read_xlsx(path: Path, timeout_s: float = 300.0) -> list[SheetData]:
    wb_f = openpyxl.load_workbook(path, data_only=False)
    wb_v = openpyxl.load_workbook(path, data_only=True)
    if _missing_cached_values(wb_f, wb_v):
        try:
            data = office.recalculated_xlsx(path, timeout_s)
        except Exception:  # noqa: BLE001, S110 - keep formulas without values rather than fail
            pass
        else:
            wb_v.close()
            wb_v = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    sheets: list[SheetData] = []
    try:
        for ws in wb_f.worksheets:
            if ws.sheet_state != "visible":
                continue  # LibreOffice does not export hidden sheets
            wv = wb_v[ws.title]
            if ws.max_row == 1 and ws.max_column == 1 and ws.cell(1, 1).value is None:
                sheets.append(SheetData(ws.title, None, None, None))
                continue
            r0, c0, r1, c1 = ws.min_row, ws.min_column, ws.max_row, ws.max_column
            merged = {}
            covered = set()
            for mr in ws.merged_cells.ranges:
                merged[(mr.min_row, mr.min_col)] = mr
                for r in range(mr.min_row, mr.max_row + 1):
                    for c in range(mr.min_col, mr.max_col + 1):
                        if (r, c) != (mr.min_row, mr.min_col):
                            covered.add((r, c))
            cells: list[Cell] = []
            grid_cells: list[TableCell] = []
            truncated = False
            for row in ws.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1):
                for cell in row:
                    key = (cell.row, cell.column)
                    if key in covered:
                        continue
                    if len(cells) >= MAX_CELLS_PER_SHEET:
                        truncated = True
                        break
                    raw = cell.value
                    formula = raw if isinstance(raw, str) and raw.startswith("=") else None
                    value = wv.cell(cell.row, cell.column).value if formula else raw
                    text = _display(value)
                    mr = merged.get(key)
                    ref = mr.coord if mr is not None else cell.coordinate
                    rowspan = (mr.max_row - mr.min_row + 1) if mr is not None else 1
                    colspan = (mr.max_col - mr.min_col + 1) if mr is not None else 1
                    grid_cells.append(TableCell(cell.row - r0, cell.column - c0, rowspan, colspan, text))
                    if raw is None and mr is None:
                        continue
                    link = cell.hyperlink.target if cell.hyperlink is not None else None
                    cells.append(
                        Cell(
                            cell_id=str(uuid.uuid4()),
                            range=ref,
                            text=text,
                            value=None if value is None else str(value),
                            formula=formula,
                            hyperlink=link,
                            style=_style(cell),
                        )
                    )
                if truncated:
                    break
            grid = TableGrid(n_rows=r1 - r0 + 1, n_cols=c1 - c0 + 1, cells=grid_cells, header_rows=1)
            first, last = f"{get_column_letter(c0)}{r0}", f"{get_column_letter(c1)}{r1}"
            header_range = f"{first}:{get_column_letter(c1)}{r0}"
            header_text = " | ".join(c.text for c in grid_cells if c.row == 0)
            sheets.append(SheetData(ws.title, f"{first}:{last}", header_range, header_text, cells, grid, truncated))
    finally:
        wb_f.close()
        wb_v.close()
    return sheets


def read_sheets(
    path: Path, kind: str, page_count: int, warn: Callable[[str], None], timeout_s: float
) -> list[SheetData] | None:
    """The workbook's sheets, one per rendered page, or None (not a spreadsheet, or its cells could not be matched
    to the pages: they are then analysed as images, and `warn` says why)."""
    if kind not in SPREADSHEET_KINDS:
        return None
    try:
        sheets = read_workbook(path, kind, timeout_s)
    except Exception:  # noqa: BLE001 - cell details are a bonus on top of the rendered pages
        warn("Spreadsheet cell details could not be read; pages were analysed as images.")
        return None
    if len(sheets) != page_count:
        warn("Sheets and rendered pages did not line up; pages were analysed as images.")
        return None
    if any(s.truncated for s in sheets):
        warn("A sheet has more cells than the engine keeps; its ss_cells list is truncated.")
    return sheets


def sheet_segments(
    ctx: PageContext, sheet: Any, words: list[Any], config: ParseConfig, tokenizer: str
) -> list[Segment]:
    """One Table segment per sheet, built from the cells rather than from the rendered image."""
    gen = config.generation("Table")
    if gen.strategy == "Ignore" or sheet.grid is None or not sheet.cells:
        return []
    rect = cover(ctx, (words[0][0], words[0][1], words[0][2], words[0][3]), words) if words else tuple(ctx.page.rect)
    box = ctx.bbox(rect)
    html, md = content_mod.render("Table", "", sheet.grid)
    content = html if gen.format == "Html" else md
    return [
        Segment(
            segment_id=new_id(),
            segment_type="Table",
            bbox=box,
            page_number=ctx.number,
            page_width=ctx.width_px,
            page_height=ctx.height_px,
            content=content,
            text=sheet.grid.text(),
            html=html,
            markdown=md,
            embed=content,
            segment_length=count_tokens(content, tokenizer),
            confidence=None,
            ocr=ocr_results(ctx, rect, words, box),
            ss_cells=tuple(sheet.cells),
            ss_range=sheet.range,
            ss_sheet_name=sheet.name,
            ss_header_range=sheet.header_range,
            ss_header_text=sheet.header_text,
        )
    ]

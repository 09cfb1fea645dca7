"""Table structure on generated born-digital pages (issue 17): spans, unruled numbers, tables boxed together."""

from __future__ import annotations

from html.parser import HTMLParser

import pymupdf

from tasks_app.engine import MemorySink, parse_document

from .conftest import options


class _Grid(HTMLParser):
    """A <table> as rows of cell texts, spans expanded with the text in the top-left slot."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, int, int]]] = []
        self._cell: list[str] | None = None
        self._span = (1, 1)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            a = dict(attrs)
            self._span = (int(a.get("rowspan") or 1), int(a.get("colspan") or 1))
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(("".join(self._cell).strip(), *self._span))
            self._cell = None

    def grid(self) -> list[list[str]]:
        taken: dict[tuple[int, int], str] = {}
        for i, row in enumerate(self.rows):
            j = 0
            for text, rowspan, colspan in row:
                while (i, j) in taken:
                    j += 1
                for di in range(rowspan):
                    for dj in range(colspan):
                        taken[(i + di, j + dj)] = text if di == dj == 0 else ""
                j += colspan
        n_rows = max(i for i, _ in taken) + 1
        n_cols = max(j for _, j in taken) + 1
        return [[taken.get((i, j), "") for j in range(n_cols)] for i in range(n_rows)]


def _grid(html: str) -> list[list[str]]:
    parser = _Grid()
    parser.feed(html)
    return parser.grid()


def _spans(html: str) -> list[tuple[str, int, int]]:
    parser = _Grid()
    parser.feed(html)
    return [c for row in parser.rows for c in row if c[1] > 1 or c[2] > 1]


def _tables(path):
    result = parse_document(path, options(), MemorySink())
    return result, [s for s in result.segments if s.segment_type == "Table"]


SPANNED = [
    ["Region", "2023", "", "2024", ""],
    ["", "H1", "H2", "H1", "H2"],
    ["North", "1,200", "1,310", "1,405", "1,522"],
    ["South", "980", "1,010", "1,090", "1,150"],
    ["West", "1,410", "1,388", "1,460", "1,501"],
    ["East", "760", "802", "845", "890"],
]


def _spanned_table(page: pymupdf.Page, top: float) -> None:
    """SPANNED drawn with full rulings: "Region" spans two rows, each year two columns."""
    xs = [72, 192, 282, 372, 462, 552]
    ys = [top + 20 * k for k in range(len(SPANNED) + 1)]
    shape = page.new_shape()
    for k, y in enumerate(ys):
        # The line under the year row stops short of the "Region" column (a row span).
        shape.draw_line((xs[1] if k == 1 else xs[0], y), (xs[-1], y))
    for k, x in enumerate(xs):
        if k in (2, 4):  # inside a year's column span: only below the year row
            shape.draw_line((x, ys[1]), (x, ys[-1]))
        else:
            shape.draw_line((x, ys[0]), (x, ys[-1]))
    shape.finish(color=(0, 0, 0), width=0.8)
    shape.commit()
    for r, row in enumerate(SPANNED):
        for c, cell in enumerate(row):
            if cell:
                page.insert_text((xs[c] + 4, ys[r] + 14), cell, fontsize=10, fontname="hebo" if r < 2 else "helv")


def test_ruled_table_with_row_and_column_spans(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 90), "Regional sales", fontsize=16, fontname="hebo")
    page.insert_textbox((72, 110, 540, 200), "Sales by region and half-year, in thousands. " * 4, fontsize=10)
    _spanned_table(page, 220)
    doc.save(tmp_path / "spans.pdf")

    _, tables = _tables(tmp_path / "spans.pdf")

    assert len(tables) == 1
    assert _grid(tables[0].html) == SPANNED
    assert sorted(_spans(tables[0].html)) == [("2023", 1, 2), ("2024", 1, 2), ("Region", 2, 1)]


NUMBERS = [
    ["Item", "Units", "Price", "Total"],
    ["Apples", "120", "0.45", "54.00"],
    ["Pears", "80", "0.60", "48.00"],
    ["Plums", "200", "0.25", "50.00"],
    ["Cherries", "35", "2.10", "73.50"],
    ["Grapes", "64", "1.15", "73.60"],
    ["Figs", "18", "1.90", "34.20"],
]


def test_unruled_numeric_table_keeps_every_cell(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_textbox((72, 72, 540, 160), "Fruit delivered in March, by item. " * 5, fontsize=10)
    xs = [72, 220, 330, 440]
    for r, row in enumerate(NUMBERS):
        for c, cell in enumerate(row):
            x = xs[c] if c == 0 else xs[c] + 60 - pymupdf.get_text_length(cell, "helv", 10)  # numbers right-aligned
            page.insert_text((x, 200 + 18 * r), cell, fontsize=10, fontname="hebo" if r == 0 else "helv")
    doc.save(tmp_path / "numbers.pdf")

    _, tables = _tables(tmp_path / "numbers.pdf")

    assert len(tables) == 1
    assert _grid(tables[0].html) == NUMBERS


def test_two_tables_with_text_between_are_two_tables(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    _spanned_table(page, 80)
    page.insert_textbox((72, 230, 540, 280), "The second table repeats the first for the next year.", fontsize=10)
    _spanned_table(page, 300)
    doc.save(tmp_path / "two.pdf")

    result, tables = _tables(tmp_path / "two.pdf")

    assert [_grid(t.html) for t in tables] == [SPANNED, SPANNED]
    between = [s for s in result.segments if "repeats the first" in s.text]
    assert [s.segment_type for s in between] == ["Text"]


def test_table_text_is_not_lost_from_the_segment(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    _spanned_table(page, 100)
    doc.save(tmp_path / "one.pdf")

    _, tables = _tables(tmp_path / "one.pdf")

    words = {w for row in SPANNED for cell in row for w in cell.split()}
    assert words <= set(tables[0].text.replace("|", " ").split())

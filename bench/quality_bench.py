"""Parse quality side by side with PyMuPDF's own table finder, in the same run (issue 17).

    .venv/bin/python bench/quality_bench.py [--corpus DIR] [--only SUBSTRING ...] [--per-table] [--systems a,b,c]

Reads ../shared/corpus/tables-born-digital (28 tables from 23 born-digital PDFs with upstream's expected cells; not
copied into this repository; `--corpus` points elsewhere) and skips with a message when it is absent. Each table's
page is cut out as a one-page PDF and read by every system:

* "ours": `parse_document` (LayoutAnalysis, the engine's defaults); every Table segment's HTML.
* "find_tables": plain `page.find_tables()` on the upright page, each table's `extract()`.
* "pymupdf4llm": the tables pymupdf4llm's HTML table output reads: `page.find_tables(use_layout=True, union=True,
  refine=True)` on the upright page, each table's `to_html()` (its span placements).

Scoring follows the corpus README: spans expanded with the text in the top-left slot, NFKC and whitespace
normalised, empty rows and columns dropped; the reference is matched to the predicted table that shares the most
cells with it. Where the reference has an `area`, predicted rows with no cell text inside that area are dropped
first (the same for every system), so a header row the upstream test left out costs nobody. Measures, summed over
tables (micro) and split by `ruled`/`unruled`:

* cell-adjacency F1 (ICDAR 2013): (cell, next non-empty cell to the right/below, direction) tuples;
* exact-row rate: recall = share of reference rows found as a predicted row, precision the other way.

`--docling` adds label agreement with docling's outputs on docling-regression (items matched by IoU >= 0.5).
`--geotopo` adds text fidelity on the GeoTopo book (Levenshtein ratio against its hand-checked text, whitespace
ignored, NFKC), beside `get_text()` and pymupdf4llm. `--per-table` prints each table's figures, so lost cells can
be traced to a table. docs/BENCHMARKS.md records the figures with this command.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pymupdf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared/corpus/tables-born-digital"
SYSTEMS = ("ours", "find_tables", "pymupdf4llm")

Grid = list[list[str]]


# ---------------------------------------------------------------- normalising and scoring


def norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def clean(grid: Grid) -> Grid:
    """Normalise cells; drop rows and columns that are empty throughout."""
    rows = [[norm(c) for c in row] for row in grid]
    rows = [r for r in rows if any(r)]
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    keep = [k for k in range(width) if any(r[k] for r in rows)]
    return [[r[k] for k in keep] for r in rows]


def adjacency(grid: Grid) -> Counter:
    out: Counter = Counter()
    n_rows = len(grid)
    for i, row in enumerate(grid):
        for j, cell in enumerate(row):
            if not cell:
                continue
            right = next((c for c in row[j + 1 :] if c), None)
            if right is not None:
                out[(cell, right, "h")] += 1
            below = next((grid[k][j] for k in range(i + 1, n_rows) if grid[k][j]), None)
            if below is not None:
                out[(cell, below, "v")] += 1
    return out


def cell_bag(grid: Grid) -> Counter:
    return Counter(c for row in grid for c in row if c)


@dataclass(slots=True)
class Score:
    adj_tp: int = 0
    adj_pred: int = 0
    adj_ref: int = 0
    row_hit_ref: int = 0
    rows_ref: int = 0
    row_hit_pred: int = 0
    rows_pred: int = 0
    tables: int = 0
    found: int = 0

    def add(self, other: Score) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def _f1(p: float, r: float) -> float:
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def adj(self) -> tuple[float, float, float]:
        p = self.adj_tp / self.adj_pred if self.adj_pred else 0.0
        r = self.adj_tp / self.adj_ref if self.adj_ref else 0.0
        return p, r, self._f1(p, r)

    @property
    def rows(self) -> tuple[float, float, float]:
        p = self.row_hit_pred / self.rows_pred if self.rows_pred else 0.0
        r = self.row_hit_ref / self.rows_ref if self.rows_ref else 0.0
        return p, r, self._f1(p, r)


def score(pred: Grid | None, ref: Grid) -> Score:
    s = Score(tables=1)
    ref_adj = adjacency(ref)
    s.adj_ref = sum(ref_adj.values())
    ref_rows = Counter(tuple(r) for r in ref)
    s.rows_ref = len(ref)
    if pred is None:
        return s
    s.found = 1
    pred_adj = adjacency(pred)
    s.adj_pred = sum(pred_adj.values())
    s.adj_tp = sum((pred_adj & ref_adj).values())
    pred_rows = Counter(tuple(r) for r in pred)
    s.rows_pred = len(pred)
    s.row_hit_ref = sum((ref_rows & pred_rows).values())
    s.row_hit_pred = s.row_hit_ref
    return s


# ---------------------------------------------------------------- HTML tables to grids


class _TableParser(HTMLParser):
    """<table> elements to grids: rowspan/colspan expanded, text in the top-left slot."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[Grid] = []
        self._rows: list[list[tuple[str, int, int]]] | None = None
        self._cell: list[str] | None = None
        self._span = (1, 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            a = dict(attrs)
            self._span = (int(a.get("rowspan") or 1), int(a.get("colspan") or 1))
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(("".join(self._cell), *self._span))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables.append(_expand(self._rows))
            self._rows = None


def _expand(rows: list[list[tuple[str, int, int]]]) -> Grid:
    taken: dict[tuple[int, int], str] = {}
    for i, row in enumerate(rows):
        j = 0
        for text, rowspan, colspan in row:
            while (i, j) in taken:
                j += 1
            for di in range(rowspan):
                for dj in range(colspan):
                    taken[(i + di, j + dj)] = text if di == dj == 0 else ""
            j += colspan
    if not taken:
        return []
    n_rows = max(i for i, _ in taken) + 1
    n_cols = max(j for _, j in taken) + 1
    return [[taken.get((i, j), "") for j in range(n_cols)] for i in range(n_rows)]


def html_tables(markup: str) -> list[Grid]:
    parser = _TableParser()
    parser.feed(markup)
    parser.close()
    return parser.tables


# ---------------------------------------------------------------- the systems


def one_page_pdf(pdf: Path, page: int, out: Path) -> Path:
    src = pymupdf.open(pdf)
    dst = pymupdf.open()
    dst.insert_pdf(src, from_page=page - 1, to_page=page - 1)
    dst.save(out)
    dst.close()
    src.close()
    return out


def upright(pdf: Path) -> tuple[pymupdf.Document, pymupdf.Page]:
    doc = pymupdf.open(pdf)
    page = doc[0]
    page.remove_rotation()
    return doc, page


def run_ours(pdf: Path) -> list[Grid]:
    from tasks_app.engine import NullSink, ParseOptions, parse_document

    result = parse_document(pdf, ParseOptions(page_images="lazy"), NullSink())
    return [g for s in result.segments if s.segment_type == "Table" for g in html_tables(s.html)]


def run_find_tables(pdf: Path) -> list[Grid]:
    doc, page = upright(pdf)
    try:
        return [[[c or "" for c in row] for row in tab.extract()] for tab in page.find_tables().tables]
    finally:
        doc.close()


def run_pymupdf4llm(pdf: Path) -> list[Grid]:
    """The tables pymupdf4llm's HTML table output reads (helpers/table_html: the upright page, then
    `find_tables(use_layout=True, union=True, refine=True)` and each table's span placements)."""
    doc, page = upright(pdf)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            found = page.find_tables(use_layout=True, union=True, refine=True)
        return [g for tab in found.tables for g in html_tables(tab.to_html())]
    finally:
        doc.close()


RUNNERS = {"ours": run_ours, "find_tables": run_find_tables, "pymupdf4llm": run_pymupdf4llm}


def area_text(pdf: Path, area: list[float] | None) -> str | None:
    if not area:
        return None
    doc, page = upright(pdf)
    try:
        return norm(page.get_text("text", clip=pymupdf.Rect(area) + (-2, -2, 2, 2)))
    finally:
        doc.close()


def in_area(grid: Grid, text: str | None) -> Grid:
    if text is None:
        return grid
    return [r for r in grid if any(c and c in text for c in r)]


def best_match(preds: list[Grid], ref: Grid) -> Grid | None:
    ref_bag = cell_bag(ref)
    best, best_shared = None, 0
    for g in preds:
        shared = sum((cell_bag(g) & ref_bag).values())
        if shared > best_shared:
            best, best_shared = g, shared
    return best


# ---------------------------------------------------------------- report


@dataclass(slots=True)
class Totals:
    by_kind: dict[str, Score] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, kind: str, s: Score) -> None:
        for k in (kind, "all"):
            self.by_kind.setdefault(k, Score()).add(s)


GEOTOPO = ROOT.parent / "shared/corpus/pdf-textlayer/py-pdf-sample-files/009-pdflatex-geotopo/GeoTopo-komprimiert.pdf"
GEOTOPO_TEXT = ROOT.parent / "shared/corpus/pdf-textlayer/py-pdf-benchmarks-groundtruth/GeoTopo-book.txt"
FURNITURE = {"PageHeader", "PageFooter", "PageNumber"}


def _squash(text: str) -> str:
    # As tests/engine/test_corpus.py: compatibility forms (ligatures) folded, layout spacing ignored.
    return "".join(unicodedata.normalize("NFKC", text).split())


def geotopo() -> None:
    """Text fidelity on the 117-page GeoTopo book: Levenshtein ratio of the body text against the hand-checked text,
    ours (every segment in reading order, and without headers, footers and page numbers) beside PyMuPDF's plain
    `get_text()` and pymupdf4llm's Markdown."""
    from rapidfuzz.distance import Levenshtein

    from tasks_app.engine import NullSink, ParseConfig, ParseOptions, parse_document

    if not GEOTOPO.exists():
        print("GeoTopo: skipped (corpus not found)")
        return
    truth = _squash(GEOTOPO_TEXT.read_text())
    texts: dict[str, tuple[str, float]] = {}
    started = time.perf_counter()
    options = ParseOptions(config=ParseConfig.from_dict({"ocr_strategy": "Auto"}), page_images="lazy")
    result = parse_document(GEOTOPO, options, NullSink())
    # The hand-checked text has the running heads and page numbers, so "all segments" compares like with like;
    # "body only" is what tests/engine/test_corpus.py asserts.
    texts["ours (all segments)"] = (" ".join(s.text for s in result.segments), started)
    texts["ours (body only)"] = (" ".join(s.text for s in result.segments if s.segment_type not in FURNITURE), started)
    started = time.perf_counter()
    with pymupdf.open(GEOTOPO) as doc:
        texts["get_text"] = (" ".join(page.get_text() for page in doc), started)
    started = time.perf_counter()
    import pymupdf4llm

    with contextlib.redirect_stdout(io.StringIO()):
        texts["pymupdf4llm"] = (pymupdf4llm.to_markdown(str(GEOTOPO), show_progress=False), started)
    print("| GeoTopo (117 p.) | Levenshtein ratio |")
    print("|---|---|")
    for name, (text, _) in texts.items():
        print(f"| {name} | {Levenshtein.normalized_similarity(_squash(text), truth):.4f} |")


DOCLING = ROOT.parent / "shared/corpus/docling-regression"
DOCLING_LABELS = {
    "title": "Title",
    "section_header": "SectionHeader",
    "text": "Text",
    "paragraph": "Text",
    "list_item": "ListItem",
    "table": "Table",
    "picture": "Picture",
    "chart": "Picture",
    "caption": "Caption",
    "formula": "Formula",
    "footnote": "Footnote",
    "page_header": "PageHeader",
    "page_footer": "PageFooter",
    "code": "Text",
}
SAME = {"PageNumber": {"PageHeader", "PageFooter"}}


def _docling_items(gt: dict) -> list[tuple[int, str, tuple[float, float, float, float]]]:
    """(page, our label, box in points from the top left) of every docling item with a box."""
    heights = {int(k): float(v["size"]["height"]) for k, v in (gt.get("pages") or {}).items()}
    out = []
    for item in (gt.get("texts") or []) + (gt.get("tables") or []) + (gt.get("pictures") or []):
        label = DOCLING_LABELS.get(item.get("label"))
        for prov in (item.get("prov") or [])[:1]:
            b, page = prov["bbox"], int(prov["page_no"])
            if label is None:
                continue
            if b.get("coord_origin") == "BOTTOMLEFT":
                h = heights.get(page, 792.0)
                box = (b["l"], h - b["t"], b["r"], h - b["b"])
            else:
                box = (b["l"], b["t"], b["r"], b["b"])
            out.append((page, label, box))
    return out


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def docling(root: Path) -> None:
    """Label agreement with docling's own outputs on docling-regression: each docling item is matched to our segment
    of greatest overlap on its page (IoU >= 0.5); agreement = matched items whose labels agree (a PageNumber agrees
    with a header or footer). A peer's reading, not human truth (the corpus README)."""
    from tasks_app.engine import NullSink, ParseConfig, ParseOptions, parse_document

    pairs = [(p, root / "pdf/groundtruth" / f"{p.stem}.json") for p in sorted((root / "pdf/sources").glob("*.pdf"))]
    gt_dir = root / "ocr/groundtruth/tesseract/layout_regions"
    pairs += [(p, gt_dir / f"{p.stem}.tesseract.layout_regions.json") for p in sorted((root / "ocr/sources").glob("*"))]
    pairs = [(src, gt) for src, gt in pairs if gt.exists()]
    if not pairs:
        print("docling: skipped (corpus not found)")
        return
    config = ParseConfig.from_dict({"ocr_strategy": "Auto", "error_handling": "Continue"})
    options = ParseOptions(config=config, page_images="lazy")
    items = matched = agreed = 0
    confusions: Counter = Counter()
    for src, gt_path in pairs:
        gt = json.loads(gt_path.read_text())
        try:
            result = parse_document(src, options, NullSink())
        except Exception as exc:  # noqa: BLE001 - a failing file counts as unmatched items
            print(f"docling: {src.name}: {type(exc).__name__}", file=sys.stderr)
            continue
        sizes = {int(k): v["size"] for k, v in (gt.get("pages") or {}).items()}
        ours = []
        for seg in result.segments:
            size = sizes.get(seg.page_number)
            sx = size["width"] / seg.page_width if size else 0.5
            sy = size["height"] / seg.page_height if size else 0.5
            b = seg.bbox
            ours.append((seg.page_number, seg.segment_type, (b.left * sx, b.top * sy, b.right * sx, b.bottom * sy)))
        for page, label, box in _docling_items(gt):
            items += 1
            best = max(((_iou(box, o[2]), o[1]) for o in ours if o[0] == page), default=(0.0, None))
            if best[0] < 0.5:
                continue
            matched += 1
            if best[1] == label or label in SAME.get(best[1], ()):
                agreed += 1
            else:
                confusions[(label, best[1])] += 1
    print(f"| docling-regression ({len(pairs)} files) | items | matched (IoU >= 0.5) | label agreement |")
    print("|---|---|---|---|")
    print(f"| ours | {items} | {matched} | {agreed / matched if matched else 0:.3f} |")
    print(
        "Most common disagreements (docling -> ours):",
        ", ".join(f"{a}->{b} {n}" for (a, b), n in confusions.most_common(8)),
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--only", nargs="*", help="tables whose ref name contains one of these")
    parser.add_argument("--per-table", action="store_true")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--geotopo", action="store_true", help="also the GeoTopo book's text fidelity")
    parser.add_argument("--docling", action="store_true", help="also label agreement with docling-regression")
    parser.add_argument("--docling-corpus", type=Path, default=DOCLING)
    parser.add_argument("--no-tables", action="store_true", help="skip the tables (with --geotopo/--docling)")
    args = parser.parse_args()
    if args.docling:
        docling(args.docling_corpus)
    if args.geotopo:
        geotopo()
    systems = [s for s in args.systems.split(",") if s]
    if args.no_tables:
        return 0
    if not (args.corpus / "ref").is_dir():
        print(f"skipped: {args.corpus} not found (pass --corpus)")
        return 0
    refs = sorted((args.corpus / "ref").glob("*.json"))
    if args.only:
        refs = [r for r in refs if any(o in r.stem for o in args.only)]
    by_page: dict[tuple[str, int], list[tuple[str, dict]]] = {}
    for path in refs:
        ref = json.loads(path.read_text())
        by_page.setdefault((ref["pdf"], ref["page"]), []).append((path.stem, ref))

    totals = {s: Totals() for s in systems}
    rows_out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for (pdf_name, page), tables in sorted(by_page.items()):
            pdf = one_page_pdf(args.corpus / pdf_name, page, Path(tmp) / f"{Path(pdf_name).stem}-{page}.pdf")
            preds: dict[str, list[Grid]] = {}
            for system in systems:
                started = time.perf_counter()
                try:
                    preds[system] = RUNNERS[system](pdf)
                except Exception as exc:  # noqa: BLE001 - a failing system scores 0 on the table, not the run
                    print(f"{system} failed on {pdf_name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    preds[system] = []
                totals[system].seconds += time.perf_counter() - started
            for name, ref in tables:
                ref_grid = clean(ref["rows"])
                text = area_text(pdf, ref.get("area"))
                line = [name, ref["kind"]]
                for system in systems:
                    candidates = [in_area(clean(g), text) for g in preds[system]]
                    s = score(best_match(candidates, ref_grid), ref_grid)
                    totals[system].add(ref["kind"], s)
                    line.append(f"{s.adj[2]:.3f} / {s.rows[1]:.2f}")
                rows_out.append("| " + " | ".join(line) + " |")

    if args.per_table:
        print("Per table: cell-adjacency F1 / exact-row recall\n")
        print("| table | kind | " + " | ".join(systems) + " |")
        print("|---|---|" + "---|" * len(systems))
        print("\n".join(rows_out))
        print()
    print("| system | tables | found | adj. P | adj. R | adj. F1 | row P | row R | F1 ruled | F1 unruled | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for system in systems:
        t = totals[system]
        a = t.by_kind.get("all", Score())
        ruled = t.by_kind.get("ruled", Score()).adj[2]
        unruled = t.by_kind.get("unruled", Score()).adj[2]
        p, r, f1 = a.adj
        rp, rr, _ = a.rows
        print(
            f"| {system} | {a.tables} | {a.found} | {p:.3f} | {r:.3f} | {f1:.3f} | {rp:.3f} | {rr:.3f} "
            f"| {ruled:.3f} | {unruled:.3f} | {t.seconds:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Table quality on PubTabNet's example images: TEDS and TEDS-S of our table HTML (issue 3, "Quality").

    .venv/bin/python bench/teds_bench.py [--ocr auto|tesseract|rapidocr[,...]] [--dpi N] [--limit N] [--corpus DIR]

Reads ../shared/corpus/pubtabnet-examples (20 cropped table images with HTML ground truth; not copied into this
repository; `--corpus` points elsewhere, e.g. from a git worktree) and skips with a message when it is absent.
Each image is parsed by `parse_document` (LayoutAnalysis, OCR Auto, Continue) twice per OCR backend, each pass in
a fresh process:

* "engine": as the engine segments it. The largest Table segment's HTML is scored; no Table scores 0.
* "region": the table region given. The layout model is told that all the text on the image is one table, so
  its table-grid model runs on the whole image and the engine's own table code builds the HTML from that.

TEDS follows Zhong et al. 2020 ("Image-based table recognition: data, model, and evaluation", §V) and the
reference implementation's conventions (github.com/ibm-aur-nlp/PubTabNet src/metric.py), so figures compare with
published ones; `--sanity` checks it against the reference's own numbers on src/sample_{gt,pred}.json.
docs/BENCHMARKS.md records the figures with this command.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from queue import Empty

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared/corpus/pubtabnet-examples"

# TEDS of src/sample_pred.json against src/sample_gt.json as the reference implementation printed it
# (github.com/ibm-aur-nlp/PubTabNet src/demo.ipynb, last cell; src/README.md points there).
UPSTREAM_SAMPLE_TEDS = {
    "PMC2094709_004_00.png": 1.0,
    "PMC2871264_002_00.png": 1.0,
    "PMC2915972_003_00.png": 0.9298260149130074,
    "PMC3160368_005_00.png": 0.994615695248351,
    "PMC3568059_003_00.png": 0.9609420535891124,
    "PMC3707453_006_00.png": 0.8538903625110521,
    "PMC3765162_003_01.png": 0.9867342100509474,
    "PMC3872294_001_00.png": 0.9863636363636363,
    "PMC4196076_004_00.png": 0.9958653089334908,
    "PMC4219599_004_00.png": 0.6029978075326913,
    "PMC4297392_007_00.png": 0.8070175438596492,
    "PMC4311460_007_00.png": 0.6576923076923077,
    "PMC4357206_002_00.png": 0.9295181638546892,
    "PMC4445578_009_01.png": 0.6754965084868096,
    "PMC4969833_016_01.png": 1.0,
    "PMC5303243_003_00.png": 0.6494374120956399,
    "PMC5451934_004_00.png": 0.9978213507625272,
    "PMC5755158_010_01.png": 1.0,
    "PMC5849724_006_00.png": 0.9653439200120101,
    "PMC6022086_007_00.png": 1.0,
}
PARSE_CONFIG = {"segmentation_strategy": "LayoutAnalysis", "ocr_strategy": "Auto", "error_handling": "Continue"}


# ---------------------------------------------------------------- TEDS

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
# Opening one of these closes an unclosed cell/row/section first, as HTML parsers do.
_CLOSES = {
    "td": ("td", "th"),
    "th": ("td", "th"),
    "tr": ("td", "th", "tr"),
    "thead": ("td", "th", "tr", "thead", "tbody"),
    "tbody": ("td", "th", "tr", "thead", "tbody"),
}


@dataclass(slots=True, eq=False)
class _Element:
    """lxml's model: `text` before the first child, each child's `tail` after it."""

    tag: str
    attrs: dict[str, str]
    children: list[_Element] = field(default_factory=list)
    text: str = ""
    tail: str = ""


class _DomBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("#root", {})
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        closes = _CLOSES.get(tag, ())
        while len(self._stack) > 1 and self._stack[-1].tag in closes:
            self._stack.pop()
        node = _Element(tag, {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(node)
        if tag not in _VOID:
            self._stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(_Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        parent = self._stack[-1]
        if parent.children:
            parent.children[-1].tail += data
        else:
            parent.text += data


def _first_table(node: _Element) -> _Element | None:
    for child in node.children:
        found = child if child.tag == "table" else _first_table(child)
        if found is not None:
            return found
    return None


def _descendants(node: _Element) -> int:
    return sum(1 + _descendants(c) for c in node.children)


def _cell_tokens(node: _Element) -> list[str]:
    """A cell's content as the reference tokenises it: characters, with each inline tag (<b>, <sup>, …) one
    token, so a missing <b> costs two tokens."""
    out = list(node.text)
    for child in node.children:
        out.append(f"<{child.tag}>")
        out += _cell_tokens(child)
        out.append(f"</{child.tag}>")
        out += list(child.tail)
    return out


def _span(node: _Element, name: str) -> int:
    try:
        return int(node.attrs.get(name, "1"))
    except ValueError:
        return 1


@dataclass(slots=True, eq=False)
class TableNode:
    """One node of the tree TEDS compares: table, thead, tbody, tr, td (a td keeps spans and content)."""

    tag: str
    colspan: int | None = None
    rowspan: int | None = None
    content: tuple[str, ...] = ()
    children: list[TableNode] = field(default_factory=list)


def _tree(node: _Element, structure_only: bool) -> TableNode:
    # PubTabNet marks header cells by <thead>, not <th>; reading <th> as <td> keeps a header cell from counting as
    # a structural error. (The reference keeps <th> as an unknown tag, which costs 1 per header cell.)
    if node.tag in ("td", "th"):
        content = () if structure_only else tuple(_cell_tokens(node))
        return TableNode("td", _span(node, "colspan"), _span(node, "rowspan"), content)
    return TableNode(node.tag, children=[_tree(c, structure_only) for c in node.children])


def _config():
    from apted import Config
    from rapidfuzz.distance import Levenshtein

    class TedsConfig(Config):
        valuecls = float

        def rename(self, node1: TableNode, node2: TableNode) -> float:
            if (node1.tag, node1.colspan, node1.rowspan) != (node2.tag, node2.colspan, node2.rowspan):
                return 1.0
            if node1.tag == "td" and (node1.content or node2.content):
                a, b = node1.content, node2.content
                return Levenshtein.distance(a, b) / max(len(a), len(b))
            return 0.0

    return TedsConfig()


def teds(pred_html: str, true_html: str, *, structure_only: bool = False) -> float:
    """1 - TreeEditDistance(pred, true) / max(|pred|, |true|) over the first <table> of each document.

    Insert and delete cost 1; renaming costs 1 unless tag, colspan and rowspan agree, and then, for a cell, the
    Levenshtein distance of the two contents' tokens over the longer one's length (0 with `structure_only`).
    |T| counts every element under <table> (inline tags inside cells included), as the reference does.
    Empty input, or no table on either side, scores 0.
    """
    from apted import APTED

    tables = []
    for doc in (pred_html, true_html):
        builder = _DomBuilder()
        builder.feed(doc or "")
        builder.close()
        tables.append(_first_table(builder.root))
    pred, true = tables
    if pred is None or true is None:
        return 0.0
    n_nodes = max(_descendants(pred), _descendants(true))
    if n_nodes == 0:
        return 1.0
    distance = APTED(_tree(pred, structure_only), _tree(true, structure_only), _config()).compute_edit_distance()
    return 1.0 - distance / n_nodes


# ---------------------------------------------------------------- ground truth


def ground_truth_html(record: dict) -> str:
    """PubTabNet's annotation as one HTML document: structure tokens with each cell's tokens inserted after its
    opening tag (`<td>`, or the `>` that ends `<td colspan="2"`), single characters escaped, tags kept."""
    cells = iter(record["html"]["cells"])
    parts = []
    for token in record["html"]["structure"]["tokens"]:
        parts.append(token)
        if token in ("<td>", ">"):
            parts.extend(escape(t) if len(t) == 1 else t for t in next(cells)["tokens"])
    return "<html><body><table>" + "".join(parts) + "</table></body></html>"


# ---------------------------------------------------------------- engine runs


def _one_table_per_page() -> None:
    """Make pymupdf.layout call all the text on a page one table group, so its table-grid model (the one the
    engine's unruled tables come from) runs on the whole image: the "table region given" case. Patches the
    model's last grouping step in this process only."""
    import pymupdf.layout  # noqa: F401 - loads the model the engine uses
    from pymupdf.layout.onnx import BoxRFDGNN as rfd

    def merge(self, det_result, groups):
        if not groups:
            return det_result, groups
        boxes = [g["group_bbox"] for g in groups]
        bbox = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
        scores = [g["score"] for g in groups if "score" in g]
        table = {
            "indicies": sorted(i for g in groups for i in g["indicies"]),
            "group_class": self.data_class_names.index("table"),
            "group_bbox": bbox,
            "tie_class": -1,
            "class_name": "table",
            "score": sum(scores) / len(scores) if scores else None,
        }
        return [[*bbox, "table"]], [table]

    rfd.BoxRFDGNN._merge_overlapping_pictures = merge


def _table_html(result) -> tuple[str, int]:
    tables = [s for s in result.segments if s.segment_type == "Table"]
    if not tables:
        return "", 0
    largest = max(tables, key=lambda s: s.bbox.width * s.bbox.height)
    return largest.html, len(tables)


def _child(backend: str, mode: str, images: list[str], dpi: int | None, queue) -> None:
    import os

    os.environ["CHUNKR_OCR_ENGINE"] = backend  # read once per process, on the first OCR call
    from tasks_app.engine import NullSink, ParseConfig, ParseOptions, parse_document
    from tasks_app.engine.ocr import ocr_backend

    if mode == "region":
        _one_table_per_page()
    options = ParseOptions(config=ParseConfig.from_dict(PARSE_CONFIG))
    if dpi:
        options = replace(options, dpi=dpi)
    out = {}
    for image in images:
        started = time.perf_counter()
        result = parse_document(image, options, NullSink())
        html, n_tables = _table_html(result)
        types = Counter(s.segment_type for s in result.segments)
        out[Path(image).name] = {
            "html": html,
            "tables": n_tables,
            "types": types,
            "seconds": time.perf_counter() - started,
        }
    queue.put({"backend": ocr_backend(), "results": out})


def run_engine(backend: str, mode: str, images: list[Path], dpi: int | None, timeout: float = 1800) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(backend, mode, [str(p) for p in images], dpi, queue))
    proc.start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = queue.get(timeout=5)
        except Empty:
            if proc.is_alive() and time.monotonic() < deadline:
                continue
            proc.kill()
            raise RuntimeError(f"the {backend}/{mode} run ended without results (exit {proc.exitcode})") from None
        proc.join()
        return got


# ---------------------------------------------------------------- report


def sanity(corpus: Path) -> int:
    gt_path, pred_path = corpus / "src/sample_gt.json", corpus / "src/sample_pred.json"
    if not (gt_path.exists() and pred_path.exists()):
        print(f"sanity: {gt_path.parent} has no sample_gt.json / sample_pred.json; not checked")
        return 0
    gt = json.loads(gt_path.read_text())
    pred = json.loads(pred_path.read_text())
    worst = 0.0
    for name, expected in UPSTREAM_SAMPLE_TEDS.items():
        worst = max(worst, abs(teds(pred.get(name, ""), gt[name]["html"]) - expected))
    ours = sum(teds(pred.get(n, ""), gt[n]["html"]) for n in UPSTREAM_SAMPLE_TEDS) / len(UPSTREAM_SAMPLE_TEDS)
    ref = sum(UPSTREAM_SAMPLE_TEDS.values()) / len(UPSTREAM_SAMPLE_TEDS)
    print(f"sanity (src/sample_pred.json vs sample_gt.json, {len(UPSTREAM_SAMPLE_TEDS)} tables): mean TEDS {ours:.4f}")
    print(f"  reference implementation {ref:.4f}; largest per-table difference {worst:.2e}")
    return 0 if worst < 1e-6 else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ocr", default="auto", help="comma-separated OCR backends (CHUNKR_OCR_ENGINE values)")
    parser.add_argument(
        "--dpi", type=int, help="ParseOptions.dpi (default the engine's): an image page is its pixels at this dpi"
    )
    parser.add_argument("--limit", type=int, default=0, help="only the first N images, for a smoke run")
    parser.add_argument("--sanity", action="store_true", help="only check TEDS against the reference's numbers")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=f"the pubtabnet-examples folder ({CORPUS})")
    parser.add_argument("--dump", type=Path, help="write each image's predicted and true HTML to this folder")
    args = parser.parse_args()
    examples = args.corpus / "examples"
    ground_truth = examples / "PubTabNet_Examples.jsonl"
    if not ground_truth.exists():
        print(f"skipped: {ground_truth} not found (the corpus lives in ../shared/corpus beside the repository)")
        return 0
    status = sanity(args.corpus)
    if args.sanity:
        return status
    records = [json.loads(line) for line in ground_truth.read_text().splitlines() if line.strip()]
    records.sort(key=lambda r: r["filename"])
    if args.limit:
        records = records[: args.limit]
    names = [r["filename"] for r in records]
    truth = {r["filename"]: ground_truth_html(r) for r in records}
    for backend in args.ocr.split(","):
        images = [examples / name for name in names]
        runs = {mode: run_engine(backend, mode, images, args.dpi) for mode in ("engine", "region")}
        print(f"\nOCR backend: {runs['engine']['backend']}" + (f", dpi {args.dpi}" if args.dpi else ""))
        print("| image | GT cells | Table segments | TEDS | TEDS-S | region TEDS | region TEDS-S | s/image |")
        print("|---|---|---|---|---|---|---|---|")
        sums = [0.0] * 4
        for record in records:
            name = record["filename"]
            eng, reg = runs["engine"]["results"][name], runs["region"]["results"][name]
            scores = [
                teds(eng["html"], truth[name]),
                teds(eng["html"], truth[name], structure_only=True),
                teds(reg["html"], truth[name]),
                teds(reg["html"], truth[name], structure_only=True),
            ]
            sums = [a + b for a, b in zip(sums, scores, strict=True)]
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                stem = name.removesuffix(".png")
                (args.dump / f"{stem}.true.html").write_text(truth[name])
                for mode, run in (("engine", eng), ("region", reg)):
                    (args.dump / f"{stem}.{backend}.{mode}.html").write_text(run["html"])
            cols = " | ".join(f"{s:.3f}" for s in scores)
            found = str(eng["tables"])
            if not eng["tables"]:  # what the table became instead
                found += " (" + ", ".join(f"{t} {n}" for t, n in sorted(eng["types"].items())) + ")"
            line = f"| {name.removesuffix('.png')} | {len(record['html']['cells'])} | {found} | {cols} |"
            print(f"{line} {eng['seconds']:.1f} |", flush=True)
        means = " | ".join(f"**{s / len(records):.3f}**" for s in sums)
        print(f"| mean ({len(records)} images) | | | {means} | |")
    return status


if __name__ == "__main__":
    raise SystemExit(main())

"""Offline extraction benchmark.

    python bench/extract_bench.py            # generated invoice packets: seconds after parse, peak memory
    python bench/extract_bench.py --docile   # field accuracy on ../shared/corpus/docile-sample

Packet mode: an invoice whose line items run over N pages (header repeated per page), 15-field schema.
Extraction time excludes parsing (and runs without tracemalloc). Memory is tracemalloc's peak during
`run_extraction` alone, the parse output it reads excluded (it is given), for two schemas:

* header-only: the 14 header fields, no line items, so the output is the same size at every length;
* full: the same plus the `line_items` array, whose rows (output) grow with the packet.

"kept MB" is what the returned body still holds once extraction is done (the output itself); "work MB" is
peak minus kept, the working set. The label-matching caches are cleared before each run, so every size
starts from the same state. The MB/page slope is between the smallest and the largest size.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pymupdf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tasks_app.engine import ParseConfig, ParseOptions, parse_document, run_extraction  # noqa: E402
from tasks_app.engine.extract import labels  # noqa: E402
from tasks_app.engine.extract.coerce import normalize  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "invoice_date": {"type": "string", "format": "date"},
        "due_date": {"type": "string", "format": "date"},
        "vendor_name": {"type": "string"},
        "vendor_email": {"type": "string", "format": "email"},
        "vendor_phone": {"type": "string"},
        "customer": {"type": "object", "properties": {"name": {"type": "string"}, "address": {"type": "string"}}},
        "po_number": {"type": "string"},
        "payment_terms": {"type": "string"},
        "subtotal": {"type": "number"},
        "tax": {"type": "number"},
        "total": {"type": "number"},
        "currency": {"type": "string", "enum": ["USD", "EUR", "GBP"]},
        "line_items": {"type": "array", "items": {"type": "object", "properties": {
            "description": {"type": "string"}, "quantity": {"type": "integer"},
            "unit_price": {"type": "number"}, "amount": {"type": "number"}}}},
    },
}  # fmt: skip
HEADER_SCHEMA = {"type": "object", "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "line_items"}}


def packet(path: Path, pages: int) -> int:
    doc = pymupdf.open()
    n = 0
    for p in range(pages):
        page = doc.new_page(width=612, height=792)
        y = 60
        if p == 0:
            page.insert_text((72, 60), "Acme Supplies Ltd", fontsize=18, fontname="hebo")
            for i, line in enumerate(["Email: billing@acme.example", "Phone: +1 312 555 0100"]):
                page.insert_text((72, 80 + 12 * i), line, fontsize=9)
            for i, line in enumerate(["Invoice Number: INV-77", "Invoice Date: 2024-05-02", "Due Date: 2024-06-01",
                                      "PO Number: PO-1", "Payment Terms: Net 30"]):  # fmt: skip
                page.insert_text((380, 100 + 15 * i), line, fontsize=10)
            page.insert_text((72, 120), "Bill To:", fontsize=10, fontname="hebo")
            for i, line in enumerate(["Globex Corporation", "42 Industrial Way", "Portland, OR 97201"]):
                page.insert_text((72, 134 + 14 * i), line, fontsize=10)
            y = 200
        for x, h in zip((72, 320, 400, 480), ("Description", "Qty", "Unit Price", "Amount"), strict=True):
            page.insert_text((x, y), h, fontsize=10, fontname="hebo")
        while y < 700:
            y += 16
            n += 1
            for x, c in zip((72, 320, 400, 480), (f"Item number {n}", "2", "5.00", "10.00"), strict=True):
                page.insert_text((x, y), c, fontsize=10)
    page.insert_text((380, 740), "Total: $1,234.00", fontsize=10)
    doc.save(path)
    doc.close()
    return n


def _parse(path: Path) -> dict:
    cfg = ParseConfig.from_dict({"ocr_strategy": "Auto", "error_handling": "Continue"})
    return parse_document(path, ParseOptions(config=cfg)).to_dict(lambda k: k)


def _clear_caches() -> None:
    for fn in (labels.norm_label, labels.concepts, labels._pair_score):
        fn.cache_clear()
    gc.collect()


def _measure(output: dict, schema: dict) -> tuple[float, float, float, dict]:
    """-> (seconds without tracemalloc, peak MB, kept MB, body)."""
    _clear_caches()
    t0 = time.perf_counter()
    run_extraction(output, schema)
    seconds = time.perf_counter() - t0
    _clear_caches()
    tracemalloc.start()
    body = run_extraction(output, schema)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    _clear_caches()  # what stays is the body (and nothing else the run left behind)
    kept = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    return seconds, peak, kept, body


def bench_packets(sizes: list[int]) -> None:
    print("| pages | line items | parse s | schema | extract s (after parse) | peak MB | kept MB (output) | work MB "  # noqa: T201
          "| rows found |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")  # noqa: T201
    peaks: dict[str, list[tuple[int, float, float]]] = {"header-only": [], "full": []}
    with tempfile.TemporaryDirectory() as tmp:
        for pages in sizes:
            path = Path(tmp) / f"packet{pages}.pdf"
            items = packet(path, pages)
            t0 = time.perf_counter()
            output = _parse(path)
            parse_s = time.perf_counter() - t0
            for name, schema in (("header-only", HEADER_SCHEMA), ("full", SCHEMA)):
                seconds, peak, kept, body = _measure(output, schema)
                rows = len(body["results"].get("line_items", []))
                peaks[name].append((pages, peak, peak - kept))
                print(f"| {pages} | {items} | {parse_s:.2f} | {name} | {seconds:.3f} | {peak:.2f} | {kept:.2f} "  # noqa: T201
                      f"| {peak - kept:.2f} | {rows} |")  # fmt: skip
                del body
            del output
    for name, pts in peaks.items():
        if len(pts) > 1:
            (p0, a0, w0), (p1, a1, w1) = pts[0], pts[-1]
            print(
                f"{name}: peak slope {(a1 - a0) / (p1 - p0) * 1024:.1f} KB/page, "  # noqa: T201
                f"working-set slope {(w1 - w0) / (p1 - p0) * 1024:.1f} KB/page ({p0} -> {p1} pages)"
            )


DOCILE_SCHEMA = {
    "type": "object",
    "properties": {
        "document_id": {"type": "string", "title": "Invoice number"},
        "date_issue": {"type": "string", "title": "Invoice date"},
        "date_due": {"type": "string", "title": "Due date"},
        "vendor_name": {"type": "string"},
        "customer_id": {"type": "string", "title": "Customer number"},
        "customer_billing_name": {"type": "string", "title": "Bill to"},
        "amount_total_gross": {"type": "string", "title": "Total"},
        "amount_due": {"type": "string", "title": "Amount due"},
    },
}


def bench_docile(root: Path) -> None:
    ids = json.loads((root / "dev.json").read_text())
    right = total = 0
    t0 = time.perf_counter()
    for doc_id in ids:
        output = _parse(root / "pdfs" / f"{doc_id}.pdf")
        t1 = time.perf_counter()
        body = run_extraction(output, DOCILE_SCHEMA)
        t2 = time.perf_counter()
        ann = json.loads((root / "annotations" / f"{doc_id}.json").read_text())
        truth: dict[str, str] = {}
        for f in ann["field_extractions"]:
            truth.setdefault(f["fieldtype"], f["text"])
        for key in DOCILE_SCHEMA["properties"]:
            if key not in truth:
                continue
            got = body["results"].get(key)
            ok = got is not None and normalize(str(got)) == normalize(truth[key])
            right += ok
            total += 1
            print(f"{doc_id} {key}: got {got!r} want {truth[key]!r} {'OK' if ok else 'MISS'}")  # noqa: T201
        print(f"parse {t1 - t0:.1f} s, extract {t2 - t1:.3f} s")  # noqa: T201
    print(f"docile-sample field accuracy: {right}/{total} = {right / max(1, total):.0%}")  # noqa: T201


def _corpus() -> Path:
    """../shared/corpus/docile-sample from the checkout (a worktree sits one level deeper)."""
    for base in ROOT.parents:
        if (base / "shared" / "corpus" / "docile-sample").is_dir():
            return base / "shared" / "corpus" / "docile-sample"
    return ROOT.parent / "shared" / "corpus" / "docile-sample"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docile", action="store_true")
    ap.add_argument("--corpus", default=str(_corpus()))
    ap.add_argument("--sizes", default="10,40,160")
    args = ap.parse_args()
    if args.docile:
        bench_docile(Path(args.corpus))
    else:
        bench_packets([int(s) for s in args.sizes.split(",")])


if __name__ == "__main__":
    main()

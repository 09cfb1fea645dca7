"""Engine speed and memory, side by side with plain PyMuPDF on the same files (issue 3 targets).

    .venv/bin/python bench/engine_bench.py [--quick]

Each measurement runs in a fresh process (spawn), so peak RSS is that run's own, with the largest helper
process's beside it when the engine used helpers (engine/parallel.py; as the app does, one process per core for
documents of 32 pages or more, 8 when scanned). The "forked child" rows parse in a process forked from one that has
imported everything, as a Celery prefork pool process does (the layout model's sessions are then rebuilt in the
child: engine/layout.py). Prints a table;
docs/BENCHMARKS.md records the figures with this command.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BOOK = ROOT.parent / "shared/corpus/pdf-textlayer/py-pdf-sample-files/009-pdflatex-geotopo/GeoTopo-komprimiert.pdf"
LOREM = (
    "Document intelligence turns PDFs into structured segments with boxes, text and tables. "
    "Each paragraph here is long enough to wrap over several lines in a narrow column of text. "
)


def make_born_digital(path: Path, pages: int) -> Path:
    """Two-column pages with a heading, paragraphs, a ruled table every fifth page, header and footer."""
    import pymupdf

    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page()
        page.insert_text((72, 40), "Benchmark report — internal", fontsize=8)
        page.insert_text((72, 80), f"Section {n + 1}: findings", fontsize=16)
        for col, x in enumerate((72, 316)):
            rect = pymupdf.Rect(x, 100, x + 224, 700 if n % 5 else 480)
            page.insert_textbox(rect, (LOREM * 6) + f" Column {col + 1}.", fontsize=9)
        if n % 5 == 0:
            y = 500
            for r in range(6):
                for c in range(4):
                    cell = pymupdf.Rect(72 + c * 110, y + r * 22, 182 + c * 110, y + (r + 1) * 22)
                    page.draw_rect(cell, color=(0, 0, 0), width=0.5)
                    page.insert_text((cell.x0 + 4, cell.y1 - 7), f"R{r}C{c}" if r else f"Head {c}", fontsize=9)
        page.insert_text((300, 770), str(n + 1), fontsize=8)
    doc.save(path)
    return path


def make_scanned(path: Path, source: Path, pages: int, dpi: int = 150) -> Path:
    """Image-only PDF: pages of `source` rendered to pixels, no text layer."""
    import pymupdf

    src = pymupdf.open(source)
    out = pymupdf.open()
    for n in range(pages):
        pix = src[n % src.page_count].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        page = out.new_page(width=src[0].rect.width, height=src[0].rect.height)
        page.insert_image(page.rect, stream=pix.tobytes("png"))
    out.save(path)
    return path


def _child(kind: str, path: str, config: dict, queue) -> None:
    # Imports happen before the clock starts, as in a Celery worker that has them loaded; models that load on first
    # use still count.
    import pymupdf  # noqa: F401 - builds the layout model's sessions (pymupdf.layout), as the worker's parent does
    import pymupdf.layout  # noqa: F401 - activates the layout model, as the engine does
    import pymupdf4llm  # noqa: F401

    import tasks_app.engine  # noqa: F401

    if kind != "engine_forked":
        queue.put(_measured(kind, path, config))
        return
    # A Celery prefork pool process: forked from a parent that has imported everything, parsing in the child.
    pid = os.fork()
    if pid == 0:
        try:
            queue.put(_measured("engine", path, config))
            queue.close()
            queue.join_thread()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _measured(kind: str, path: str, config: dict) -> dict:
    import pymupdf
    import pymupdf4llm

    from tasks_app.engine import NullSink, ParseConfig, ParseOptions, default_workers, parse_document

    started = time.perf_counter()
    first: list[float] = []
    pages = 0
    if kind == "engine":

        def progress(done: int, total: int) -> None:
            if done >= 1 and not first:
                first.append(time.perf_counter() - started)

        page_images = config.pop("_page_images", "lazy")  # lazy: how the app runs it with local storage
        workers = config.pop("_workers", default_workers())  # as the app runs it (CHUNKR_PARSE_WORKERS=0)
        options = ParseOptions(config=ParseConfig.from_dict(config), page_images=page_images, workers=workers)
        result = parse_document(path, options, NullSink(), progress=progress)
        pages = result.page_count or 0
    elif kind == "get_text_dict":
        with pymupdf.open(path) as doc:
            for page in doc:
                page.get_text("dict")
                pages += 1
                if not first:
                    first.append(time.perf_counter() - started)
    elif kind == "pymupdf4llm_to_json":
        with pymupdf.open(path) as doc:
            pymupdf4llm.to_json(doc)
            pages = doc.page_count
    elapsed = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The largest helper process's peak (engine/parallel.py), 0 without helpers.
    helper_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    first_s = first[0] if first else None
    return {"seconds": elapsed, "pages": pages, "rss_mb": rss_mb, "helper_mb": helper_mb, "first": first_s}


def measure(kind: str, path: Path, config: dict | None = None, timeout: float = 3600) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(kind, str(path), config or {}, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        return {"error": "timeout"}
    if proc.exitcode != 0:
        return {"error": f"exit {proc.exitcode}"}
    return queue.get()


def row(label: str, r: dict, baseline: dict | None = None) -> str:
    if "error" in r:
        return f"| {label} | {r['error']} | | | | |"
    rate = r["pages"] / r["seconds"] if r["seconds"] else 0
    ratio = ""
    if baseline and "error" not in baseline and baseline["seconds"]:
        ratio = f"{(baseline['pages'] / baseline['seconds']) / rate:.2f}×" if rate else ""
    first = f"{r['first']:.2f}" if r.get("first") is not None else "—"
    rss = f"{r['rss_mb']:.0f}" + (f" + {r['helper_mb']:.0f}" if r.get("helper_mb", 0) >= 1 else "")
    return f"| {label} | {r['pages']} | {r['seconds']:.1f} | {rate:.1f} | {first} | {rss} | {ratio} |"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller documents, for a smoke run")
    args = parser.parse_args()
    n_pages, n_scanned, n_big = (20, 4, 100) if args.quick else (100, 20, 500)
    auto = {"segmentation_strategy": "LayoutAnalysis", "ocr_strategy": "Auto"}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        born = make_born_digital(tmpdir / "born.pdf", n_pages)
        big = make_born_digital(tmpdir / "big.pdf", n_big)
        scanned = make_scanned(tmpdir / "scanned.pdf", born, n_scanned)
        docs = [("generated 2-column", born)]
        if BOOK.exists():
            docs.append(("GeoTopo book (117 p.)", BOOK))
        print(
            "| run | pages | seconds | pages/s | first page s | peak RSS MB (+ helper) | slower than get_text('dict') |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, path in docs:
            base = measure("get_text_dict", path)
            print(row(f"{name}: page.get_text('dict')", base), flush=True)
            print(row(f"{name}: pymupdf4llm.to_json", measure("pymupdf4llm_to_json", path), base), flush=True)
            print(row(f"{name}: engine LayoutAnalysis + OCR Auto", measure("engine", path, auto), base), flush=True)
            forked = measure("engine_forked", path, auto)
            print(row(f"{name}: the same in a forked child (prefork worker)", forked, base), flush=True)
            page_cfg = {"segmentation_strategy": "Page", "ocr_strategy": "Auto"}
            print(row(f"{name}: engine Page + OCR Auto", measure("engine", path, page_cfg), base), flush=True)
            eager = measure("engine", path, {**page_cfg, "_page_images": "eager"})
            print(row(f"{name}: engine Page + OCR Auto, eager images", eager, base), flush=True)
        ocr_all = {"segmentation_strategy": "LayoutAnalysis", "ocr_strategy": "All"}
        print(row(f"scanned 150 DPI ({n_scanned} p.): engine OCR All", measure("engine", scanned, ocr_all)), flush=True)
        print(row(f"born-digital {n_big} p.: engine LayoutAnalysis + Auto", measure("engine", big, auto)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

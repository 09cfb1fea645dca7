"""LayoutAnalysis in one process against the page pool (`ParseOptions.workers`), on the same files.

    .venv/bin/python bench/pool_compare.py [PAGES]

Prints pages/s for workers=1 and workers=2 on a generated two-column document of PAGES pages (default 100) and on
the GeoTopo book from the shared corpus, with the load average after each run (the machine is shared).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine_bench import BOOK, make_born_digital  # noqa: E402


def main() -> int:
    import pymupdf.layout  # noqa: F401 - load the models before the clock starts

    from tasks_app.engine import NullSink, ParseConfig, ParseOptions, parse_document

    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    config = ParseConfig.from_dict({"segmentation_strategy": "LayoutAnalysis", "ocr_strategy": "Auto"})
    with tempfile.TemporaryDirectory() as tmp:
        generated = make_born_digital(Path(tmp) / "generated.pdf", pages)
        warm = make_born_digital(Path(tmp) / "warm.pdf", 2)
        parse_document(str(warm), ParseOptions(config=config, page_images="lazy"), NullSink())
        docs = [("generated", generated)] + ([("GeoTopo book", BOOK)] if BOOK.exists() else [])
        for name, path in docs:
            for workers in (1, 2):
                options = ParseOptions(config=config, page_images="lazy", workers=workers)
                started = time.perf_counter()
                result = parse_document(str(path), options, NullSink())
                seconds = time.perf_counter() - started
                print(
                    f"{name} workers={workers}: {result.page_count} pages in {seconds:.1f} s, "
                    f"{result.page_count / seconds:.2f} pages/s, load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Performance sanity for build_chunks: 10k segments must chunk in well under a second.

Usage: python bench/chunking_bench.py [--segments 10000] [--target 512]
Tokenizers are loaded before timing (a one-off per process cost, reported separately).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks_app.engine.chunking import ChunkItem, build_chunks  # noqa: E402
from tasks_app.engine.tokenizers import BUILTIN_TOKENIZERS, get_tokenizer  # noqa: E402

WORDS = "the of and to in revenue grew 12.5% table figure results méthode 東京 naïve data model".split()
TYPES = ["Text"] * 12 + ["Title", "SectionHeader", "Caption", "Table", "Picture", "ListItem", "PageFooter"]


def make_items(n: int, seed: int = 7) -> list[ChunkItem]:
    rng = random.Random(seed)  # noqa: S311 - reproducible bench data
    return [
        ChunkItem(rng.choice(TYPES), " ".join(rng.choices(WORDS, k=rng.randint(3, 120))), 1 + i // 20) for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=int, default=10_000)
    ap.add_argument("--target", type=int, default=512)
    args = ap.parse_args()
    items = make_items(args.segments)
    worst = 0.0
    for name in BUILTIN_TOKENIZERS:
        t0 = time.perf_counter()
        get_tokenizer(name)
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        chunks = build_chunks(items, args.target, name)
        secs = time.perf_counter() - t0
        worst = max(worst, secs)
        print(  # noqa: T201
            f"{name:16s} load={load:.2f}s chunk={secs:.3f}s segments={len(items)} chunks={len(chunks)}"
        )
    print("OK" if worst < 1.0 else "SLOW: over 1 s")  # noqa: T201
    sys.exit(0 if worst < 1.0 else 1)


if __name__ == "__main__":
    main()

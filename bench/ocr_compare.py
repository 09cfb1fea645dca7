"""Compare the OCR backends of tasks_app.engine.ocr on generated pages: Tesseract (the Debian binary), tesserocr (the
same engine from PyPI wheels) and RapidOCR (PP-OCRv6 from its wheel).

Usage: python bench/ocr_compare.py [--pages N] [--dpi 150 200] [--threads 1] [--engines tesseract,tesserocr,rapidocr]
                                   [--sroie N]   # also N real receipt scans, and the "auto" pairing
Each page is read clean and "degraded" (skewed, blurred, noisy, JPEG). An engine that is not
installed is reported and skipped. Accuracy is 1 - Levenshtein(ocr, truth) / len(truth) over the page
text with whitespace collapsed, so layout differences (line breaks) do not count as errors.
"cpu s/page" counts this process and its children (Tesseract runs as one) and, unlike the wall-clock
s/page, hardly moves when other work shares the machine. Where the engine checks text size before
reading (small text is upscaled for Tesseract), "size check" is that check's share, and "upscaled" the
pages it enlarged.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pymupdf
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks_app.engine import ocr  # noqa: E402
from tasks_app.engine.ocr import ocr_image  # noqa: E402

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "In 2024, revenue grew by 12.5% to $3,450,000 while costs fell 4%.",
    "Invoice number INV-20931 was issued on March 7, 2023; payment is due within 30 days.",
    "Please contact support@example.com or call +1 (555) 010-7788 with any questions!",
    "The mean temperature was 21.3 degrees, with a standard deviation of 0.8.",
    "Section 4.2 describes the method: samples were dried, weighed and stored at -20 C.",
    "Our committee met on Tuesday to review the proposal and agreed to fund phase two.",
    "Shipping weight: 14.75 kg; dimensions 120 x 80 x 45 cm (L x W x H).",
    "Is this the final version? Yes, approved by J. Smith on 2025-01-15.",
    "Results show that 87 of 112 participants (77.7%) preferred the new design.",
]
FONTS = ["helv", "tiro", "cour"]


def make_page(seed: int, dpi: int) -> tuple[Image.Image, str]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test text, not security
    paras = [" ".join(rng.sample(SENTENCES, 3)) for _ in range(5)]
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_textbox(
        pymupdf.Rect(72, 72, 540, 740),
        "\n\n".join(paras),
        fontsize=rng.choice([10, 11, 12]),
        fontname=rng.choice(FONTS),
    )
    truth = page.get_text()
    pix = page.get_pixmap(dpi=dpi)
    return Image.open(io.BytesIO(pix.tobytes("png"))).convert("RGB"), truth


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def norm(s: str) -> str:
    return " ".join(s.split())


def accuracy(ocr: str, truth: str) -> float:
    t = norm(truth)
    return 1 - levenshtein(norm(ocr), t) / max(1, len(t))


def engine_text(img: Image.Image) -> str:
    lines: dict[int, list[str]] = {}
    for w in ocr_image(img):
        lines.setdefault(w.line, []).append(w.text)
    return "\n".join(" ".join(v) for _, v in sorted(lines.items()))


def cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def size_check(engine: str, img: Image.Image) -> tuple[float, bool]:
    """(seconds, upscaled) of the engine's text-size check on this page; (0, False) where it has none."""
    check = getattr(ocr, "_upscale_factor", None)
    if check is None or not engine.startswith("tesser"):
        return 0.0, False
    t0 = time.process_time()
    factor = check(img)
    return time.process_time() - t0, factor > 1


def degrade(img: Image.Image, seed: int) -> Image.Image:
    """A poor scan: 1.2 degree skew, blur, grey background, noise and heavy JPEG compression."""
    rng = np.random.default_rng(seed)
    grey = img.convert("L").rotate(1.2, fillcolor=255, resample=Image.Resampling.BICUBIC)
    grey = grey.filter(ImageFilter.GaussianBlur(0.8))
    arr = np.asarray(grey).astype(np.float32) * 0.85 + 20 + rng.normal(0, 18, grey.size[::-1])
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=40)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _tokens(text: str) -> Counter[str]:
    return Counter(t for t in text.upper().split() if t)


def sroie(engines: list[str], count: int) -> None:
    """Real receipt scans: each engine's words against the SROIE transcripts (`box/*.csv`, the text after the eighth
    comma), as bags of upper-cased words (reading order aside), and the time per receipt."""
    root = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "sroie-dev"
    ids = sorted(p.stem for p in (root / "img").glob("*.jpg"))[:count]
    if not ids:
        print(f"sroie: no receipts under {root}")  # noqa: T201
        return
    truths = {
        i: sum(
            (
                _tokens(line.split(",", 8)[-1])
                for line in (root / "box" / f"{i}.csv").read_text(errors="replace").splitlines()
            ),
            Counter(),
        )
        for i in ids
    }
    for engine in engines:
        os.environ[ocr.OCR_ENGINE_ENV] = engine
        ocr._reset_for_tests()
        if not ocr.ocr_available():
            print(f"{engine}: not installed")  # noqa: T201
            continue
        engine_text(Image.new("RGB", (64, 64), "white"))
        tp = fp = fn = 0
        secs = cpu = 0.0
        for i in ids:
            image = Image.open(root / "img" / f"{i}.jpg")
            t0, c0 = time.perf_counter(), cpu_seconds()
            got = _tokens(engine_text(image))
            secs += time.perf_counter() - t0
            cpu += cpu_seconds() - c0
            hit = sum((truths[i] & got).values())
            tp, fp, fn = tp + hit, fp + sum(got.values()) - hit, fn + sum(truths[i].values()) - hit
        p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
        print(  # noqa: T201
            f"{ocr.ocr_backend():18s} sroie receipts n={len(ids)} word P={p:.3f} R={r:.3f} F1={2 * p * r / (p + r):.3f}"
            f" s/receipt={secs / len(ids):.2f} cpu_s/receipt={cpu / len(ids):.2f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--dpi", type=int, nargs="+", default=[150, 200])
    ap.add_argument("--threads", type=int, default=1, help="CPU threads per engine")
    ap.add_argument("--engines", default="tesseract,tesserocr,rapidocr", help="comma-separated backends")
    ap.add_argument("--sroie", type=int, default=0, help="also read the first N SROIE receipt scans (../shared/corpus)")
    args = ap.parse_args()
    os.environ[ocr.OCR_THREADS_ENV] = str(args.threads)
    if args.sroie:
        sroie([*args.engines.split(","), "auto"], args.sroie)
    for dpi in args.dpi if args.pages else []:
        clean = [make_page(seed, dpi) for seed in range(args.pages)]
        sets = {"clean": clean, "degraded": [(degrade(i, n), t) for n, (i, t) in enumerate(clean)]}
        for engine in args.engines.split(","):
            os.environ[ocr.OCR_ENGINE_ENV] = engine
            ocr._reset_for_tests()
            if not ocr.ocr_available():
                print(f"{engine}: not installed")  # noqa: T201
                continue
            engine_text(Image.new("RGB", (64, 64), "white"))  # load models outside the timing
            for kind, pages in sets.items():
                accs, chars, secs, cpu, check, upscaled = [], 0, 0.0, 0.0, 0.0, 0
                for img, truth in pages:
                    t0, c0 = time.perf_counter(), cpu_seconds()
                    text = engine_text(img)
                    secs += time.perf_counter() - t0
                    cpu += cpu_seconds() - c0
                    accs.append(accuracy(text, truth))
                    chars += len(norm(truth))
                    check_s, enlarged = size_check(engine, img)
                    check += check_s
                    upscaled += enlarged
                n = len(pages)
                print(  # noqa: T201
                    f"{engine:9s} {kind:8s} dpi={dpi} n={n} acc_mean={sum(accs) / n:.4f}"
                    f" acc_min={min(accs):.4f} s/page={secs / n:.2f} chars/s={chars / secs:.0f}"
                    f" cpu_s/page={cpu / n:.2f} size_check_ms/page={1000 * check / n:.1f} upscaled={upscaled}/{n}"
                )


if __name__ == "__main__":
    main()

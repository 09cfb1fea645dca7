"""Layout analysis with PyMuPDF 2.x's bundled ONNX layout model (`pymupdf.layout`).

Works in PDF points on an upright page (callers remove page rotation first). Returns typed boxes in
reading order; words the model left unassigned are kept as Text boxes so no text is lost.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import onnxruntime as ort
import pymupdf

from . import regions
from .tables import TableGrid, Word, find_table_grid, grid_from_placements, words_in

# The ONNX session is shared process-wide and is not documented as re-entrant.
_LOCK = threading.RLock()
_ACTIVATED_PID: int | None = None  # the process whose sessions are tuned

CLASS_MAP = {
    "text": "Text",
    "title": "Title",
    "picture": "Picture",
    "table": "Table",
    "list-item": "ListItem",
    "page-header": "PageHeader",
    "page-footer": "PageFooter",
    "section-header": "SectionHeader",
    "footnote": "Footnote",
    "caption": "Caption",
    "formula": "Formula",
}

_PAGE_NUMBER_RE = re.compile(
    r"^\s*(?:(?:page|seite|p\.|pg\.?)\s*)?(?:\d{1,5}|[ivxlcdm]{1,7})(?:\s*(?:/|of|von|-)\s*\d{1,5})?\s*$|"
    r"^\s*[-\u2013\u2014]\s*\d{1,5}\s*[-\u2013\u2014]\s*$",
    re.IGNORECASE,
)

# Accurate boxes hug the glyphs (as the layout model's boxes do) instead of the font's full line height.
WORD_FLAGS = (
    pymupdf.TEXT_PRESERVE_WHITESPACE
    | pymupdf.TEXT_PRESERVE_LIGATURES
    | pymupdf.TEXT_MEDIABOX_CLIP
    | pymupdf.TEXT_ACCURATE_BBOXES
)


@dataclass(slots=True)
class LayoutBox:
    segment_type: str
    rect: tuple[float, float, float, float]  # PDF points
    confidence: float | None = None
    words: list[Word] = field(default_factory=list)
    raw: dict[str, Any] | None = None
    grid: TableGrid | None = None  # a Table's structure when it was read here (born-digital pages), else None


def _activate() -> None:
    """Import the layout model once and, once per process, record per-group confidences and tune its sessions.

    The model computes a softmax score per text box but drops it when grouping boxes; wrapping the
    grouping function keeps the mean score of each group's members as the segment confidence.

    "Once per process", not once: a module global is copied by fork, and a prefork Celery child must build its own
    sessions rather than believe its parent's tuning is its own (see _tune_sessions).
    """
    global _ACTIVATED_PID
    if _ACTIVATED_PID == os.getpid():
        return
    with _LOCK:  # a threads pool: the first pages of several tasks must not tune the same sessions twice
        if _ACTIVATED_PID == os.getpid():
            return
        import pymupdf.layout  # noqa: F401 - registers pymupdf._get_layout
        from pymupdf.layout.onnx import BoxRFDGNN

        original = BoxRFDGNN.group_node_by_edge
        if not getattr(original, "_engine_wrapped", False):

            def group_with_scores(node_cls, node_score, *args, **kwargs):
                groups = original(node_cls, node_score, *args, **kwargs)
                for g in groups:
                    idx = g.get("indicies") or []
                    if idx and "score" not in g:
                        g["score"] = float(sum(float(node_score[i]) for i in idx) / len(idx))
                return groups

            group_with_scores._engine_wrapped = True  # type: ignore[attr-defined]
            BoxRFDGNN.group_node_by_edge = group_with_scores
        _tune_sessions()
        _ACTIVATED_PID = os.getpid()


# Sessions replaced by _tune_sessions that this process must never destroy (see there). About 10 MB in all.
_KEPT_SESSIONS: list[Any] = []


def _tune_sessions() -> None:
    """Give the layout model's ONNX Runtime sessions the options this engine measured best; outputs are unchanged.

    - **No spinning.** ONNX Runtime's idle intra-op threads spin-wait for the next operator by default, so while
      the model's Python half (feature extraction, grouping) or MuPDF runs, a spinning thread holds the other core.
      Off: one process parses 6.2 → 7.4 pages/s on two cores, and with a helper process beside it
      (engine/parallel.py) 6.2 → 8.8 (docs/BENCHMARKS.md).
    - **The image-feature network with its memory arena.** pymupdf.layout creates every session with the CPU arena
      off, so that sessions fed inputs of varying size do not keep their peak allocation for good. That network's
      input is always 1×1×300×300, so its arena stays one fixed size (≈ 60 MB), and without it every page allocates
      and page-faults its ≈ 60 MB of activations afresh: 136 instead of 219 ms a page. The other networks (variable
      input) keep theirs off.

    **Safe after fork.** `import pymupdf` builds these sessions, so a Celery prefork child (and any forked process)
    inherits sessions its parent made. Their thread pools' threads were not copied by fork, and destroying such a
    session in the child blocks for good in `pthread_cond_destroy`. So the tuned sessions are built in the process
    that uses them (each is marked with its process id, and a process rebuilds any session not marked with its own),
    and a replaced session is never destroyed: it is kept in `_KEPT_SESSIONS` (in a forked child its memory is still
    shared with the parent). Whether the process that imported pymupdf is this one cannot be told for certain, so no
    process destroys the originals either.

    Thread counts are whatever ort.InferenceSession gives, which engine_threads limits in helper processes.
    """
    try:
        model = pymupdf._get_layout.__closure__[0].cell_contents._model  # type: ignore[attr-defined,index]
        owners = [model, model.feature_extractor, model.table_grid_extractor]
    except (AttributeError, IndexError, TypeError, ValueError):
        return  # another pymupdf.layout release: keep its own sessions
    pid = os.getpid()
    for owner in owners:
        if owner is None:
            continue
        for name, session in list(vars(owner).items()):
            if not isinstance(session, ort.InferenceSession) or not getattr(session, "_model_path", None):
                continue
            if getattr(session, "_engine_pid", None) == pid:
                continue
            options = ort.SessionOptions()
            options.enable_cpu_mem_arena = owner is model.feature_extractor
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            tuned = ort.InferenceSession(session._model_path, options, providers=session.get_providers())
            tuned._engine_pid = pid
            _KEPT_SESSIONS.append(session)
            setattr(owner, name, tuned)


# Typographic ligatures (U+FB00-FB06) spelled out, so "Deﬁnition" is found by a search for "Definition" and
# tokenised as the word it is. MuPDF keeps them as one character (TEXT_PRESERVE_LIGATURES keeps each glyph's box).
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})  # fmt: skip
_LIGATURE_RE = re.compile("[\ufb00-\ufb06]")


def page_words(page: pymupdf.Page) -> list[Word]:
    words = [w for w in page.get_text("words", flags=WORD_FLAGS) if w[4].strip()]
    if _slivers(words):
        # OCR'd PDFs (Tesseract's GlyphLessFont and the like) draw invisible glyphs whose outlines are a sliver of
        # the printed text; accurate boxes are then a fifth of the text's height. The font's line box covers it.
        words = [w for w in page.get_text("words", flags=WORD_FLAGS & ~pymupdf.TEXT_ACCURATE_BBOXES) if w[4].strip()]
    if not _LIGATURE_RE.search("".join(w[4] for w in words)):
        return words
    return [(*w[:4], w[4].translate(_LIGATURES), *w[5:]) if _LIGATURE_RE.search(w[4]) else w for w in words]


def _slivers(words: list[Word]) -> bool:
    """Glyph boxes far flatter than any real font: height under half the average character width (printed Latin
    text is about 1.4×), over most words of three or more characters."""
    ratios = sorted((w[3] - w[1]) * len(w[4]) / (w[2] - w[0]) for w in words if len(w[4]) >= 3 and w[2] > w[0])
    return bool(ratios) and ratios[len(ratios) // 2] < 0.5


def _rect(b: Any) -> tuple[float, float, float, float]:
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _area(r: tuple[float, float, float, float]) -> float:
    return max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])


def _intersection(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def raw_layout(page: pymupdf.Page) -> list[dict[str, Any]]:
    _activate()
    with _LOCK:
        page.get_layout(return_raw=True)
        info = getattr(page, "layout_information", None) or []
    return [b for b in info if isinstance(b, dict) and b.get("group_bbox")]


# An image input smaller than this (in points, the image at its resolution) may be a crop of one element of a page.
_SMALL_PAGE_AREA = 0.75 * 612 * 792
# The page a crop is laid on for a second look: at least US Letter, with at least an inch around it.
_FRAME_MIN = (612.0, 792.0)
_FRAME_MARGIN = 72.0


def _shifted(box: Any, dx: float, dy: float) -> Any:
    return type(box)((box[0] - dx, box[1] - dy, box[2] - dx, box[3] - dy, *box[4:]))


def framed_layout(page: pymupdf.Page) -> list[dict[str, Any]]:
    """raw_layout of `page` laid in the middle of a page at least Letter-sized, boxes moved back onto `page`.

    The layout model was trained on whole pages: given a tight crop of a table (PubTabNet's images: the table and
    nothing else), it called 9 of 20 something else, mostly one Picture, though its table-grid model reads the same
    tables well when told where they are. On a page around them, it finds all 20 (docs/BENCHMARKS.md).
    """
    width, height = page.rect.width, page.rect.height
    frame_w = max(width + 2 * _FRAME_MARGIN, _FRAME_MIN[0])
    frame_h = max(height + 2 * _FRAME_MARGIN, _FRAME_MIN[1])
    dx, dy = (frame_w - width) / 2, (frame_h - height) / 2
    scratch = pymupdf.open()
    try:
        frame = scratch.new_page(width=frame_w, height=frame_h)
        # The page as a form: its pixels and its (OCR) text layer both.
        frame.show_pdf_page(pymupdf.Rect(dx, dy, dx + width, dy + height), page.parent, page.number)
        raws = raw_layout(frame)
    finally:
        scratch.close()
    out = []
    for raw in raws:
        raw = dict(raw)
        raw["group_bbox"] = _shifted(raw["group_bbox"], dx, dy)
        if raw.get("bboxes") is not None:  # the words' boxes, which table_cells index
            raw["bboxes"] = [_shifted(b, dx, dy) for b in raw["bboxes"]]
        out.append(raw)
    return out


def _table_area(raws: list[dict[str, Any]]) -> float:
    return sum(_area(_rect(r["group_bbox"])) for r in raws if CLASS_MAP.get(str(r.get("class_name"))) == "Table")


def page_layout(page: pymupdf.Page, *, image_input: bool = False) -> list[dict[str, Any]]:
    """raw_layout, with a second look at small image inputs laid on a page (framed_layout), taken when it finds more
    of a table. Whole pages are never framed: a scanned letter or newspaper on a larger page came out as one
    Picture."""
    raws = raw_layout(page)
    if image_input and _area(tuple(page.rect)) < _SMALL_PAGE_AREA:
        try:
            framed = framed_layout(page)
        except Exception:  # noqa: BLE001 - a second opinion only: the page's own reading stands
            return raws
        if _table_area(framed) > _table_area(raws):
            return framed
    return raws


def _order_columns(boxes: list[LayoutBox], page_rect: pymupdf.Rect) -> list[LayoutBox]:
    """Reading order: headers first, footers last; body boxes by column within horizontal bands.

    A full-width box (title, wide table) closes a band; inside a band, boxes in the left half come
    before boxes in the right half when the band really has two columns.
    """
    mid_y = (page_rect.y0 + page_rect.y1) / 2
    # A page number printed in the running head ("75   4.2. WEITERE EIGENSCHAFTEN") is read with it, not at the end.
    head = [
        b
        for b in boxes
        if b.segment_type == "PageHeader" or (b.segment_type == "PageNumber" and (b.rect[1] + b.rect[3]) / 2 < mid_y)
    ]
    foot = [b for b in boxes if b not in head and b.segment_type in ("PageFooter", "PageNumber", "Footnote")]
    body = [b for b in boxes if b not in head and b not in foot]
    mid = (page_rect.x0 + page_rect.x1) / 2
    width = page_rect.width

    def is_wide(b: LayoutBox) -> bool:
        return b.rect[0] < mid - 0.05 * width and b.rect[2] > mid + 0.05 * width

    ordered: list[LayoutBox] = []
    band: list[LayoutBox] = []

    def flush() -> None:
        left = [b for b in band if (b.rect[0] + b.rect[2]) / 2 < mid]
        right = [b for b in band if b not in left]
        if left and right:
            ordered.extend(sorted(left, key=lambda b: (b.rect[1], b.rect[0])))
            ordered.extend(sorted(right, key=lambda b: (b.rect[1], b.rect[0])))
        else:
            ordered.extend(sorted(band, key=lambda b: (b.rect[1], b.rect[0])))
        band.clear()

    for b in sorted(body, key=lambda b: (b.rect[1], b.rect[0])):
        if is_wide(b):
            flush()
            ordered.append(b)
        else:
            band.append(b)
    flush()
    return (
        sorted(head, key=_line_key)
        + ordered
        + sorted(foot, key=lambda b: (b.segment_type == "Footnote" and -1 or 0, b.rect[1], b.rect[0]))
    )


def _line_key(b: LayoutBox) -> tuple[float, float]:
    # Boxes on one printed line (a header's text and its page number) differ by a few points in top: left to right.
    return (round(b.rect[1] / 6), b.rect[0])


def analyze(
    page: pymupdf.Page, words: list[Word], *, image_input: bool = False, text_layer: bool = False
) -> list[LayoutBox]:
    """Typed boxes in reading order. `text_layer`: the words are the page's own (born-digital), not OCR's, so
    PyMuPDF's table finder may read the tables (see _fit_tables)."""
    raws = page_layout(page, image_input=image_input)
    boxes: list[LayoutBox] = []
    for r in raws:
        rect = _rect(r["group_bbox"])
        if rect[2] - rect[0] <= 1 or rect[3] - rect[1] <= 1:
            continue
        seg_type = CLASS_MAP.get(str(r.get("class_name")), "Text")
        score = r.get("score")
        boxes.append(LayoutBox(seg_type, rect, float(score) if score is not None else None, raw=r))

    _snap_tables_to_rulings(page, boxes)
    # Drop boxes fully inside a larger box of the same kind (duplicate predictions).
    boxes.sort(key=lambda b: -_area(b.rect))
    kept: list[LayoutBox] = []
    within: list[LayoutBox] = []  # boxes inside a table or picture, whose labels _fit_tables may give back
    for b in boxes:
        if any(
            _intersection(b.rect, k.rect) >= 0.9 * _area(b.rect) and k.segment_type in ("Table", "Picture")
            for k in kept
        ):
            # Text inside a table/picture belongs to it.
            within.append(b)
            continue
        kept.append(b)

    # Each word goes to one box: the smallest containing its centre, tables/pictures first.
    unassigned: list[Word] = []
    prio = {"Table": 0, "Picture": 1}
    by_pref = sorted(kept, key=lambda b: (prio.get(b.segment_type, 2), _area(b.rect)))
    for w in words:
        cx, cy = (w[0] + w[2]) / 2, (w[1] + w[3]) / 2
        for b in by_pref:
            x0, y0, x1, y1 = b.rect
            if x0 - 1 <= cx <= x1 + 1 and y0 - 1 <= cy <= y1 + 1:
                b.words.append(w)
                break
        else:
            unassigned.append(w)

    kept.extend(_leftover_boxes(unassigned))
    if not text_layer:
        kept = _text_not_pictures(page, kept)
    if text_layer and any(b.segment_type == "Table" for b in kept):
        kept = _fit_tables(page, kept, refined_tables(page), within)
    kept.extend(_image_boxes(page, kept))
    kept = _split_list_items(kept)
    if not text_layer:
        kept = _join_lead_lines(kept)
    _promote_title(page, kept)
    for b in kept:
        if b.segment_type in ("PageHeader", "PageFooter") and b.words:
            text = " ".join(w[4] for w in b.words)
            if _PAGE_NUMBER_RE.match(text):
                b.segment_type = "PageNumber"
    # A text box with no words is noise, except pictures/tables which are visual.
    kept = [b for b in kept if b.words or b.segment_type in ("Picture", "Table", "Formula")]
    return _order_columns(kept, page.rect)


def _text_not_pictures(page: pymupdf.Page, boxes: list[LayoutBox]) -> list[LayoutBox]:
    """On an OCR'd page, a Picture box whose words are text and whose other ink is small is read as text, tables
    and the smaller pictures in it; a large Text box with solid pictures inside (photos on a newspaper page the model
    boxed as one text) is read the same way (`regions`)."""
    out: list[LayoutBox] = []
    page_area = _area(tuple(page.rect))
    for b in boxes:
        try:
            if b.segment_type == "Picture" and b.words:
                text, blobs = regions.is_text(page, b.rect, b.words)
                if text:
                    out.extend(regions.dissolve(b.words, blobs, _made))
                    continue
            elif b.segment_type == "Text" and len(b.words) > 1 and _area(b.rect) >= _LARGE_TEXT * page_area:
                pictures = regions.pictures_in_text(page, b.rect, b.words, page_area)
                if pictures:
                    out.extend(regions.dissolve(b.words, pictures, _made))
                    continue
        except Exception:  # noqa: BLE001, S110 - a second look only: the model's box stands
            pass
        out.append(b)
    return out


# A Text box this share of the page or larger is looked through for pictures inside it.
_LARGE_TEXT = 0.05


def _made(seg_type: str, rect: tuple[float, ...], words: list[Word], grid: TableGrid | None = None) -> LayoutBox:
    return LayoutBox(seg_type, tuple(rect), None, words, grid=grid)  # type: ignore[arg-type]


# A heading's line sits apart from the text under it, or is printed larger; a line set flush on the block under
# it, in the same letters, is that block's first line (the "Ms" over a recipient's address).
_LEAD_GAP = 0.5
_LEAD_SIZE = 0.15


def _lead_gap(text: LayoutBox, h: float) -> float:
    """The widest gap over a Text box that still reads as its own line spacing: a little over the gaps between
    its lines, or half a line for a one-line box."""
    lines = regions.text_lines(text.words)
    gaps = [b.rect[1] - a.rect[3] for a, b in zip(lines, lines[1:], strict=False)]
    return 1.3 * median(gaps) + 0.25 * h if gaps else _LEAD_GAP * h


def _join_lead_lines(boxes: list[LayoutBox]) -> list[LayoutBox]:
    """A one-line header box set flush on a Text box under it (same left edge, no more space between than the
    text's own line spacing, the same letter height) is that text's first line: the two become one Text box.

    Only on OCR'd pages: on born-digital pages the model's headers stand (docling's labels disagree with joining
    them: 15 of its 400 matched items lost their match, a Korean heading joined its paragraph)."""
    texts = [b for b in boxes if b.segment_type == "Text" and b.words]
    gone: set[int] = set()
    for b in boxes:
        if (
            b.segment_type not in ("SectionHeader", "PageHeader")
            or not b.words
            or len(regions.text_lines(b.words)) != 1
        ):
            continue
        h = median(w[3] - w[1] for w in b.words)
        for t in texts:
            th = median(w[3] - w[1] for w in t.words)
            gap = t.rect[1] - b.rect[3]
            if (
                -0.2 * h <= gap <= _lead_gap(t, h)
                and abs(t.rect[0] - b.rect[0]) <= h
                and abs(h - th) <= _LEAD_SIZE * th
            ):
                t.words = b.words + t.words
                t.rect = (min(t.rect[0], b.rect[0]), b.rect[1], max(t.rect[2], b.rect[2]), t.rect[3])
                gone.add(id(b))
                break
    return [b for b in boxes if id(b) not in gone]


# What starts a list item: a bullet glyph (one the font gives no Unicode for reads as U+FFFD or a private-use
# character), or a number or letter with its stop.
_ITEM_START = re.compile(
    r"^(?:[\u2022\u25cf\u25aa\u25e6\u2023\u2043\u2219\u00b7\u25a0\u25a1\u2013\u2014*+\-\ufffd\ue000-\uf8ff]|"
    r"\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,5})[.)](?![\d.]))"
)


def _split_list_items(boxes: list[LayoutBox]) -> list[LayoutBox]:
    """A ListItem box holding several items (lines that start at its left edge with a bullet or a number) is
    split into one box per item; lines without a marker stay with the item above (its wrapped text)."""
    out: list[LayoutBox] = []
    for b in boxes:
        if b.segment_type != "ListItem" or len(b.words) < 2:
            out.append(b)
            continue
        lines = regions.text_lines(b.words)
        left = min(ln.rect[0] for ln in lines)
        starts = [
            i
            for i, ln in enumerate(lines)
            if _ITEM_START.match(min(ln.words, key=lambda w: w[0])[4])
            and ln.rect[0] - left <= 0.5 * (ln.rect[3] - ln.rect[1])
        ]
        if len(starts) < 2:
            out.append(b)
            continue
        cuts = sorted({0, *starts[1:]})
        for a, z in zip(cuts, [*cuts[1:], len(lines)], strict=True):
            ws = [w for ln in lines[a:z] for w in ln.words]
            rect = (min(w[0] for w in ws), min(w[1] for w in ws), max(w[2] for w in ws), max(w[3] for w in ws))
            out.append(LayoutBox("ListItem", rect, b.confidence, ws))
    return out


def refined_tables(page: pymupdf.Page) -> list[Any]:
    """PyMuPDF's table finder as pymupdf4llm runs it for HTML tables: the layout model's table grids fused with the
    ruling-line candidates, each grid refined (rows/columns the lines merged split by text and shading) and its
    spans and header rows resolved. It reuses the layout this page already has (`page.layout_information`)."""
    _activate()
    try:
        with _LOCK:
            found = page.find_tables(use_layout=True, union=True, refine=True)
    except Exception:  # noqa: BLE001 - a heuristic: the layout model's own grids stand
        return []
    return [t for t in found.tables if getattr(t, "placements", None)]


# Two finder tables this close, one under the other with as many columns, are one table the finder cut at a
# repeated header row (points).
_STACK_GAP = 3.0


def _stacked(tables: list[Any]) -> list[list[Any]]:
    groups: list[list[Any]] = []
    for t in sorted(tables, key=lambda t: t.bbox[1]):
        if groups:
            last = groups[-1][-1]
            lx0, _, lx1, ly1 = last.bbox
            x0, y0, x1, _ = t.bbox
            overlap = min(lx1, x1) - max(lx0, x0)
            if (
                0 <= y0 - ly1 + 0.5 <= _STACK_GAP
                and overlap >= 0.8 * min(lx1 - lx0, x1 - x0)
                and last.col_count == t.col_count
            ):
                groups[-1].append(t)
                continue
        groups.append([t])
    return groups


# A side of the finder's table this close inside the layout box's side (snapped to the ruled frame) is the same
# side: the finder boxes the cells' text, the frame is drawn a few points out (points).
_HUG = 12.0


def _inside(inner: tuple[float, ...], outer: tuple[float, ...]) -> bool:
    return _intersection(inner, outer) >= 0.9 * _area(inner)


def _relabel(words: list[Word], within: list[LayoutBox], tables: list[tuple[float, ...]]) -> list[LayoutBox]:
    """Words a Table box held outside the finder's tables: into the model's own boxes there (a heading, a
    paragraph), the smallest holding each word's centre; what none holds becomes Text boxes by text-layer block."""
    candidates = sorted(
        (
            b
            for b in within
            if b.segment_type not in ("Table", "Picture") and not any(_inside(b.rect, t) for t in tables)
        ),
        key=lambda b: _area(b.rect),
    )
    found: dict[int, LayoutBox] = {}
    rest: list[Word] = []
    for w in words:
        cx, cy = (w[0] + w[2]) / 2, (w[1] + w[3]) / 2
        for k, b in enumerate(candidates):
            x0, y0, x1, y1 = b.rect
            if x0 - 1 <= cx <= x1 + 1 and y0 - 1 <= cy <= y1 + 1:
                found.setdefault(k, LayoutBox(b.segment_type, b.rect, b.confidence)).words.append(w)
                break
        else:
            rest.append(w)
    return list(found.values()) + _leftover_boxes(rest)


def _with_spans(
    page: pymupdf.Page, rect: tuple[float, float, float, float], words: list[Word], raw: Any, refined: TableGrid
) -> TableGrid:
    if all(c.text.strip() for c in refined.cells):
        return refined  # a flattened span leaves an empty slot; without one there is nothing to recover
    try:
        ours = find_table_grid(page, rect, words, raw)
    except Exception:  # noqa: BLE001 - the refined grid stands
        return refined
    if (
        ours is not None
        and (ours.n_rows, ours.n_cols) == (refined.n_rows, refined.n_cols)
        and any(c.rowspan > 1 or c.colspan > 1 for c in ours.cells)
        and _cell_texts(ours) == _cell_texts(refined)
    ):
        return ours
    return refined


def _cell_texts(grid: TableGrid) -> dict[tuple[int, int], str]:
    return {(c.row, c.col): "".join(c.text.split()) for c in grid.cells if c.text.strip()}


def _group_rect(group: list[Any]) -> tuple[float, float, float, float]:
    return (
        min(t.bbox[0] for t in group),
        min(t.bbox[1] for t in group),
        max(t.bbox[2] for t in group),
        max(t.bbox[3] for t in group),
    )


def _grown(r: tuple[float, ...], d: float) -> tuple[float, float, float, float]:
    return (r[0] - d, r[1] - d, r[2] + d, r[3] + d)


def _hug(rect: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> tuple[float, ...]:
    x0, y0, x1, y1 = rect
    return (
        box[0] if 0 <= x0 - box[0] <= _HUG else x0,
        box[1] if 0 <= y0 - box[1] <= _HUG else y0,
        box[2] if 0 <= box[2] - x1 <= _HUG else x1,
        box[3] if 0 <= box[3] - y1 <= _HUG else y1,
    )


def _fit_tables(
    page: pymupdf.Page, boxes: list[LayoutBox], tables: list[Any], within: list[LayoutBox] = ()
) -> list[LayoutBox]:
    """On a born-digital page, a Table box's structure comes from PyMuPDF's refined table finder wherever that
    finder found tables inside the box: it keeps cells that the layout model's grid merges or drops (issue 17:
    cell-adjacency F1 on tables-born-digital, docs/BENCHMARKS.md). A box holding several of them (two tables and
    the text between them, boxed as one) becomes one Table per table, the text between them boxes with the
    labels the layout model gave them inside the Table box where it had some (`within`), else Text boxes by their
    text-layer blocks; a box the finder found nothing in keeps the layout model's grid.

    The refined finder flattens spans (a header over two columns comes out as the header and an empty cell), which
    the ruling-line cells (find_table_grid) keep: where those give the same cells, each in the same top-left slot,
    and spans besides, that grid stands.
    """
    out: list[LayoutBox] = []
    for b in boxes:
        if b.segment_type != "Table":
            out.append(b)
            continue
        inside = [t for t in tables if _intersection(_rect(t.bbox), b.rect) >= 0.6 * _area(_rect(t.bbox))]
        grids = [(g, grid_from_placements(g)) for g in _stacked(inside)]
        grids = [(g, grid) for g, grid in grids if grid is not None and grid.n_rows * grid.n_cols > 1]
        if not grids:
            out.append(b)
            continue
        rest = list(b.words)
        if len(grids) == 1 and len(words_in(rest, _grown(_group_rect(grids[0][0]), 1))) == len(rest):
            # The box is this table alone: keep the box, which was snapped to its ruled frame.
            grid = _with_spans(page, b.rect, rest, b.raw, grids[0][1])
            out.append(LayoutBox("Table", b.rect, b.confidence, rest, b.raw, grid))
            continue
        for group, grid in grids:
            rect = _hug(_group_rect(group), b.rect)
            mine = words_in(rest, _grown(rect, 1))
            taken = set(map(id, mine))
            rest = [w for w in rest if id(w) not in taken]
            out.append(LayoutBox("Table", rect, b.confidence, mine, b.raw, _with_spans(page, rect, mine, b.raw, grid)))
        out.extend(_relabel(rest, [t for t in within if _inside(t.rect, b.rect)], [o.rect for o in out[-len(grids) :]]))
    return out


def _snap_tables_to_rulings(page: pymupdf.Page, boxes: list[LayoutBox]) -> None:
    """Widen a Table box to the ruled frame drawn around it.

    The model boxes a table by its text, so a ruled table's box stops at its last word and the crop cuts the
    frame (and empty trailing columns) off. A cluster of vector drawings that covers most of the box and is not
    much larger than it is the table's own ruling; anything bigger (a page frame, a chart) is left alone.
    """
    tables = [b for b in boxes if b.segment_type == "Table"]
    if not tables:
        return
    try:
        clusters = [_rect(c) for c in page.cluster_drawings()]
    except Exception:  # noqa: BLE001 - unusual vector content: keep the model's boxes
        return
    for b in tables:
        area = _area(b.rect)
        for c in clusters:
            if area and _intersection(c, b.rect) >= 0.6 * area and _area(c) <= 2.5 * area:
                b.rect = (min(b.rect[0], c[0]), min(b.rect[1], c[1]), max(b.rect[2], c[2]), max(b.rect[3], c[3]))


def _image_boxes(page: pymupdf.Page, boxes: list[LayoutBox]) -> list[LayoutBox]:
    """Raster images the model did not box (it reads text, so a text-free figure can be missed)."""
    out: list[LayoutBox] = []
    page_area = _area(tuple(page.rect))
    try:
        infos = page.get_image_info()
    except Exception:  # noqa: BLE001 - broken image streams: no extra boxes
        return out
    for info in infos:
        r = pymupdf.Rect(info["bbox"]) & page.rect
        rect = _rect(r)
        a = _area(rect)
        if r.is_empty:
            continue
        # Small images are decoration (bullets, rules, logos' slivers), unless the image is most of the page: an image
        # input, or a PDF page that is one picture, is its content however few points it measures.
        if a < 0.5 * page_area and (a < 0.01 * page_area or r.width < 20 or r.height < 20):
            continue
        if a > 0.9 * page_area and any(b.words for b in boxes):
            continue  # a full-page scan/background under text is not a figure
        if any(
            _intersection(rect, b.rect) > 0.3 * min(a, _area(b.rect)) and b.segment_type in ("Picture", "Table")
            for b in boxes + out
        ):
            continue
        if any(_intersection(rect, b.rect) > 0.5 * _area(b.rect) for b in boxes if b.words):
            continue  # text sits on this image: it is a background, keep the text boxes
        out.append(LayoutBox("Picture", rect, None))
    return out


def _max_font_size(spans: list[tuple[tuple[float, ...], float]], rect: tuple[float, float, float, float]) -> float:
    x0, y0, x1, y1 = rect
    sizes = [
        size
        for bb, size in spans
        if x0 - 1 <= (bb[0] + bb[2]) / 2 <= x1 + 1 and y0 - 1 <= (bb[1] + bb[3]) / 2 <= y1 + 1
    ]
    return max(sizes, default=0.0)


def _promote_title(page: pymupdf.Page, boxes: list[LayoutBox]) -> None:
    """The model rarely says "title"; call the topmost, clearly largest heading on a page the Title."""
    if any(b.segment_type == "Title" for b in boxes):
        return
    heads = [b for b in boxes if b.segment_type == "SectionHeader"]
    if not heads:
        return
    spans = []
    for block in page.get_text("dict", flags=0)["blocks"]:
        for line in block.get("lines", []):
            for sp in line["spans"]:
                if sp["text"].strip():
                    spans.append((tuple(sp["bbox"]), float(sp["size"])))
    if not spans:
        return
    body_sizes = sorted(size for _, size in spans)
    median = body_sizes[len(body_sizes) // 2]
    sized = sorted(((_max_font_size(spans, h.rect), h) for h in heads), key=lambda t: -t[0])
    top_size, top = sized[0]
    runner_up = sized[1][0] if len(sized) > 1 else median
    first = min(heads, key=lambda h: h.rect[1])
    if top is first and top_size >= 1.3 * runner_up and top_size >= 1.6 * median:
        top.segment_type = "Title"


def _leftover_boxes(words: list[Word]) -> list[LayoutBox]:
    """Words outside every model box, grouped by their text-layer block, become Text boxes."""
    blocks: dict[int, list[Word]] = {}
    for w in words:
        blocks.setdefault(int(w[5]), []).append(w)
    out = []
    for ws in blocks.values():
        rect = (min(w[0] for w in ws), min(w[1] for w in ws), max(w[2] for w in ws), max(w[3] for w in ws))
        out.append(LayoutBox("Text", rect, None, ws))
    return out


def table_words(words: list[Word], rect: tuple[float, float, float, float]) -> list[Word]:
    return words_in(words, rect)

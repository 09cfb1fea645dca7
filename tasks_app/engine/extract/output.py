"""Found values -> ExtractOutputResponse (API_CONTRACT §9.12-9.14).

`results`, `citations` and `metrics` mirror each other: objects key by key, arrays of objects element
by element; a leaf (primitive or array of primitives) holds one Citation[] and one Metrics.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from .document import SegInfo, Word
from .schema import Node, iter_leaves

KeyPath = tuple[Any, ...]


@dataclass(slots=True)
class Found:
    value: Any
    words: list[Word] = field(default_factory=list)
    high: bool = False
    evidence: str = ""  # the kind of evidence a finder read it from (finders.py), "" for a label match


@dataclass(slots=True)
class Findings:
    """Leaf values by key path (outside arrays of objects) and rows for arrays of objects."""

    leaves: dict[KeyPath, Found] = field(default_factory=dict)
    rows: dict[KeyPath, list[dict[KeyPath, Found]]] = field(default_factory=dict)
    # Rows already in output form (results, citations, metrics lists): the offline extractor turns
    # each table row into output as it reads it, so no word of it is kept afterwards.
    built: dict[KeyPath, BuiltRows] = field(default_factory=dict)


@dataclass(slots=True)
class BuiltRows:
    results: list[Any] = field(default_factory=list)
    citations: list[Any] = field(default_factory=list)
    metrics: list[Any] = field(default_factory=list)

    def add(self, item: Node, row: dict[KeyPath, Found]) -> None:
        r, c, m = _walk(item, (), row, None)
        self.results.append(r)
        self.citations.append(c)
        self.metrics.append(m)


def citations_for(words: list[Word]) -> list[dict[str, Any]]:
    """One Citation per source segment, with the boxes of the value's own words in that segment."""
    by_seg: dict[int, tuple[SegInfo, list[Word]]] = {}
    for w in sorted(words, key=lambda w: w.order):
        by_seg.setdefault(id(w.seg), (w.seg, []))[1].append(w)
    out = []
    for seg, ws in by_seg.values():
        # A box per line, and a new one where other words intervene, so a box never holds foreign words.
        runs: list[list[Word]] = []
        for w in ws:
            if runs and runs[-1][-1].line == w.line and w.order - runs[-1][-1].order <= 1:
                runs[-1].append(w)
            else:
                runs.append([w])
        boxes = []
        for lw in runs:
            x0, y0 = min(w.x0 for w in lw), min(w.y0 for w in lw)
            x1, y1 = max(w.x1 for w in lw), max(w.y1 for w in lw)
            boxes.append(
                {"left": round(x0, 2), "top": round(y0, 2), "width": round(x1 - x0, 2), "height": round(y1 - y0, 2)}
            )
        cells = list(dict.fromkeys(w.cell for w in ws if w.cell)) if seg.ss_sheet_name else []
        out.append(
            {
                "citation_id": str(uuid.uuid4()),
                "citation_type": "Cell" if cells else "Segment",
                "bboxes": boxes,
                "content": " ".join(w.text for w in ws),
                "segment_id": seg.segment_id or None,
                "segment_type": seg.segment_type,
                "page_number": seg.page_number,
                "page_width": seg.page_width,
                "page_height": seg.page_height,
                "ss_ranges": cells or None,
                "ss_sheet_name": seg.ss_sheet_name if cells else None,
            }
        )
    return out


def _empty(node: Node) -> Any:
    if node.kind == "array":
        return []
    return None


def _leaf(node: Node, found: Found | None) -> tuple[Any, Any, Any]:
    if found is None or found.value is None or (isinstance(found.value, list) and not found.value):
        return _empty(node), [], {"confidence": "Low"}
    # OCR'd words are never High: on scanned receipts a label match that is right 97 % of the time on text layers
    # is right 81 % of the time (bench/extract_real.py, issue 16); a misread digit looks like any other.
    high = found.high and not any(w.ocr for w in found.words)
    return found.value, citations_for(found.words), {"confidence": "High" if high else "Low"}


def _walk(node: Node, path: KeyPath, leaves: dict[KeyPath, Found], findings: Findings | None) -> tuple[Any, Any, Any]:
    """(results, citations, metrics) of one node; `findings` is None inside a row."""
    if node.is_leaf:
        return _leaf(node, leaves.get(path))
    if node.kind == "object":
        res, cit, met = {}, {}, {}
        for key, child in node.properties.items():
            res[key], cit[key], met[key] = _walk(child, (*path, key), leaves, findings)
        return res, cit, met
    # Array of objects: rows are keyed by paths relative to the item (none nested inside a row).
    if findings is None:
        return [], [], []
    built = findings.built.get(path)
    if built is not None:
        return built.results, built.citations, built.metrics
    out = BuiltRows()
    for row in findings.rows.get(path, []):
        out.add(node.items, row)
    return out.results, out.citations, out.metrics


def assemble(root: Node, findings: Findings) -> dict[str, Any]:
    results, citations, metrics = _walk(root, (), findings.leaves, findings)
    return {"results": results, "citations": citations, "metrics": metrics}


def item_leaves(node: Node) -> list[tuple[KeyPath, Node]]:
    return iter_leaves(node.items) if node.items is not None else []

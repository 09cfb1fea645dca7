"""Checks shared by the extraction tests: field accuracy and citation boxes read back from the PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymupdf

from tasks_app.engine.extract.coerce import currency_of, normalize, parse_date, parse_number


def lines_pdf(
    path: Path, lines: list[tuple[float, float, str] | tuple[float, float, str, float]], size: float = 10
) -> Path:
    """A one-page Letter PDF with each (x, y, text) written in Helvetica at `size` points ((x, y, text, size): at
    its own size)."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    for x, y, text, *own in lines:
        page.insert_text((x, y), text, fontsize=own[0] if own else size, fontname="helv")
    doc.save(path)
    doc.close()
    return path


def text_segment(page: int, n: int, top: float, words: list[tuple[str, float, float]], height: float = 20,
                 size: tuple[float, float] = (1224.0, 1584.0)) -> dict:  # fmt: skip
    """A parse-output segment holding one line of words given as (text, left, width) in page coordinates."""
    left = min(x for _, x, _ in words)
    right = max(x + w for _, x, w in words)
    return {
        "segment_id": f"p{page}-s{n}",
        "segment_type": "Text",
        "page_number": page,
        "page_width": size[0],
        "page_height": size[1],
        "bbox": {"left": left, "top": top, "width": right - left, "height": height},
        "text": " ".join(t for t, _, _ in words),
        "ocr": [{"text": t, "bbox": {"left": x - left, "top": 0, "width": w, "height": height}} for t, x, w in words],
    }


def compare(result: Any, truth: Any, path: str = "") -> list[tuple[str, bool]]:
    """(field path, exactly right) for every leaf of `truth`, rows included."""
    if isinstance(truth, dict):
        out = []
        for k, v in truth.items():
            out += compare(result.get(k) if isinstance(result, dict) else None, v, f"{path}.{k}")
        return out
    if isinstance(truth, list) and truth and isinstance(truth[0], dict):
        out = []
        for i, v in enumerate(truth):
            got = result[i] if isinstance(result, list) and i < len(result) else None
            out += compare(got, v, f"{path}[{i}]")
        return out
    return [(path, result == truth)]


def mirrors(results: Any, other: Any, leaf_check) -> None:
    """citations/metrics have the shape of results; leaf_check(value, leaf) asserts on each leaf."""
    if isinstance(results, dict):
        assert isinstance(other, dict) and set(other) == set(results)
        for k in results:
            mirrors(results[k], other[k], leaf_check)
    elif isinstance(results, list) and results and isinstance(results[0], dict):
        assert isinstance(other, list) and len(other) == len(results)
        for r, o in zip(results, other, strict=True):
            mirrors(r, o, leaf_check)
    else:
        leaf_check(results, other)


def words_in_box(page: pymupdf.Page, box: dict, dpi: float = 144) -> list[str]:
    s = 72 / dpi
    rect = pymupdf.Rect(box["left"] * s, box["top"] * s, (box["left"] + box["width"]) * s,
                        (box["top"] + box["height"]) * s)  # fmt: skip
    out = []
    for w in page.get_text("words"):
        cx, cy = (w[0] + w[2]) / 2, (w[1] + w[3]) / 2
        if rect.x0 - 1 <= cx <= rect.x1 + 1 and rect.y0 - 1 <= cy <= rect.y1 + 1:
            out.append(w[4])
    return out


def value_matches_words(value: Any, text: str) -> bool:
    """The cited words spell the value (in its printed form)."""
    if isinstance(value, bool):
        return True  # a checkbox: the mark and its option are cited
    if isinstance(value, int | float):
        return parse_number(text) == value or any(parse_number(t) == value for t in text.split())
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        for day_first in (False, True):
            parsed = parse_date(text, day_first)
            if parsed and parsed[0].date().isoformat() == value[:10]:
                return True
    if isinstance(value, str) and len(value) == 3 and value.isupper() and currency_of(text) == value:
        return True  # currency read from the symbol printed with an amount
    if isinstance(value, list):
        return all(value_matches_words(v, text) or normalize(str(v)) in normalize(text) for v in value)
    return normalize(str(value)) in normalize(text) or normalize(text) in normalize(str(value))


def check_citations(pdf_path, body: dict, require: bool = True) -> int:
    """Every cited box holds exactly the cited words, and those words spell the value. Returns boxes checked."""
    doc = pymupdf.open(pdf_path)
    checked = 0

    def leaf(value, cits):
        nonlocal checked
        assert isinstance(cits, list)
        if value is None or value == []:
            assert cits == []
            return
        assert cits or not require, f"no citation for {value!r}"
        if not cits:
            return
        content = []
        for c in cits:
            assert c["citation_type"] == "Segment" and c["segment_id"]
            page = doc[c["page_number"] - 1]
            found = []
            for box in c["bboxes"]:
                found += words_in_box(page, box)
                checked += 1
            assert found == c["content"].split(), (found, c["content"])
            content.append(c["content"])
        assert value_matches_words(value, " ".join(content)), (value, content)

    mirrors(body["results"], body["citations"], leaf)
    doc.close()
    return checked

"""Text fidelity (issue 17): two-column reading order, end-of-line hyphenation, ligatures, page numbers in the head."""

from __future__ import annotations

import pymupdf

from tasks_app.engine import MemorySink, parse_document
from tasks_app.engine.layout import page_words
from tasks_app.engine.textlayer import write_words

from .conftest import options

LEFT = [
    "The survey of regional transport",
    "costs shows a considerable and con-",
    "tinuing rise in all the northern",
    "districts over the last three years.",
    "Rail freight grew fastest of all.",
]
RIGHT = [
    "Road haulage, by contrast, stayed",
    "flat in most districts, while the",
    "share of inland waterways fell for",
    "the fifth year in a row, to a level",
    "not seen since the early nineties.",
]


def test_two_columns_read_left_then_right_with_hyphenation_undone(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 80), "Transport Costs in the Northern Districts", fontsize=16, fontname="hebo")
    for k, (left, right) in enumerate(zip(LEFT, RIGHT, strict=True)):
        page.insert_text((72, 120 + 14 * k), left, fontsize=10)
        page.insert_text((320, 120 + 14 * k), right, fontsize=10)
    doc.save(tmp_path / "columns.pdf")

    result = parse_document(tmp_path / "columns.pdf", options(), MemorySink())

    text = " ".join(s.text for s in result.segments)
    assert "considerable and continuing rise" in text  # "con-" + "tinuing" joined
    assert text.index("Rail freight grew fastest") < text.index("Road haulage, by contrast")


def test_ligatures_are_spelled_out_in_words_and_text(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=200)
    write_words(page, [((40, 40, 140, 56), "De\ufb01nition"), ((150, 40, 230, 56), "e\ufb00ect")])

    assert [w[4] for w in page_words(page)] == ["Definition", "effect"]


def test_page_number_in_the_running_head_is_read_with_it(tmp_path):
    doc = pymupdf.open()
    for n in (1, 2, 3):
        page = doc.new_page(width=612, height=792)
        page.insert_text((72, 40), str(40 + n), fontsize=9)
        page.insert_text((380, 40), "2.1. TOPOLOGICAL MANIFOLDS", fontsize=9)
        page.insert_textbox((72, 90, 540, 400), "A manifold is a space that looks flat up close. " * 8, fontsize=10)
    doc.save(tmp_path / "book.pdf")

    result = parse_document(tmp_path / "book.pdf", options(), MemorySink())

    page_two = [s for s in result.segments if s.page_number == 2]
    number = next(s for s in page_two if s.text == "42")
    assert number.segment_type in ("PageNumber", "PageHeader")
    assert page_two.index(number) < next(i for i, s in enumerate(page_two) if "manifold" in s.text)

"""A scanned invoice as an OCR text layer reads it: flattened boxes, boxed headers, split numbers.

The page is synthetic (values unlike the DocILE sample's) and reproduces what such text layers do:
word boxes a fifth of the text height, labels in boxed header rows with the values a few lines
lower, decimals cut off as words of their own ('1,187 .50'), letters read for digits ('3/04/I9'),
a label printed letter by letter down the margin, a date in three boxed cells and a stamp.
"""

from __future__ import annotations

from tasks_app.engine import run_extraction
from tasks_app.engine.extract.coerce import coerce_text, ocr_digits, parse_number
from tasks_app.engine.extract.schema import Node

from .helpers import text_segment

CW = 9.0  # character width of the body text; its boxes are 2 px tall


def _line(n: int, top: float, phrases: list[tuple[str, float]], cw: float = CW) -> dict:
    """Phrases given as (text, left); words one space apart inside a phrase."""
    words = []
    for text, x in phrases:
        for word in text.split():
            words.append((word, x, cw * len(word)))
            x += cw * (len(word) + 1)
    return text_segment(1, n, top, words, height=2)


def _scan() -> dict:
    segs = [
        _line(0, 60, [("SAMPLE", 700)], cw=40),  # a stamp, the largest text on the page
        _line(1, 200, [("ACME TOOLING", 400)], cw=30),
        _line(2, 245, [("LIMITED", 520)]),
        _line(3, 340, [("7", 850), ("3", 885), ("19", 915)]),  # the date, cut into boxed cells
        _line(4, 390, [("INVOICE", 880)]),
        _line(5, 1000, [("Thank you for your business", 300)]),
        _line(6, 1350, [("GROSS AMOUNT 1,200 .00", 780)]),
        _line(7, 1380, [("DUE DATE", 680), ("DISCOUNT", 816), ("NET AMOUNT AFTER DISCOUNT", 930)]),
        _line(8, 1410, [("TERMS:", 128)]),
        _line(9, 1435, [("3/04/I9", 670), ("12 .50-", 812), ("1,187 .50", 990)]),
    ]
    # "BILL TO" down the left margin, one letter per line, a wider step between the words.
    for k, (letter, top) in enumerate(zip("BILLTO", (300, 314, 328, 342, 370, 384), strict=True)):
        segs.append(_line(20 + k, top, [(letter, 100)], cw=6))
    for k, text in enumerate(("Globex Trading House", "12 Harbour Road", "Leeds LS1 4AB")):
        segs.append(_line(30 + k, 314 + 24 * k, [(text, 140)]))
    return {"chunks": [{"segments": segs}]}


SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_date": {"type": "string", "title": "Invoice date"},
        "due_date": {"type": "string"},
        "vendor_name": {"type": "string"},
        "customer_billing_name": {"type": "string", "title": "Bill to"},
        "amount_total_gross": {"type": "string", "title": "Total"},
        "amount_due": {"type": "string"},
    },
}


def test_a_noisy_scanned_invoice_gives_its_fields_as_printed():
    body = run_extraction(_scan(), SCHEMA)
    assert body["results"] == {
        "invoice_date": "7 3 19",
        "due_date": "3/04/19",
        "vendor_name": "ACME TOOLING LIMITED",
        "customer_billing_name": "Globex Trading House",
        "amount_total_gross": "1,200.00",
        "amount_due": "1,187.50",
    }
    cited = body["citations"]["amount_due"][0]
    assert cited["content"] == "1,187 .50" and cited["page_number"] == 1


def test_typed_fields_read_the_same_noisy_values():
    schema = {"type": "object", "properties": {
        "invoice_date": {"type": "string", "format": "date"}, "due_date": {"type": "string", "format": "date"},
        "total": {"type": "number"}, "amount_due": {"type": "number"}}}  # fmt: skip
    results = run_extraction(_scan(), schema)["results"]
    assert results == {"invoice_date": "2019-07-03", "due_date": "2019-03-04", "total": 1200, "amount_due": 1187.5}


def test_a_date_or_amount_field_does_not_take_a_word_without_digits():
    output = {"chunks": [{"segments": [_line(0, 100, [("DUE DATE", 100), ("DISCOUNT", 300), ("NOTES", 500)])]}]}
    body = run_extraction(output, {"type": "object", "properties": {"due_date": {"type": "string"}}})
    assert body["results"] == {"due_date": None}


def test_ocr_splits_and_look_alike_letters_are_mended_only_inside_numbers():
    assert parse_number("4,759 .20") == 4759.2
    assert parse_number("1,269 .12-") == -1269.12
    assert parse_number("12 34") is None
    assert ocr_digits("1/02/D2") == "1/02/02"
    assert ocr_digits("2O24-O1-05") == "2024-01-05"
    assert ocr_digits("SAMPLE") is None and ocr_digits("B3G2F") is None and ocr_digits("INV-2024") is None
    assert coerce_text("1/02/D2", Node(kind="string", path="$", fmt="date")) == ("2002-01-02", 0.765)

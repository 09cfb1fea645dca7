"""Text the layout model boxed as a Picture on an OCR'd page (issue 17): read back as tables, text blocks and the
pictures really there (`engine/regions.py`); a header line set flush on the text under it joins it."""

from __future__ import annotations

import random
from pathlib import Path

import pymupdf
import pytest

from tasks_app.engine import MemorySink, ocr, parse_document
from tasks_app.engine.content import render
from tasks_app.engine.layout import LayoutBox, _join_lead_lines, _split_list_items, _text_not_pictures, page_words

from .conftest import options

ROWS = [
    ("Item", "Description", "Amount", "Price", "Total"),
    ("1", "Garden work", "28 h", "CHF 120.00", "CHF 3360.00"),
    ("2", "Disposal of cuttings", "1", "CHF 307.35", "CHF 307.35"),
    ("3", "Hedge trimming", "4 h", "CHF 80.00", "CHF 320.00"),
]
COLUMNS = (60, 110, 270, 350, 470)


def _code_block(page: pymupdf.Page, x: float, y: float, cells: int = 25, size: float = 5.0) -> pymupdf.Rect:
    """A QR-code-like square of black and white cells: ink that is no word."""
    rnd = random.Random(7)  # noqa: S311 - a fixed drawing, not a secret
    for i in range(cells):
        for j in range(cells):
            if rnd.random() < 0.5:
                page.draw_rect(
                    pymupdf.Rect(x + size * i, y + size * j, x + size * (i + 1), y + size * (j + 1)),
                    color=None,
                    fill=(0, 0, 0),
                )
    return pymupdf.Rect(x, y, x + cells * size, y + cells * size)


def _letter(doc: pymupdf.Document, *, watermark: bool = False, code: bool = False) -> pymupdf.Page:
    """A one-page bill: an address, a salutation, an unruled item table, closing lines; optionally a code block
    and a light diagonal "SAMPLE" across it (the QR-bill photo in docling's test set has both)."""
    page = doc.new_page(width=595, height=842)
    for i, text in enumerate(("Ms", "Pia Example", "Marktgasse 28", "9400 Rorschach")):
        page.insert_text((60, 90 + 13 * i), text, fontsize=10)
    page.insert_text((60, 250), "Dear Ms. Example,", fontsize=10)
    page.insert_text((60, 280), "We are billing you as follows for the work done last month:", fontsize=10)
    page.insert_text((60, 310), "Bill no. 3139", fontsize=12, fontname="hebo")
    for i, row in enumerate(ROWS):
        for x, text in zip(COLUMNS, row, strict=True):
            page.insert_text((x, 345 + 18 * i), text, fontsize=10)
    page.insert_text((60, 440), "Thank you for the assignment. Please pay within 30 days.", fontsize=10)
    page.insert_text((60, 470), "Yours sincerely,", fontsize=10)
    if code:
        _code_block(page, 250, 500)
    if watermark:
        page.insert_text(
            (120, 600),
            "SAMPLE",
            fontsize=150,
            color=(0.8, 0.8, 0.8),
            morph=(pymupdf.Point(300, 450), pymupdf.Matrix(-40)),
        )
    return page


def _table_rows(grid) -> list[list[str]]:
    return [[c.text for c in row] for row in grid.rows()]


def test_a_picture_box_of_text_becomes_a_table_text_blocks_and_the_picture_in_it():
    doc = pymupdf.open()
    page = _letter(doc, code=True)
    words = page_words(page)
    region = (50.0, 230.0, 560.0, 640.0)  # the body and the code block: what the model boxed on the photo
    inside = [w for w in words if region[1] <= (w[1] + w[3]) / 2 <= region[3]]
    head = LayoutBox("Text", (55.0, 78.0, 200.0, 135.0), None, [w for w in words if w not in inside])

    boxes = _text_not_pictures(page, [head, LayoutBox("Picture", region, 0.8, list(inside))])

    by_type: dict[str, list[LayoutBox]] = {}
    for b in boxes:
        by_type.setdefault(b.segment_type, []).append(b)
    [table] = by_type["Table"]
    assert _table_rows(table.grid) == [list(r) for r in ROWS]
    assert table.grid.header_rows == 1
    [picture] = by_type["Picture"]
    code = pymupdf.Rect(250, 500, 375, 625)
    assert pymupdf.Rect(picture.rect).intersect(code).get_area() >= 0.9 * code.get_area()
    assert pymupdf.Rect(picture.rect).get_area() <= 1.3 * code.get_area()
    texts = {" ".join(w[4] for w in b.words) for b in by_type["Text"] if b is not head}
    assert texts == {
        "Dear Ms. Example,",
        "We are billing you as follows for the work done last month:",
        "Bill no. 3139",
        "Thank you for the assignment. Please pay within 30 days.",
        "Yours sincerely,",
    }
    # Every word of the box went somewhere, once.
    placed = [w for b in boxes if b is not head for w in b.words]
    assert sorted(placed) == sorted(inside)


def test_a_photo_with_a_caption_stays_a_picture():
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    rnd = random.Random(3)  # noqa: S311 - a fixed drawing, not a secret
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 150), False)
    for x in range(0, 200, 4):
        for y in range(0, 150, 4):
            v = rnd.randrange(0, 256)
            pix.set_rect(pymupdf.IRect(x, y, x + 4, y + 4), (v, v // 2, 255 - v))
    page.insert_image(pymupdf.Rect(60, 60, 460, 360), pixmap=pix)
    page.insert_text((70, 340), "Figure 3: the harbour at dawn,", fontsize=10, color=(1, 1, 1))
    page.insert_text((70, 352), "seen from the lighthouse", fontsize=10, color=(1, 1, 1))
    words = page_words(page)
    box = LayoutBox("Picture", (60.0, 60.0, 460.0, 360.0), 0.9, list(words))

    assert [b.segment_type for b in _text_not_pictures(page, [box])] == ["Picture"]


def test_three_columns_of_running_text_are_not_a_table():
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    line = "the quick brown fox jumps over"
    for i in range(12):
        for x in (40, 230, 420):
            page.insert_text((x, 80 + 13 * i), line, fontsize=9)
    words = page_words(page)
    box = LayoutBox("Picture", (30.0, 60.0, 580.0, 250.0), 0.7, list(words))

    boxes = _text_not_pictures(page, [box])

    assert sorted(b.segment_type for b in boxes) == ["Text", "Text", "Text"]
    assert sorted(round(b.rect[0]) for b in boxes) == [40, 230, 420]


def test_a_header_line_set_flush_on_an_address_joins_it():
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for i, text in enumerate(("Ms", "Pia Example", "Marktgasse 28", "9400 Rorschach")):
        page.insert_text((60, 90 + 13 * i), text, fontsize=10)
    page.insert_text((60, 200), "Terms of payment", fontsize=10)
    page.insert_text((60, 230), "Thirty days net from the date of the bill.", fontsize=10)
    page.insert_text((60, 243), "Late payments bear interest.", fontsize=10)
    words = page_words(page)

    def box(kind: str, top: float, bottom: float) -> LayoutBox:
        ws = [w for w in words if top <= w[1] and w[3] <= bottom]
        return LayoutBox(kind, (min(w[0] for w in ws), top, max(w[2] for w in ws), bottom), None, ws)

    ms, address = box("PageHeader", 80, 92), box("Text", 93, 135)
    heading, paragraph = box("SectionHeader", 190, 202), box("Text", 220, 246)

    boxes = _join_lead_lines([ms, address, heading, paragraph])

    assert [b.segment_type for b in boxes] == ["Text", "SectionHeader", "Text"]
    assert " ".join(w[4] for w in boxes[0].words) == "Ms Pia Example Marktgasse 28 9400 Rorschach"
    assert boxes[0].rect[1] == ms.rect[1]


def test_a_scanned_bill_whose_body_the_model_calls_a_picture(tmp_path):
    """End to end on an image input: the layout model boxes this bill's body, table and all, as one Picture (it did
    when this test was written, as on docling's QR-bill photo). What comes out is its table and its text."""
    if not ocr.ocr_available():
        pytest.skip("no OCR backend in this environment")
    doc = pymupdf.open()
    _letter(doc, watermark=True)
    path = tmp_path / "bill.png"
    doc[0].get_pixmap(dpi=150).save(path)

    result = parse_document(path, options(), MemorySink())

    assert not [s for s in result.segments if s.segment_type == "Picture" and "Garden" in (s.content or "")]
    [table] = [s for s in result.segments if s.segment_type == "Table"]
    html = table.html or ""
    for cell in ("Description", "Garden work", "Disposal of cuttings", "CHF 307.35", "CHF 3360.00"):
        assert f">{cell}<" in html
    text = " ".join(s.content or "" for s in result.segments)
    assert "We are billing you as follows" in text and "Please pay within 30 days." in text


QR_BILL = Path(__file__).resolve().parents[3] / "shared/corpus/docling-regression/ocr/sources/qr_bill_example.jpg"


@pytest.mark.skipif(not QR_BILL.exists(), reason="the shared corpus (../shared/corpus) is not beside the repository")
def test_docling_qr_bill_photo_reads_its_item_table_and_address():
    """The photo issue 17 names: its item table and "Bill no." line came out inside one Picture, the recipient's
    address as a SectionHeader."""
    if not ocr.ocr_available():
        pytest.skip("no OCR backend in this environment")

    result = parse_document(QR_BILL, options(), MemorySink())

    by_type: dict[str, list] = {}
    for s in result.segments:
        by_type.setdefault(s.segment_type, []).append(s)
    [table] = [t for t in by_type["Table"] if "Garden work" in (t.html or "")]
    for cell in ("Item", "Description", "Individual price", "Disposal of cuttings", "CHF 307.35", "VAT rate"):
        assert f">{cell}<" in table.html
    texts = [s.content or "" for s in by_type["Text"]]
    assert "Bill no. 3139" in texts
    assert any(t.startswith("Ms Pia Rutschmann Marktgasse 28") for t in texts)
    # The QR code is the picture left, with no words in it.
    assert [s.content for s in by_type["Picture"]] == [""]


def _list_page(bullets: list[str], items: list[list[str]]) -> tuple[pymupdf.Page, list]:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    y = 100
    for bullet, lines in zip(bullets, items, strict=True):
        for k, text in enumerate(lines):
            x = 72 if k == 0 else 84  # wrapped lines indented under the item's text
            page.insert_text((x, y), f"{bullet}{text}" if k == 0 else text, fontsize=10)
            y += 13
    return page, page_words(page)


def test_a_list_item_box_holding_several_items_is_split_per_item():
    items = [
        ["Database performance and scalability"],
        ["Advanced SQL knowledge and skills transfer, with a", "3.5 day workshop on site"],
        ["Business intelligence and analytics"],
    ]
    page, words = _list_page(["\u2022 ", "\u2022 ", "\u2022 "], items)
    box = LayoutBox("ListItem", (60.0, 85.0, 400.0, 160.0), 0.7, list(words))

    boxes = _split_list_items([box])

    assert [b.segment_type for b in boxes] == ["ListItem"] * 3
    # The bullet is a word of its own (Helvetica draws U+2022 as a middle dot); the words after it are the item's.
    assert [" ".join(w[4] for w in b.words[1:]) for b in boxes] == [" ".join(lines) for lines in items]


def test_bullets_the_font_gives_no_unicode_for_split_items_and_leave_their_text():
    # A bullet glyph without a ToUnicode entry reads as U+FFFD, set against the word (redp5110 in docling's set).
    words = [
        (72.0, 90.0, 220.0, 101.0, "\ufffd\ufffdDatabase", 0, 0, 0),
        (225.0, 90.0, 300.0, 101.0, "performance", 0, 0, 1),
        (72.0, 103.0, 220.0, 114.0, "\ufffd\ufffdQuery/400", 0, 1, 0),
        (225.0, 103.0, 300.0, 114.0, "modernization", 0, 1, 1),
    ]
    boxes = _split_list_items([LayoutBox("ListItem", (70.0, 88.0, 302.0, 116.0), 0.7, words)])

    assert [len(b.words) for b in boxes] == [2, 2]
    html, md = render("ListItem", "\ufffd\ufffdDatabase performance")
    assert (html, md) == ("<ul><li>Database performance</li></ul>", "- Database performance")


def test_one_item_with_a_number_inside_its_text_stays_whole():
    page, words = _list_page(["1. "], [["Ship the order within", "2. business days of payment"]])
    # The wrapped line starts with "2." but is indented under the item's text: not a new item.
    boxes = _split_list_items([LayoutBox("ListItem", (60.0, 85.0, 400.0, 120.0), 0.7, list(words))])
    assert len(boxes) == 1


def _noise_photo(width: int = 160, height: int = 120, seed: int = 5) -> pymupdf.Pixmap:
    rnd = random.Random(seed)  # noqa: S311 - a fixed drawing, not a secret
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    for x in range(0, width, 4):
        for y in range(0, height, 4):
            v = rnd.randrange(0, 160)
            pix.set_rect(pymupdf.IRect(x, y, x + 4, y + 4), (v, v, v))
    return pix


def _column_text(page: pymupdf.Page, x: float, top: float, lines: int) -> None:
    for i in range(lines):
        page.insert_text((x, top + 12 * i), f"Line {i} of the article, set in a narrow column.", fontsize=9)


def test_a_photo_inside_a_large_text_box_comes_out_as_a_picture():
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    _column_text(page, 40, 80, 30)
    page.draw_rect(pymupdf.Rect(300, 70, 560, 320), color=(0, 0, 0), width=0.8)  # the advertisement's frame
    page.insert_image(pymupdf.Rect(320, 90, 540, 255), pixmap=_noise_photo())
    page.insert_text((330, 290), "Suzuki 50, now at 872 E. Auburn", fontsize=11)
    words = page_words(page)
    box = LayoutBox("Text", (35.0, 65.0, 565.0, 440.0), 0.6, list(words))

    boxes = _text_not_pictures(page, [box])

    [picture] = [b for b in boxes if b.segment_type == "Picture"]
    photo = pymupdf.Rect(320, 90, 540, 255)
    assert pymupdf.Rect(picture.rect).intersect(photo).get_area() >= 0.9 * photo.get_area()
    assert pymupdf.Rect(picture.rect).get_area() <= 1.3 * photo.get_area()
    texts = [" ".join(w[4] for w in b.words) for b in boxes if b.segment_type == "Text"]
    assert "Suzuki 50, now at 872 E. Auburn" in texts
    assert sorted(w for b in boxes for w in b.words) == sorted(words)


def test_a_frame_around_text_is_no_picture():
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    _column_text(page, 60, 100, 25)
    page.draw_rect(pymupdf.Rect(50, 85, 330, 410), color=(0, 0, 0), width=1.5)
    words = page_words(page)
    box = LayoutBox("Text", (45.0, 80.0, 335.0, 415.0), 0.6, list(words))

    assert _text_not_pictures(page, [box]) == [box]

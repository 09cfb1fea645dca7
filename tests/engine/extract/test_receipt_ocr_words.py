"""What OCR does to a receipt's words and totals, mended where the receipt itself settles it (issue 16).

Generated receipts (PyMuPDF), parsed by the engine, their words marked as read by OCR (`_as_ocr`): a misread
character in a name printed again elsewhere, an accent on a page whose words carry none, a total's label OCR ran
into its amount or read in a thin typeface. Values and the words their citations cite are asserted on the real
output of `run_extraction`; a text layer's words are never mended.
"""

from __future__ import annotations

from tasks_app.engine import run_extraction

from .helpers import lines_pdf
from .test_finders import RECEIPT_SCHEMA
from .test_receipt_heads import TAIL, _as_ocr, _cited, _head


def _top_pt(body: dict, key: str) -> float:
    """Where the value's first cited box starts, in the generated page's points (792 high)."""
    cite = body["citations"][key][0]
    return cite["bboxes"][0]["top"] * 792 / cite["page_height"]


def test_a_misread_character_is_mended_from_the_names_other_print_and_a_lone_accent_dropped(tmp_path, parse):
    head = [
        "MENTA[ INITIAL SDN BHD",
        "SUSHI MENTAI",
        "NO 37, JALAN MÄNIS 7,",
        "56100 CHERAS, KUALA LUMPUR..",
        "TEL: 03-9130 2672",
    ]
    # A receipt's worth of words (the accent is one word in dozens), items and their prices.
    items = [(200, 300 + 14 * i, f"{n} TOWEL ROD 3/4 INCH WHITE SR") for i, n in enumerate(range(1, 9))]
    pdf = _head(tmp_path / "r.pdf", head, [*items, (400, 300, "4.50"), (200, 426, "TOTAL"), (400, 426, "4.50")])
    ocr = run_extraction(_as_ocr(parse(pdf)), RECEIPT_SCHEMA)
    assert ocr["results"]["company"] == "MENTAI INITIAL SDN BHD"
    assert _cited(ocr, "company") == "MENTA[ INITIAL SDN BHD"  # the words as OCR read them
    assert ocr["results"]["address"] == "NO 37, JALAN MANIS 7, 56100 CHERAS, KUALA LUMPUR."
    assert _cited(ocr, "address") == "NO 37, JALAN MÄNIS 7, 56100 CHERAS, KUALA LUMPUR.."
    text_layer = run_extraction(parse(pdf), RECEIPT_SCHEMA)
    assert text_layer["results"]["company"] == "MENTA[ INITIAL SDN BHD"
    assert text_layer["results"]["address"] == "NO 37, JALAN MÄNIS 7, 56100 CHERAS, KUALA LUMPUR.."


def test_a_leading_one_in_a_name_in_capitals_is_an_i_and_accents_stay_where_the_page_has_them(tmp_path, parse):
    head = ["URBAN 1DEA SDN BHD", "1ST FLOOR, JALAN SS6/5A,", "47301 PETALING JAYA", "TEL: 03-7887 0693"]
    body = run_extraction(_as_ocr(parse(_head(tmp_path / "u.pdf", head))), RECEIPT_SCHEMA)
    assert body["results"]["company"] == "URBAN IDEA SDN BHD"
    assert _cited(body, "company") == "URBAN 1DEA SDN BHD"
    assert body["results"]["address"] == "1ST FLOOR, JALAN SS6/5A, 47301 PETALING JAYA"  # an ordinal stays
    # A page whose words carry accents keeps them: they are the language's, not OCR's.
    head = ["CAFÉ DE LA GARE SARL", "12 RUE DE L'ÉGLISE", "75002 PARIS", "TÉL. 01 23 45 67 89"]
    body = run_extraction(_as_ocr(parse(_head(tmp_path / "f.pdf", head))), RECEIPT_SCHEMA)
    assert body["results"]["address"] == "12 RUE DE L'ÉGLISE 75002 PARIS"


def test_a_total_run_into_its_label_and_totals_read_in_a_thin_typeface(tmp_path, parse):
    head = ["KEDAI MAJU SDN BHD", "NO 3, JALAN BESAR,"]
    tail = [
        (200, 300, "BUN"), (400, 300, "RM15.39"), (200, 330, "Rounding"), (400, 330, "RM0.01"),
        (300, 360, "Grand Tota1RM15.40"), (300, 390, "Total Paid RM50.00"), (300, 420, "Change RM34.60"),
    ]  # fmt: skip
    body = run_extraction(_as_ocr(parse(_head(tmp_path / "g.pdf", head, tail))), RECEIPT_SCHEMA)
    assert body["results"]["total"] == "15.40"  # what was paid over it is the tendered amount
    assert _cited(body, "total") == "Tota1RM15.40"
    tail = [
        (200, 300, "PLUS 500ML"), (400, 300, "2.28"), (200, 330, "SUBIUIAL"), (400, 330, "2.28"),
        (200, 360, "IUIAL (GSI INUL)"), (400, 360, "2.28"), (200, 390, "LASH"), (400, 390, "5.00"),
        (200, 420, "TAX TUTAL:"), (400, 420, "0.13"),
    ]  # fmt: skip
    body = run_extraction(_as_ocr(parse(_head(tmp_path / "t.pdf", head, tail))), RECEIPT_SCHEMA)
    assert body["results"]["total"] == "2.28"
    assert _cited(body, "total") == "2.28"
    assert 350 < _top_pt(body, "total") < 370  # the total's line, not the subtotal's


def test_an_item_name_under_a_total_column_heading_is_no_amount(tmp_path, parse):
    head = ["KEDAI MAJU SDN BHD", "NO 3, JALAN BESAR,", "CASH RECEIPT"]
    lines = [
        *[(50, 60 + 13 * i, text) for i, text in enumerate(head)],
        (50, 120, "Qty Desc Total"), (50, 133, "PRISTIN OMEGA-3 FISH OIL 2X150'S(VIP)"),
        (68, 146, "1 209250 300.00 300"),
    ]  # fmt: skip
    body = run_extraction(_as_ocr(parse(lines_pdf(tmp_path / "i.pdf", lines))), RECEIPT_SCHEMA)
    assert body["results"]["total"] is None  # no total line is printed; the item's name under 'Total' is none


def test_a_country_cut_short_ends_the_address_and_an_accepted_total_is_tendered(tmp_path, parse):
    head = [
        "POPULAR BOOK CO. (M) SDN BHD",
        "No 8, Jalan 7/118B, Desa Tun Razak",
        "56000 Kuala Lumpur, Malaysi.",
        "101 MALL",
        "Tel : 03-80709188",
    ]
    tail = [
        (200, 300, "Pay parking ticket 1.50 RM"), (200, 330, "Total amount 1.50 RM"),
        (200, 360, "Accepted total 2.00 RM"), (200, 390, "Change 0.50 RM"),
    ]  # fmt: skip
    body = run_extraction(parse(_head(tmp_path / "c.pdf", head, tail)), RECEIPT_SCHEMA)
    # The branch under the address is left out once the address has reached its country, even cut short.
    assert body["results"]["address"] == "No 8, Jalan 7/118B, Desa Tun Razak 56000 Kuala Lumpur, Malaysi."
    assert _cited(body, "address") == "No 8, Jalan 7/118B, Desa Tun Razak 56000 Kuala Lumpur, Malaysi."
    assert body["results"]["total"] == "1.50"  # what the machine accepted is the tendered amount
    assert _cited(body, "total") == "1.50"
    assert 320 < _top_pt(body, "total") < 340  # on the 'Total amount' line


def test_a_name_cut_at_its_number_inside_the_line_and_a_split_word_joined_from_its_other_print(tmp_path, parse):
    head = [
        "TQ FOR SHOPPING WITH myNEWS.com",
        "OASIS VILLAGE",
        "LOUNGE 2, GROUND FLOOR, OASIS VILLAGE,NO 2,",
        "47301,PETALING JAYA,SELANGOR",
        "MYNEWS RETAIL SB(306295-X) FKA BISON STORES SB",
        "TAX REG ID CBP 000709361664",
    ]
    body = run_extraction(_as_ocr(parse(_head(tmp_path / "m.pdf", head))), RECEIPT_SCHEMA)
    # 'SB' is a legal form; the former name after the registration number is no part of the name.
    assert body["results"]["company"] == "MYNEWS RETAIL SB"
    assert _cited(body, "company") == "MYNEWS RETAIL SB(306295-X)"  # the word the number is run into is cited whole
    head = ["ENW Hardwar e Centre (M) Sdn. Bhd.", "No: G3, Blk G, Jln PJU 1A/3,", "47301 Petaling Jaya,"]
    tail = [*TAIL, (200, 460, "Thank you for shopping at ENW Hardware Centre")]
    pdf = _head(tmp_path / "h.pdf", head, tail)
    body = run_extraction(_as_ocr(parse(pdf)), RECEIPT_SCHEMA)
    assert body["results"]["company"] == "ENW Hardware Centre (M) Sdn. Bhd."
    assert _cited(body, "company") == "ENW Hardwar e Centre (M) Sdn. Bhd."
    # Not printed whole anywhere else: the pieces stay as OCR read them.
    body = run_extraction(_as_ocr(parse(_head(tmp_path / "n.pdf", head))), RECEIPT_SCHEMA)
    assert body["results"]["company"] == "ENW Hardwar e Centre (M) Sdn. Bhd."

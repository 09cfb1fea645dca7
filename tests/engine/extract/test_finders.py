"""Typed finders and zones (finders.py) on small generated documents whose values no label names.

Each document is drawn with PyMuPDF, parsed by the engine and extracted with a schema whose descriptions say
what a new user would write; the values, their confidence and their cited words are asserted.
"""

from __future__ import annotations

from tasks_app.engine import run_extraction
from tasks_app.engine.extract.coerce import parse_date

from .helpers import lines_pdf


def _cited(body: dict, key: str) -> str:
    return " ".join(c["content"] for c in body["citations"][key])


RECEIPT_SCHEMA = {
    "type": "object",
    "properties": {
        "company": {
            "type": "string",
            "description": "Name of the shop that issued the receipt, usually the first line",
        },
        "date": {"type": "string", "description": "Date of the receipt as printed"},
        "address": {"type": "string", "description": "Postal address of the shop, all its lines"},
        "total": {"type": "string", "description": "Total amount paid, the final total at the end"},
    },
}


def test_a_receipt_gives_its_unlabelled_shop_multi_line_address_date_and_final_total(tmp_path, parse):
    pdf = lines_pdf(
        tmp_path / "receipt.pdf",
        [
            (200, 60, "KEDAI RUNCIT MAJU JAYA SDN BHD"),
            (250, 74, "(123456-X)"),
            (200, 88, "NO. 12, JALAN MERANTI 3,"),
            (200, 102, "TAMAN BUKIT INDAH, 81200 JOHOR BAHRU,"),
            (200, 116, "JOHOR."),
            (200, 130, "TEL: 07-555 1234"),
            (200, 160, "CASH BILL"),
            (200, 174, "14/03/2019 10:21:05 AM"),
            (200, 200, "SUGAR 1KG"),
            (400, 200, "2.90"),
            (200, 214, "RICE 5KG"),
            (400, 214, "16.50"),
            (200, 240, "TOTAL INCL GST"),
            (400, 240, "19.41"),
            (200, 254, "ROUNDING ADJ"),
            (400, 254, "-0.01"),
            (200, 268, "TOTAL"),
            (400, 268, "19.40"),
            (200, 282, "CASH"),
            (400, 282, "50.00"),
        ],
    )
    body = run_extraction(parse(pdf), RECEIPT_SCHEMA)
    assert body["results"] == {
        "company": "KEDAI RUNCIT MAJU JAYA SDN BHD",
        "date": "14/03/2019",  # the date's words, not the time printed after it
        "address": "NO. 12, JALAN MERANTI 3, TAMAN BUKIT INDAH, 81200 JOHOR BAHRU, JOHOR.",
        "total": "19.40",  # after the rounding line, not the larger unrounded total or the cash tendered
    }
    # A multi-line address cites every line of it, one box per line, and nothing else.
    assert _cited(body, "address") == body["results"]["address"]
    assert sum(len(c["bboxes"]) for c in body["citations"]["address"]) == 3
    assert _cited(body, "date") == "14/03/2019"
    assert body["metrics"]["company"] == {"confidence": "Low"}


def test_a_shop_name_with_its_registration_number_on_the_line_and_ocr_glued_dates(tmp_path, parse):
    """What OCR gives on real receipts: the registration number printed after the name on the same line (the line is
    still the name, not the address under it), and a date run into its label's colon or its time."""
    head = [
        (200, 60, "99 SPEED MART S/B (519537-X)"),
        (200, 74, "LOT P.T. 2811, JALAN ANGSA,"),
        (200, 88, "TAMAN BERKELEY"),
        (200, 102, "41150 KLANG, SELANGOR"),
    ]
    tail = [(200, 160, "BREAD"), (400, 160, "3.10"), (200, 186, "TOTAL"), (400, 186, "3.10")]
    for n, (printed, date) in enumerate(
        [("DATE:21-03-2018", "21-03-2018"), ("21-03-201813:29:51", "21-03-2018"), ("30/04/2017(9un)", "30/04/2017")]
    ):
        pdf = lines_pdf(tmp_path / f"receipt{n}.pdf", [*head, (200, 130, printed), *tail])
        body = run_extraction(parse(pdf), RECEIPT_SCHEMA)
        assert body["results"]["company"] == "99 SPEED MART S/B", printed  # the name, not its number
        assert body["results"]["address"] == "LOT P.T. 2811, JALAN ANGSA, TAMAN BERKELEY 41150 KLANG, SELANGOR"
        # The date's characters, cited by the one word that holds them.
        assert body["results"]["date"] == date, printed
        assert date in _cited(body, "date") and _cited(body, "date") in printed
        assert sum(len(c["bboxes"]) for c in body["citations"]["date"]) == 1


def test_receipt_heads_as_real_ones_print_them(tmp_path, parse):
    """A legal form alone on the line under the name finishes it; a date or a tax number between the name and the
    address does not end the address before it starts; a postcode-and-city line is not a registration number; a
    document title OCR ran together ('TAXINVOICE') ends it."""
    tail = [(200, 200, "TEA"), (400, 200, "4.50"), (200, 226, "TOTAL"), (400, 226, "4.50")]
    cases = [
        (
            [
                "POPULAR BOOK",
                "CO. (M) SDN BHD",
                "05 Mar 2018 18:24",
                "12, Jalan Tampoi 7/4,Kawasan Perindustrian",
                "Tampoi,81200 Johor Bahru, Johor",
                "TAXINVOICE",
            ],
            "POPULAR BOOK CO. (M) SDN BHD",
            "12, Jalan Tampoi 7/4,Kawasan Perindustrian Tampoi,81200 Johor Bahru, Johor",
        ),
        (
            [
                "OLIVE9 PHARMACY SDN BHD",
                "GST/TAX NO: 000988880896",
                "69 JALAN NOVA U5/N, SEKSYEN U5",
                "40150 SHAH ALAM",
                "TEL: 03-77347762",
            ],
            "OLIVE9 PHARMACY SDN BHD",
            "69 JALAN NOVA U5/N, SEKSYEN U5 40150 SHAH ALAM",
        ),
    ]
    for n, (head, company, address) in enumerate(cases):
        lines = [(200, 60 + 14 * i, text) for i, text in enumerate(head)]
        body = run_extraction(parse(lines_pdf(tmp_path / f"head{n}.pdf", [*lines, *tail])), RECEIPT_SCHEMA)
        assert body["results"]["company"] == company
        assert body["results"]["address"] == address
        assert _cited(body, "address") == address


NDA_SCHEMA = {
    "type": "object",
    "properties": {
        "effective_date": {"type": "string", "format": "date", "description": "Date the agreement takes effect"},
        "jurisdiction": {"type": "string", "description": "State or country whose law governs the agreement"},
        "party": {"type": "array", "items": {"type": "string"}, "description": "Names of the parties"},
        "term": {"type": ["string", "null"], "description": "Duration of the agreement"},
    },
}

CONTRACT = [
    "MUTUAL NON-DISCLOSURE AGREEMENT",
    "",
    "This Mutual Non-Disclosure Agreement is entered into as of the 3rd day of March, 2011 by and between",
    'Bluewater Analytics, Inc., a Delaware corporation ("Bluewater"), and Harbor Point Capital LLC,',
    'a New York limited liability company ("Harbor").',
    "",
    "1. Each party shall keep the other party's Confidential Information in confidence.",
    "2. During the recipient's employment and for a period of one (1) year thereafter, it shall not solicit.",
    "3. This Agreement shall terminate two (2) years from the date first written above.",
    "4. This Agreement shall be governed by and construed in accordance with the laws of the State of",
    "New York, without regard to its conflict of laws principles.",
]


def test_a_contract_gives_parties_date_law_and_term_from_its_clauses(tmp_path, parse):
    pdf = lines_pdf(tmp_path / "nda.pdf", [(50, 60 + 14 * i, text) for i, text in enumerate(CONTRACT) if text], size=9)
    body = run_extraction(parse(pdf), NDA_SCHEMA)
    assert body["results"] == {
        "effective_date": "2011-03-03",  # "the 3rd day of March, 2011"
        "jurisdiction": "New York",  # "the laws of the State of New York", across a line break
        "party": ["Bluewater Analytics Inc.", "Harbor Point Capital LLC"],
        "term": "2 years",  # "two (2) years", the agreement's own; not the one-year employment covenant
    }
    assert _cited(body, "jurisdiction") == "New York,"  # exactly the words it came from (a citation cites words)
    assert _cited(body, "term") == "two (2) years"
    # A governing-law clause is the one kind of contract evidence measured >= 95 % precise.
    assert body["metrics"]["jurisdiction"] == {"confidence": "High"}
    assert body["metrics"]["term"] == {"confidence": "Low"}


def test_a_contract_that_states_no_term_gives_none(tmp_path, parse):
    lines = [t for t in CONTRACT if not t.startswith("3.")]
    pdf = lines_pdf(tmp_path / "nda.pdf", [(50, 60 + 14 * i, text) for i, text in enumerate(lines) if text], size=9)
    body = run_extraction(parse(pdf), NDA_SCHEMA)
    assert body["results"]["term"] is None


INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "issuer": {"type": "string", "description": "Company that issued the invoice"},
        "invoice_number": {"type": "string"},
        "invoice_date": {"type": "string", "format": "date"},
        "total": {"type": "number", "description": "Grand total including VAT"},
        "vat_rate": {"type": "number", "description": "VAT rate in percent"},
        "line_items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "quantity": {"type": "number"},
                    "unit_price": {"type": "number"},
                    "amount": {"type": "number"},
                },
            },
        },
    },
}


def test_a_german_invoice_gives_its_title_number_day_first_date_and_items_by_arithmetic(tmp_path, parse):
    pdf = lines_pdf(
        tmp_path / "rechnung.pdf",
        [
            (50, 50, "Wolkenbau GmbH · Lindenweg 4 · 10115 Berlin"),
            (50, 100, "Kunde AG"),
            (50, 114, "Hauptstraße 1"),
            (50, 128, "80331 München"),
            (50, 180, "Rechnung Nr. RE-2023-117 vom 01.11.2023"),
            (50, 230, "Pos"),
            (80, 230, "Bezeichnung"),
            (300, 230, "Anzahl"),
            (370, 230, "Einzel"),
            (460, 230, "Netto"),
            (50, 248, "1"),
            (80, 248, "Gerüstmontage"),
            (300, 248, "3"),
            (370, 248, "120,00"),
            (460, 248, "360,00"),
            (50, 266, "2"),
            (80, 266, "Anfahrt"),
            (300, 266, "1"),
            (370, 266, "45,50"),
            (460, 266, "45,50"),
            (300, 300, "Netto"),
            (460, 300, "405,50"),
            (300, 314, "USt. (19 %)"),
            (460, 314, "77,05"),
            (300, 328, "Brutto"),
            (460, 328, "482,55"),
            (50, 700, "Wolkenbau GmbH · Geschäftsführer: K. Berg · Amtsgericht Berlin HRB 1"),
        ],
    )
    body = run_extraction(parse(pdf), INVOICE_SCHEMA)
    got = body["results"]
    assert got["issuer"] == "Wolkenbau GmbH"  # the legal-form name printed twice, not the buyer's
    assert got["invoice_number"] == "RE-2023-117"
    assert got["invoice_date"] == "2023-11-01"  # 01.11.2023 is day-first
    assert got["total"] == 482.55  # the gross total, not the net one
    assert got["vat_rate"] == 19
    assert [(r["quantity"], r["unit_price"], r["amount"]) for r in got["line_items"]] == [
        (3, 120, 360),
        (1, 45.5, 45.5),
    ]
    assert _cited(body, "invoice_number") == "RE-2023-117"
    assert body["metrics"]["invoice_number"] == {"confidence": "High"}


def test_written_dates_in_several_languages_parse():
    assert parse_date("the 3rd day of March, 2011")[0].date().isoformat() == "2011-03-03"
    assert parse_date("11. Juli 2014")[0].date().isoformat() == "2014-07-11"
    assert parse_date("1er novembre 2023")[0].date().isoformat() == "2023-11-01"
    assert parse_date("21 maart 2016")[0].date().isoformat() == "2016-03-21"
    assert parse_date("01.11.2023", day_first=True)[0].date().isoformat() == "2023-11-01"

"""What an invoice's head and foot say. Whose name is it: the issuer under a seller heading, a letterhead no larger
than the text under it. The title line's number and date. Totals printed as a row of labels over their amounts.

E-invoice visualisations print 'Name:' twice, once under 'Verkäufer' (seller) and once under 'Käufer' (buyer); many
invoices print the issuer's name as the first line in body size, with the invoice's own heading the largest text on
the page. Small generated documents; values and cited words asserted."""

from __future__ import annotations

from tasks_app.engine import run_extraction

from .helpers import lines_pdf

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "issuer": {"type": "string", "description": "Name of the company that issued the invoice (the seller)"},
        "buyer": {"type": "string", "description": "Name of the customer the invoice is addressed to"},
        "total": {"type": "number", "description": "Grand total including VAT"},
    },
}


def _cited(body: dict, key: str) -> str:
    return " ".join(c["content"] for c in body["citations"][key])


def test_a_bare_name_label_belongs_to_the_party_heading_above_it(tmp_path, parse):
    pdf = lines_pdf(
        tmp_path / "visualisation.pdf",
        [
            (72, 60, "Handelsrechnung (380) Nr. R-17 vom 03.10.2024", 16),
            (72, 110, "Verkäufer"),
            (72, 126, "Nummer:"), (200, 126, "549910"),
            (72, 140, "Name:"), (200, 140, "Brotladen am Markt"),
            (72, 154, "Anschrift:"), (200, 154, "Marktplatz 3"),
            (200, 168, "DE 10115 Berlin"),
            (72, 210, "Käufer/Leistungsempfänger"),
            (72, 226, "Name:"), (200, 226, "Kantine Nord GmbH"),
            (72, 240, "Anschrift:"), (200, 240, "Hafenweg 9"),
            (72, 300, "Gesamtbetrag:"), (200, 300, "119,00 EUR"),
        ],
    )  # fmt: skip
    body = run_extraction(parse(pdf), INVOICE_SCHEMA)
    assert body["results"] == {"issuer": "Brotladen am Markt", "buyer": "Kantine Nord GmbH", "total": 119.0}
    assert _cited(body, "issuer") == "Brotladen am Markt"
    assert _cited(body, "buyer") == "Kantine Nord GmbH"


def test_the_issuer_is_the_first_name_when_only_the_invoice_heading_stands_out(tmp_path, parse):
    pdf = lines_pdf(
        tmp_path / "letterhead.pdf",
        [
            (72, 60, "Brightwater Studio"),
            (72, 74, "12 Harbour Lane"),
            (72, 88, "Bristol BS1 4QA"),
            (330, 120, "Cabinet Cactus"),
            (330, 134, "42 Rue de l'Audit"),
            (72, 180, "Invoice INV-2024/017", 20),
            (72, 210, "Invoice Date: 21/09/2024"),
            (72, 250, "Description"), (400, 250, "Amount"),
            (72, 266, "[DS-01] Logo design (2 rounds)"), (400, 266, "450.00"),
            (72, 300, "Total"), (400, 300, "450.00"),
        ],
    )  # fmt: skip
    body = run_extraction(
        parse(pdf), {"type": "object", "properties": {"issuer": INVOICE_SCHEMA["properties"]["issuer"]}}
    )
    assert body["results"] == {"issuer": "Brightwater Studio"}
    assert _cited(body, "issuer") == "Brightwater Studio"


def test_the_seller_block_under_its_heading_past_the_number_line_beats_the_buyers_repeated_legal_name(tmp_path, parse):
    pdf = lines_pdf(
        tmp_path / "blocks.pdf",
        [
            (72, 60, "Handelsrechnung Nr. 47110818 vom 31.10.2018", 16),
            (72, 110, "Verkäufer:"),
            (72, 126, "Nummer"), (140, 126, ": 12345676"),
            (72, 140, "Global Supplies Ltd."),
            (72, 154, "153 Victoria Street"),
            (72, 168, "GB SW1B 3BN London"),
            (72, 210, "Käufer/Leistungsempfänger:"),
            (72, 226, "Nummer"), (140, 226, ": 75969813"),
            (72, 240, "Metallbau Leipzig GmbH & Co. KG"),
            (72, 254, "Pappelallee 15"),
            (72, 300, "Abweichender Warenempfänger:"),
            (72, 316, "Metallbau Leipzig GmbH & Co. KG"),
            (72, 330, "Eichenpromenade 37"),
        ],
    )  # fmt: skip
    body = run_extraction(parse(pdf), INVOICE_SCHEMA)
    assert body["results"]["issuer"] == "Global Supplies Ltd."
    assert _cited(body, "issuer") == "Global Supplies Ltd."


HEAD_SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string", "description": "Invoice number"},
        "invoice_date": {"type": "string", "format": "date", "description": "Date the invoice was issued"},
    },
}


def test_the_title_line_gives_number_and_date_issued_at_or_with_the_type_repeated(tmp_path, parse):
    for n, (title, number, date) in enumerate(
        [
            ("Invoice # RE-20190610/507 issued at 2019-06-10", "RE-20190610/507", "2019-06-10"),
            ("Handelsrechnung (380) Nr. 47110815 vom 01.12.2025 - RECHNUNG", "47110815", "2025-12-01"),
        ]
    ):
        pdf = lines_pdf(
            tmp_path / f"title{n}.pdf",
            [
                (72, 60, "Stylesheet-Version: 2.6 vom 10.11.2025"),
                (72, 100, title, 14),
                (72, 140, "Leistungszeitraum: 01.11.2025 bis 30.11.2025"),
                (72, 200, "Gesamtbetrag:"), (200, 200, "119,00 EUR"),
            ],
        )  # fmt: skip
        body = run_extraction(parse(pdf), HEAD_SCHEMA)
        assert body["results"] == {"invoice_number": number, "invoice_date": date}, title
        assert _cited(body, "invoice_number") == number


def test_a_row_of_total_labels_over_their_amounts_gives_the_grand_total_not_a_smaller_amount_due(tmp_path, parse):
    pdf = lines_pdf(
        tmp_path / "totals-row.pdf",
        [
            (72, 60, "LE FOURNISSEUR"),
            (72, 100, "Facture N° F20180027 du 31/12/2018", 14),
            (72, 160, "Désignation"), (400, 160, "Total HT"),
            (72, 176, "Prestation de conseil"), (400, 176, "100,00"),
            (72, 300, "TVA acquittée sur les encaissements"),
            (330, 300, "TOTAL HT"), (410, 300, "TOTAL TVA"), (490, 300, "TOTAL TTC"),
            (72, 316, "Tout retard de paiement engendre une pénalité"),
            (335, 316, "100,00"), (418, 316, "10,00"), (495, 316, "110,00"),
            (72, 350, "Date d'échéance : 30/01/2019"), (330, 350, "NET A PAYER"), (490, 350, "100,00 EUR"),
        ],
    )  # fmt: skip
    body = run_extraction(parse(pdf), INVOICE_SCHEMA)
    assert body["results"]["total"] == 110.0
    assert _cited(body, "total") == "110,00"


def test_a_credit_notes_totals_row_under_padding_and_beside_running_text(tmp_path, parse):
    pdf = lines_pdf(
        tmp_path / "credit-row.pdf",
        [
            (72, 60, "LE FOURNISSEUR"),
            (72, 100, "Avoir N° A2022-004 du 02/02/2022", 14),
            (330, 300, "TOTAL HT"), (410, 300, "TOTAL TVA"), (490, 300, "TOTAL TTC"),
            (72, 309, "Tout retard de paiement engendre une pénalité"),
            (72, 318, "de trois fois le taux d'intérêt légal."),
            (72, 331, "Les règlements reçus avant l'échéance."),
            (335, 329, "-100,00"), (418, 329, "0,00"), (495, 329, "-100,00"),
            (72, 360, "Date d'échéance : 02/03/2022"), (330, 360, "NET A PAYER"), (490, 360, "-90,00 EUR"),
        ],
    )  # fmt: skip
    body = run_extraction(parse(pdf), INVOICE_SCHEMA)
    assert body["results"]["total"] == -100.0
    assert _cited(body, "total") == "-100,00"


def test_the_gross_total_beats_the_amount_left_to_pay_after_a_deposit(tmp_path, parse):
    pdf = lines_pdf(
        tmp_path / "deposit.pdf",
        [
            (72, 60, "Rohstoff AG Salzgitter"),
            (72, 100, "Rechnung Nr. 47110815 vom 01.12.2025", 14),
            (300, 200, "Rechnungssumme ohne USt."), (480, 200, "858,75"),
            (300, 214, "Steuerbetrag"), (480, 214, "163,16"),
            (300, 228, "Bruttosumme"), (480, 228, "1.021,91"),
            (300, 242, "Erhaltene Anzahlungen"), (480, 242, "500,00"),
            (300, 256, "Zahlbetrag"), (480, 256, "521,91"),
        ],
    )  # fmt: skip
    body = run_extraction(parse(pdf), INVOICE_SCHEMA)
    assert body["results"]["total"] == 1021.91
    assert _cited(body, "total") == "1.021,91"

"""Item tables whose rows take more than one text line (rows.py), on small generated PDFs.

Each layout is one that real e-invoices print (bench/extract_real.py, invoices-dev): the item's name on a line
above its numbers with details under them, notes between rows, headings only item tables use, an amount set a
little lower than the row's other numbers. Values, row counts and the cited words are asserted.
"""

from __future__ import annotations

from tasks_app.engine import run_extraction

from .helpers import check_citations, lines_pdf

SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
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


def _rows(body: dict) -> list[tuple]:
    return [(r["description"], r["quantity"], r["unit_price"], r["amount"]) for r in body["results"]["line_items"]]


def _cited(body: dict, i: int, key: str) -> str:
    return " ".join(c["content"] for c in body["citations"]["line_items"][i][key])


def test_an_item_named_on_the_line_above_its_numbers_keeps_its_name_and_not_the_details_below(tmp_path, parse):
    # Factur-X style: a reference line, the name, then the numbers and a period under them, all within one
    # row band; the next row starts after a wider gap. The description is the name printed above the numbers.
    lines = [(50, 50, "FACTURE N° : F-2024-117")]
    lines += [(50, 120, "Ligne"), (80, 120, "Code article"), (160, 120, "Désignation"), (300, 120, "P.U. HT"),
              (370, 120, "Qté"), (430, 120, "Total HT"), (500, 120, "TVA")]  # fmt: skip
    items = [
        ("Prestation support", "60,00", "2,00", "120,00", "Période du 01/12/2024 au 31/12/2024"),
        ("Fournitures diverses", "10,00", "3,00", "30,00", "Livrées le 05/12/2024"),
        ("Appel", "5,00", "1,00", "5,00", "Date : 10/12/2024"),
    ]
    y = 130
    for n, (name, price, qty, amount, detail) in enumerate(items, start=1):
        lines += [(80, y, f"# BC: {n}")]
        lines += [(160, y + 8, name)]
        lines += [(52, y + 16, str(n)), (300, y + 16, price), (340, y + 16, "PCE"), (370, y + 16, qty),
                  (430, y + 16, amount), (500, y + 16, "20,00%")]  # fmt: skip
        lines += [(160, y + 24, detail)]
        y += 50
    lines += [(160, y + 30, "REMISE : Remise commerciale"), (430, y + 30, "-5,00"), (500, y + 30, "20,00%")]
    lines += [(300, y + 80, "TOTAL TTC"), (430, y + 80, "180,00")]
    pdf = lines_pdf(tmp_path / "facture.pdf", lines, size=8)
    body = run_extraction(parse(pdf), SCHEMA)
    assert _rows(body) == [
        ("Prestation support", 2, 60, 120),
        ("Fournitures diverses", 3, 10, 30),
        ("Appel", 1, 5, 5),
    ]
    assert _cited(body, 0, "description") == "Prestation support"
    assert _cited(body, 1, "amount") == "30,00"
    check_citations(pdf, body)


def test_notes_between_rows_do_not_end_the_table_and_another_tables_row_is_no_item(tmp_path, parse):
    # Stylesheet rendering of a ZUGFeRD invoice: headings "Nettopreis", "Menge Einheit", "Nettobetrag", each
    # row followed by labelled notes; then the VAT breakdown table, whose row has numbers under the same x.
    lines = [(50, 50, "Rechnung Nr. R-4711")]
    lines += [(50, 120, "Pos"), (90, 120, "Beschreibung"), (250, 120, "Nettopreis"), (330, 120, "Menge Einheit"),
              (430, 120, "Steuersatz"), (500, 120, "Nettobetrag")]  # fmt: skip
    lines += [(50, 140, "1"), (90, 140, "Windschutzscheibe"), (250, 140, "100,00"), (330, 140, "10 Stk"),
              (430, 140, "19 %"), (500, 140, "1000,00")]  # fmt: skip
    lines += [(90, 152, "Preisbasis:"), (250, 152, "1 Stk")]
    lines += [(90, 164, "Bruttopreis :100,00")]
    lines += [(90, 182, "* Herkunftsland: DE")]
    lines += [(90, 194, "* Bestellung Nr. ORDER-1 Zeile 1")]
    lines += [(50, 214, "2"), (90, 214, "Stadtfahrt je km"), (250, 214, "2,00"), (330, 214, "6 Stk"),
              (430, 214, "7 %"), (500, 214, "13,00")]  # fmt: skip
    lines += [(90, 226, "Preisbasis:"), (250, 226, "1 Stk")]
    lines += [(50, 262, "Umsatzsteueraufschlüsselung")]
    lines += [(50, 282, "Art (Kategorie)"), (170, 282, "Warenwert"), (330, 282, "Basisbetrag"),
              (430, 282, "Steuersatz"), (500, 282, "Steuerbetrag")]  # fmt: skip
    lines += [(50, 298, "Umsatzsteuer (S)"), (330, 298, "1013,00"), (430, 298, "19"), (500, 298, "192,47")]
    pdf = lines_pdf(tmp_path / "rechnung.pdf", lines, size=9)
    body = run_extraction(parse(pdf), SCHEMA)
    # 6 x 2,00 is not 13,00 (the quantity is rounded for print): the headings name the price and the amount.
    assert _rows(body) == [("Windschutzscheibe", 10, 100, 1000), ("Stadtfahrt je km", 6, 2, 13)]
    assert _cited(body, 1, "unit_price") == "2,00"
    check_citations(pdf, body)


def test_an_amount_printed_under_the_rows_numbers_joins_the_row_and_a_long_note_stays_out(tmp_path, parse):
    lines = [(50, 50, "Rechnung Nr. 2018-31")]
    lines += [(50, 120, "Pos"), (90, 120, "Beschreibung"), (250, 120, "Nettopreis"), (330, 120, "Menge"),
              (400, 120, "Steuersatz"), (500, 120, "Nettobetrag")]  # fmt: skip
    y = 145
    for n, (name, price, qty, amount) in enumerate(
        [("Physiotherapie", "26,00", "10", "260,00"), ("Hausbesuch", "12,00", "10", "120,00")]
    ):
        lines += [(50, y, str(n)), (90, y, name), (250, y, price), (330, y, qty), (400, y, "0 %")]
        lines += [(500, y + 10, amount)]
        lines += [(90, y + 34, "Behandlungen an folgenden Terminen: 11.09.2018; 14.09.2018;")]
        lines += [(90, y + 46, "19.09.2018; 24.09.2018")]
        y += 80
    pdf = lines_pdf(tmp_path / "rechnung.pdf", lines, size=9)
    body = run_extraction(parse(pdf), SCHEMA)
    assert _rows(body) == [("Physiotherapie", 10, 26, 260), ("Hausbesuch", 10, 12, 120)]
    assert _cited(body, 0, "amount") == "260,00"
    check_citations(pdf, body)


def test_a_heading_a_line_above_the_header_names_its_column_and_allowances_under_the_items_are_none(tmp_path, parse):
    # 'Total HT' is printed a line above the other headings; no row multiplies out (a line discount sits
    # between), so the amounts come from that heading. The document-level allowances and charges printed
    # under the items, after a wider gap, are not items.
    lines = [(50, 50, "FACTURE N° : F-2024-118")]
    lines += [(300, 112, "Remise (-)"), (430, 112, "Total HT")]
    lines += [(50, 120, "Ligne"), (160, 120, "Désignation"), (250, 120, "P.U. HT"), (370, 120, "Qté"),
              (500, 120, "TVA")]  # fmt: skip
    items = [
        ("Fournitures papier", "10,00", "3,00", "-2,00", "28,00"),
        ("Cartouches", "25,00", "2,00", "-5,00", "45,00"),
    ]
    y = 140
    for n, (name, price, qty, off, amount) in enumerate(items, start=1):
        lines += [(50, y, str(n)), (160, y, name), (250, y, price), (370, y, qty), (300, y, off), (430, y, amount),
                  (500, y, "10,00%")]  # fmt: skip
        y += 16
    for label, base, value in [("Remise commerciale", "5,00% sur 73,00", "-3,65"),
                                ("Frais de port", "1,00% sur 73,00", "0,73")]:  # fmt: skip
        y += 22
        lines += [(160, y, label), (340, y, base), (430, y, value), (500, y, "10,00%")]
    pdf = lines_pdf(tmp_path / "facture.pdf", lines, size=9)
    body = run_extraction(parse(pdf), SCHEMA)
    assert [(r["description"], r["quantity"], r["amount"]) for r in body["results"]["line_items"]] == [
        ("Fournitures papier", 3, 28),
        ("Cartouches", 2, 45),
    ]
    assert _cited(body, 1, "amount") == "45,00"
    check_citations(pdf, body)


def test_in_a_dense_table_a_line_held_under_one_row_is_not_the_name_of_the_next(tmp_path, parse):
    # Every line is tight here: the second line of the first item (two cells, no number) sits as close to the
    # second row as to the first, so it is no name set above the second row's numbers.
    lines = [(50, 50, "Invoice INV-2031")]
    lines += [(50, 100, "Description"), (200, 100, "SKU"), (300, 100, "Qty"), (360, 100, "Unit price"),
              (450, 100, "Amount")]  # fmt: skip
    lines += [(50, 111, "Widget deluxe"), (200, 111, "W-1"), (300, 111, "2"), (360, 111, "10.00"), (450, 111, "20.00")]
    lines += [(50, 122, "with blue handle"), (200, 122, "spare kit")]
    lines += [(50, 133, "Gadget"), (200, 133, "G-2"), (300, 133, "1"), (360, 133, "5.00"), (450, 133, "5.00")]
    lines += [(360, 150, "Total"), (450, 150, "25.00")]
    pdf = lines_pdf(tmp_path / "invoice.pdf", lines, size=9)
    body = run_extraction(parse(pdf), SCHEMA)
    assert _rows(body) == [("Widget deluxe", 2, 10, 20), ("Gadget", 1, 5, 5)]
    check_citations(pdf, body)

"""Generated business documents (PyMuPDF) with the schema and the values a reader would extract.

Layouts and label wordings vary on purpose: inline `Label: value`, label-left grids without colons,
label-above-value boxes, checkboxes, tables with different header words, European and US number and
date formats, a receipt, a two-page contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymupdf

W, H = 612, 792


def _t(page: pymupdf.Page, x: float, y: float, text: str, size: float = 10, bold: bool = False) -> None:
    page.insert_text((x, y), text, fontsize=size, fontname="hebo" if bold else "helv")


def _table(page, x_cols, y, header, rows, size=10, pitch=16, right=()):
    for x, h in zip(x_cols, header, strict=True):
        _t(page, x, y, h, size, bold=True)
    for row in rows:
        y += pitch
        for i, (x, cell) in enumerate(zip(x_cols, row, strict=True)):
            if i in right:
                w = pymupdf.get_text_length(cell, fontname="helv", fontsize=size)
                _t(page, x + 60 - w, y, cell, size)
            else:
                _t(page, x, y, cell, size)
    return y


def _save(doc: pymupdf.Document, path: Path) -> Path:
    doc.save(path)
    doc.close()
    return path


INVOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Invoice",
    "properties": {
        "invoice_number": {"type": "string", "description": "Invoice number / ID"},
        "invoice_date": {"type": "string", "format": "date", "description": "Date the invoice was issued"},
        "due_date": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}], "default": None},
        "vendor_name": {"type": "string", "description": "Company that issued the invoice"},
        "customer": {"$ref": "#/$defs/Party"},
        "po_number": {"type": ["string", "null"], "title": "PO Number"},
        "subtotal": {"type": "number"},
        "tax": {"type": "number", "description": "Tax / VAT amount"},
        "total": {"type": "number", "description": "Total amount due"},
        "currency": {"type": "string", "enum": ["USD", "EUR", "GBP"]},
        "line_items": {"type": "array", "items": {"$ref": "#/$defs/LineItem"}},
    },
    "required": ["invoice_number", "total"],
    "$defs": {
        "Party": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "address": {"type": "string"}},
        },
        "LineItem": {
            "type": "object",
            "properties": {
                "description": {"type": "string"},
                "quantity": {"type": "integer"},
                "unit_price": {"type": "number"},
                "amount": {"type": "number", "description": "Line total"},
            },
        },
    },
}


def invoice_inline(path: Path) -> tuple[Path, dict, dict]:
    """US invoice: `Label: value` pairs, table with Description/Qty/Unit Price/Amount."""
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _t(page, 72, 60, "Acme Supplies Ltd", 18, bold=True)
    _t(page, 72, 76, "100 Market Street, Springfield, IL 62701", 9)
    _t(page, 430, 60, "INVOICE", 20, bold=True)
    _t(page, 380, 100, "Invoice Number: INV-2024-0042")
    _t(page, 380, 115, "Invoice Date: 03/15/2024")
    _t(page, 380, 130, "Due Date: 04/14/2024")
    _t(page, 380, 145, "PO Number: PO-7781")
    _t(page, 72, 110, "Bill To:", bold=True)
    _t(page, 72, 124, "Globex Corporation")
    _t(page, 72, 138, "42 Industrial Way")
    _t(page, 72, 152, "Portland, OR 97201")
    items = [
        ("Steel widgets, grade A", "12", "$15.00", "$180.00"),
        ("Copper fittings", "40", "$2.25", "$90.00"),
        ("Installation service", "3", "$120.00", "$360.00"),
        ("Shipping crate", "1", "$45.50", "$45.50"),
    ]
    y = _table(page, [72, 300, 380, 470], 200, ["Description", "Qty", "Unit Price", "Amount"], items, right=(2, 3))
    _t(page, 380, y + 40, "Subtotal:")
    _t(page, 470, y + 40, "$675.50")
    _t(page, 380, y + 56, "Sales Tax (8%):")
    _t(page, 470, y + 56, "$54.04")
    _t(page, 380, y + 72, "Total Due:", bold=True)
    _t(page, 470, y + 72, "$729.54", bold=True)
    _t(page, 72, y + 120, "Thank you for your business. Payment within 30 days.", 9)
    truth = {
        "invoice_number": "INV-2024-0042",
        "invoice_date": "2024-03-15",
        "due_date": "2024-04-14",
        "vendor_name": "Acme Supplies Ltd",
        "customer": {"name": "Globex Corporation", "address": "42 Industrial Way, Portland, OR 97201"},
        "po_number": "PO-7781",
        "subtotal": 675.5,
        "tax": 54.04,
        "total": 729.54,
        "currency": "USD",
        "line_items": [
            {"description": "Steel widgets, grade A", "quantity": 12, "unit_price": 15, "amount": 180},
            {"description": "Copper fittings", "quantity": 40, "unit_price": 2.25, "amount": 90},
            {"description": "Installation service", "quantity": 3, "unit_price": 120, "amount": 360},
            {"description": "Shipping crate", "quantity": 1, "unit_price": 45.5, "amount": 45.5},
        ],
    }
    return _save(doc, path), INVOICE_SCHEMA, truth


def invoice_grid(path: Path) -> tuple[Path, dict, dict]:
    """European invoice: label-left grid without colons, 1.234,56 € amounts, dd.mm.yyyy dates."""
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _t(page, 72, 64, "Nordlicht GmbH", 20, bold=True)
    _t(page, 72, 80, "Hafenstrasse 12, 20457 Hamburg", 9)
    _t(page, 72, 120, "Rechnung / Invoice", 14, bold=True)
    grid = [("Invoice No.", "RE-88213"), ("Date of issue", "02.09.2024"), ("Payment due", "16.09.2024"),
            ("Order number", "4500012345")]  # fmt: skip
    y = 150
    for label, value in grid:
        _t(page, 72, y, label)
        _t(page, 200, y, value)
        y += 15
    _t(page, 360, 150, "Customer", bold=True)
    _t(page, 360, 165, "Blue Harbour Trading BV")
    _t(page, 360, 180, "Keizersgracht 221")
    _t(page, 360, 195, "1016 DV Amsterdam")
    items = [
        ("Consulting hours", "16", "95,00 EUR", "1.520,00 EUR"),
        ("Travel expenses", "1", "310,40 EUR", "310,40 EUR"),
        ("Licence renewal", "2", "1.250,00 EUR", "2.500,00 EUR"),
    ]
    y = _table(page, [72, 290, 360, 460], 260, ["Item", "Quantity", "Price", "Total"], items, right=(2, 3))
    _t(page, 340, y + 36, "Net amount")
    _t(page, 460, y + 36, "4.330,40 EUR")
    _t(page, 340, y + 52, "VAT 19%")
    _t(page, 460, y + 52, "822,78 EUR")
    _t(page, 340, y + 68, "Amount payable", bold=True)
    _t(page, 460, y + 68, "5.153,18 EUR", bold=True)
    truth = {
        "invoice_number": "RE-88213",
        "invoice_date": "2024-09-02",
        "due_date": "2024-09-16",
        "vendor_name": "Nordlicht GmbH",
        "customer": {"name": "Blue Harbour Trading BV", "address": "Keizersgracht 221, 1016 DV Amsterdam"},
        "po_number": "4500012345",
        "subtotal": 4330.4,
        "tax": 822.78,
        "total": 5153.18,
        "currency": "EUR",
        "line_items": [
            {"description": "Consulting hours", "quantity": 16, "unit_price": 95, "amount": 1520},
            {"description": "Travel expenses", "quantity": 1, "unit_price": 310.4, "amount": 310.4},
            {"description": "Licence renewal", "quantity": 2, "unit_price": 1250, "amount": 2500},
        ],
    }
    return _save(doc, path), INVOICE_SCHEMA, truth


def invoice_boxes(path: Path) -> tuple[Path, dict, dict]:
    """Labels above values (header boxes), a wrapped line-item description, £ amounts."""
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _t(page, 72, 60, "Brightside Design Studio", 16, bold=True)
    _t(page, 72, 100, "INVOICE #", 8, bold=True)
    _t(page, 72, 113, "BDS-1007")
    _t(page, 200, 100, "ISSUE DATE", 8, bold=True)
    _t(page, 200, 113, "5 March 2024")
    _t(page, 330, 100, "DUE DATE", 8, bold=True)
    _t(page, 330, 113, "4 April 2024")
    _t(page, 460, 100, "PURCHASE ORDER", 8, bold=True)
    _t(page, 460, 113, "PO 5521")
    _t(page, 72, 150, "BILLED TO", 8, bold=True)
    _t(page, 72, 163, "Oakridge Dental Clinic")
    _t(page, 72, 176, "9 Elm Row")
    _t(page, 72, 189, "Bristol BS1 4QA")
    header = ["Service", "Hrs", "Rate", "Line Total"]
    xs = [72, 330, 400, 480]
    for x, h in zip(xs, header, strict=True):
        _t(page, x, 240, h, 10, bold=True)
    rows = [
        ("Brand identity workshop", "6", "£80.00", "£480.00"),
        ("Logo design and two", "10", "£65.00", "£650.00"),
        ("rounds of revisions", None, None, None),
        ("Print-ready artwork", "4", "£65.00", "£260.00"),
    ]
    y = 240
    for d, q, r, a in rows:
        y += 16
        _t(page, 72, y, d)
        if q:
            _t(page, 330, y, q)
            _t(page, 400, y, r)
            _t(page, 480, y, a)
    _t(page, 400, y + 40, "SUBTOTAL", 9, bold=True)
    _t(page, 480, y + 40, "£1,390.00")
    _t(page, 400, y + 55, "VAT", 9, bold=True)
    _t(page, 480, y + 55, "£278.00")
    _t(page, 400, y + 70, "TOTAL", 9, bold=True)
    _t(page, 480, y + 70, "£1,668.00")
    truth = {
        "invoice_number": "BDS-1007",
        "invoice_date": "2024-03-05",
        "due_date": "2024-04-04",
        "vendor_name": "Brightside Design Studio",
        "customer": {"name": "Oakridge Dental Clinic", "address": "9 Elm Row, Bristol BS1 4QA"},
        "po_number": "PO 5521",
        "subtotal": 1390,
        "tax": 278,
        "total": 1668,
        "currency": "GBP",
        "line_items": [
            {"description": "Brand identity workshop", "quantity": 6, "unit_price": 80, "amount": 480},
            {"description": "Logo design and two rounds of revisions", "quantity": 10, "unit_price": 65,
             "amount": 650},
            {"description": "Print-ready artwork", "quantity": 4, "unit_price": 65, "amount": 260},
        ],
    }  # fmt: skip
    return _save(doc, path), INVOICE_SCHEMA, truth


FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "applicant": {
            "type": "object",
            "properties": {
                "full_name": {"type": "string", "title": "Full name"},
                "date_of_birth": {"type": "string", "format": "date"},
                "email": {"type": "string", "format": "email"},
                "phone": {"type": "string"},
            },
        },
        "employed": {"type": "boolean", "description": "Currently employed"},
        "marital_status": {"type": "string", "enum": ["Single", "Married", "Divorced", "Widowed"]},
        "annual_income": {"type": "number"},
        "policy_number": {"type": "string"},
        "start_date": {"type": "string", "format": "date"},
        "smoker": {"type": "boolean"},
    },
}


def form(path: Path) -> tuple[Path, dict, dict]:
    """Application form: label above value, checkboxes as [X]/[ ]."""
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _t(page, 72, 60, "Insurance Application Form", 18, bold=True)
    fields = [
        (72, 110, "Full Name", "Maria Gonzalez"),
        (320, 110, "Date of Birth", "July 4, 1988"),
        (72, 160, "Email Address", "maria.gonzalez@example.org"),
        (320, 160, "Telephone", "+1 415 555 0199"),
        (72, 210, "Policy No.", "HX-449-201"),
        (320, 210, "Requested start date", "2024-06-01"),
        (72, 260, "Annual income (USD)", "84,500"),
    ]
    for x, y, label, value in fields:
        _t(page, x, y, label, 8, bold=True)
        _t(page, x, y + 14, value, 11)
    _t(page, 72, 320, "Currently employed:")
    _t(page, 200, 320, "[X] Yes")
    _t(page, 260, 320, "[ ] No")
    _t(page, 72, 345, "Marital status:")
    _t(page, 200, 345, "[ ] Single")
    _t(page, 270, 345, "[X] Married")
    _t(page, 350, 345, "[ ] Divorced")
    _t(page, 72, 370, "Smoker:")
    _t(page, 200, 370, "[ ] Yes")
    _t(page, 260, 370, "[X] No")
    truth = {
        "applicant": {
            "full_name": "Maria Gonzalez",
            "date_of_birth": "1988-07-04",
            "email": "maria.gonzalez@example.org",
            "phone": "+1 415 555 0199",
        },
        "employed": True,
        "marital_status": "Married",
        "annual_income": 84500,
        "policy_number": "HX-449-201",
        "start_date": "2024-06-01",
        "smoker": False,
    }
    return _save(doc, path), FORM_SCHEMA, truth


RECEIPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "store_name": {"type": "string"},
        "receipt_number": {"type": "string"},
        "date": {"type": "string", "format": "date-time", "description": "Transaction date and time"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "Item name"},
                    "qty": {"type": "integer"},
                    "price": {"type": "number"},
                },
            },
        },
        "tax": {"type": "number"},
        "total": {"type": "number"},
        "payment_method": {"type": "string", "enum": ["Cash", "Visa", "Mastercard", "Amex"]},
    },
}


def receipt(path: Path) -> tuple[Path, dict, dict]:
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=600)
    _t(page, 40, 40, "GREEN GROCER MARKET", 14, bold=True)
    _t(page, 40, 56, "12 Baker Lane, Austin TX", 8)
    _t(page, 20, 90, "Receipt #: 000731")
    _t(page, 20, 104, "Date: 2024-02-10 14:32")
    _table(page, [20, 170, 230], 140, ["Item", "Qty", "Price"],
           [("Organic apples", "3", "4.50"), ("Whole milk 1L", "2", "2.98"), ("Sourdough loaf", "1", "5.25"),
            ("Free-range eggs", "1", "6.10")], size=9, pitch=14)  # fmt: skip
    _t(page, 20, 240, "Tax")
    _t(page, 230, 240, "1.51")
    _t(page, 20, 256, "TOTAL", bold=True)
    _t(page, 230, 256, "20.34", bold=True)
    _t(page, 20, 280, "Paid by: VISA **** 4821")
    truth = {
        "store_name": "GREEN GROCER MARKET",
        "receipt_number": "000731",
        "date": "2024-02-10T14:32:00",
        "items": [
            {"name": "Organic apples", "qty": 3, "price": 4.5},
            {"name": "Whole milk 1L", "qty": 2, "price": 2.98},
            {"name": "Sourdough loaf", "qty": 1, "price": 5.25},
            {"name": "Free-range eggs", "qty": 1, "price": 6.1},
        ],
        "tax": 1.51,
        "total": 20.34,
        "payment_method": "Visa",
    }
    return _save(doc, path), RECEIPT_SCHEMA, truth


CONTRACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "Title of the agreement"},
        "parties": {"type": "array", "items": {"type": "string"}, "description": "The contracting parties"},
        "effective_date": {"type": "string", "format": "date"},
        "monthly_fee": {"type": "number", "description": "Fee per month"},
        "term_months": {"type": "integer", "title": "Term (months)"},
        "governing_law": {"type": "string"},
        "notice_period_days": {"type": "integer", "title": "Notice period (days)"},
        "signed_date": {"type": "string", "format": "date", "title": "Date signed"},
    },
}


def contract(path: Path) -> tuple[Path, dict, dict]:
    """Two pages: running text with parties and date, a key terms table, a signature block on page 2."""
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    _t(page, 160, 80, "MASTER SERVICES AGREEMENT", 18, bold=True)
    body = (
        "This Master Services Agreement is entered into as of January 15, 2024 by and between Northwind "
        'Traders LLC ("Provider") and Contoso Holdings Inc. ("Client"). The Provider will deliver the '
        "services described in the statements of work agreed between the parties from time to time."
    )
    page.insert_textbox(pymupdf.Rect(72, 110, 540, 200), body, fontsize=10, fontname="helv")
    _t(page, 72, 230, "1. Key Terms", 13, bold=True)
    terms = [("Monthly fee", "USD 12,500.00"), ("Term (months)", "24"), ("Notice period (days)", "60")]
    y = 260
    for label, value in terms:
        _t(page, 72, y, label)
        _t(page, 260, y, value)
        y += 16
    page.insert_textbox(pymupdf.Rect(72, 330, 540, 420), "2. Services. " + body, fontsize=10, fontname="helv")
    page2 = doc.new_page(width=W, height=H)
    _t(page2, 72, 80, "3. Miscellaneous", 13, bold=True)
    _t(page2, 72, 110, "Governing Law: State of New York")
    page2.insert_textbox(pymupdf.Rect(72, 130, 540, 200), "Each party shall bear its own costs. " * 3,
                         fontsize=10, fontname="helv")  # fmt: skip
    _t(page2, 72, 300, "Signed for the Provider", 10, bold=True)
    _t(page2, 72, 330, "Name: Ellen Park")
    _t(page2, 72, 345, "Date signed: 2024-01-20")
    truth = {
        "title": "MASTER SERVICES AGREEMENT",
        "parties": ["Northwind Traders LLC", "Contoso Holdings Inc."],
        "effective_date": "2024-01-15",
        "monthly_fee": 12500,
        "term_months": 24,
        "governing_law": "State of New York",
        "notice_period_days": 60,
        "signed_date": "2024-01-20",
    }
    return _save(doc, path), CONTRACT_SCHEMA, truth


ALL = [invoice_inline, invoice_grid, invoice_boxes, form, receipt, contract]

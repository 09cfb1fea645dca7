"""Values read from a spreadsheet cite their cells (citation_type Cell, ss_ranges, ss_sheet_name; contract §9.13)."""

from __future__ import annotations

import pytest

from tasks_app.engine import ExtractOptions, MemorySink, parse_document, run_extraction
from tasks_app.engine.office import soffice_path
from tests.engine.conftest import options


@pytest.mark.skipif(soffice_path() is None, reason="LibreOffice (soffice) not installed")
def test_values_from_a_workbook_cite_their_cells(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Invoice"
    rows = [
        ("Invoice number", "INV-7731"),
        ("Customer", "Globex Corporation"),
        ("Due date", "2026-03-15"),
        ("Total", 1234.5),
    ]
    for row in rows:
        ws.append(row)
    # Columns wide enough for their text: LibreOffice cuts a cell's text at its border in the rendering, and the
    # extractor reads the rendered words.
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 28
    path = tmp_path / "invoice.xlsx"
    wb.save(path)
    sink = MemorySink()
    parsed = parse_document(path, options(segmentation_strategy="Page"), sink).to_dict(sink.url_for)

    schema = {
        "type": "object",
        "properties": {
            "invoice_number": {"type": "string"},
            "customer": {"type": "string"},
            "total": {"type": "number"},
        },
    }
    body = run_extraction(parsed, schema, ExtractOptions())
    assert body["results"] == {"invoice_number": "INV-7731", "customer": "Globex Corporation", "total": 1234.5}
    expected = {"invoice_number": ["B1"], "customer": ["B2"], "total": ["B4"]}
    for field, ranges in expected.items():
        (citation,) = body["citations"][field]
        assert citation["citation_type"] == "Cell", citation
        assert citation["ss_ranges"] == ranges
        assert citation["ss_sheet_name"] == "Invoice"
        assert citation["bboxes"]  # still boxes on the rendered page, for the viewer

"""Office conversion through LibreOffice, and spreadsheets' ss_* fields."""

import pytest

from tasks_app.engine import ConverterMissing, MemorySink, parse_document, sniff
from tasks_app.engine.office import soffice_path

from . import docs
from .conftest import options


def test_missing_converter_names_libreoffice(tmp_path, monkeypatch):
    path = docs.docx(tmp_path / "a.docx", ["Hello"])
    monkeypatch.setattr("tasks_app.engine.office.soffice_path", lambda: None)
    with pytest.raises(ConverterMissing) as exc:
        parse_document(path, options())
    assert "LibreOffice" in exc.value.user_message


@pytest.mark.skipif(soffice_path() is None, reason="LibreOffice (soffice) not installed")
def test_docx_converted_and_pdf_stored(tmp_path):
    path = docs.docx(tmp_path / "letter.bin", ["Quarterly letter to shareholders", docs.LOREM])
    assert sniff(path).kind == "docx"
    sink = MemorySink()
    result = parse_document(path, options(), sink)
    assert result.mime_type.endswith("wordprocessingml.document")
    assert result.pdf_key and sink.items[result.pdf_key][0].startswith(b"%PDF")
    text = " ".join(s.text for s in result.segments)
    assert "Quarterly letter to shareholders" in text and "reading order" in text


@pytest.mark.skipif(soffice_path() is None, reason="LibreOffice (soffice) not installed")
def test_xlsx_sheets_and_cells(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sales"
    ws.append(["Region", "Q1", "Q2", "Total"])
    for r, (a, b) in enumerate([(10, 20), (30, 40)], start=2):
        ws.append([f"R{r}", a, b, f"=B{r}+C{r}"])
    ws["A1"].font = Font(bold=True, color="FF0000", name="Arial")
    ws["A1"].fill = PatternFill("solid", fgColor="FFFF00")
    ws["A1"].alignment = Alignment(horizontal="center", vertical="top")
    ws.merge_cells("A5:B5")
    ws["A5"] = "Merged note"
    ws2 = wb.create_sheet("Costs")
    ws2.append(["Item", "Cost"])
    ws2.append(["Paper", 3.5])
    path = tmp_path / "book.xlsx"
    wb.save(path)

    result = parse_document(path, options())
    assert [p.ss_sheet_name for p in result.pages] == ["Sales", "Costs"]
    sales, costs = result.segments
    assert sales.segment_type == "Table" and sales.ss_sheet_name == "Sales"
    assert sales.ss_range == "A1:D5" and sales.ss_header_range == "A1:D1"
    assert sales.ss_header_text == "Region | Q1 | Q2 | Total"
    cells = {c.range: c for c in sales.ss_cells}
    assert cells["D2"].formula == "=B2+C2" and cells["D2"].text == "30"
    assert cells["A5:B5"].text == "Merged note"
    style = cells["A1"].style
    assert (style.align, style.valign, style.bg_color, style.text_color, style.font_face, style.is_bold) == (
        "Center",
        "Top",
        "#FFFF00",
        "#FF0000",
        "Arial",
        True,
    )
    assert '<td colspan="2">Merged note</td>' in sales.html
    assert "<th>Region</th>" in sales.content
    assert costs.ss_sheet_name == "Costs" and "Paper" in costs.text
    d = sales.to_dict(lambda k: k)
    assert d["ss_cells"][0]["style"]["is_bold"] is True


@pytest.mark.skipif(soffice_path() is None, reason="LibreOffice (soffice) not installed")
@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_xls_and_ods_fill_the_ss_fields_too(tmp_path, kind):
    """openpyxl reads only .xlsx; the engine has LibreOffice turn .xls / .ods into one first."""
    import subprocess

    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Budget"
    ws.append(["Item", "Cost", "Qty", "Total"])
    ws.append(["Paper", 3.5, 4, "=B2*C2"])
    ws.append(["Ink", 12, 2, "=B3*C3"])
    wb.create_sheet("Notes").append(["Approved by finance"])
    source = tmp_path / "book.xlsx"
    wb.save(source)
    out = tmp_path / "out"
    subprocess.run(
        [soffice_path(), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--convert-to",
         kind, "--outdir", str(out), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    path = tmp_path / f"workbook.{kind}.bin"  # the name says nothing; content decides
    (out / f"book.{kind}").rename(path)
    assert sniff(path).kind == kind

    result = parse_document(path, options())
    assert not [w for w in result.warnings if "ss_" in w or "Cell details" in w]
    assert [p.ss_sheet_name for p in result.pages] == ["Budget", "Notes"]
    budget, notes = result.segments
    assert budget.ss_range == "A1:D3" and budget.ss_header_text == "Item | Cost | Qty | Total"
    cells = {c.range: c for c in budget.ss_cells}
    assert cells["D2"].formula == "=B2*C2" and cells["D2"].text == "14"
    assert cells["D3"].text == "24" and cells["A3"].text == "Ink"
    assert notes.ss_sheet_name == "Notes" and "Approved by finance" in notes.text

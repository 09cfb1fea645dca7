from __future__ import annotations

import pymupdf
import pytest

from tasks_app.engine import ConfigError, ExtractOptions, run_extraction, split_document

from .docs import _t


def _packet(path):
    doc = pymupdf.open()
    texts = [
        ["INVOICE", "Invoice Number: A-1", "Total: $50.00", "Bill To: Globex"],
        ["Line items continued", "Widget 2 x 10.00"],
        ["INVOICE", "Invoice Number: A-2", "Total amount due: $75.00"],
        ["Employment contract", "This agreement between employer and employee sets salary and notice."],
        ["Weather report", "Sunny skies with light winds over the coast."],
    ]
    for lines in texts:
        page = doc.new_page(width=612, height=792)
        for i, line in enumerate(lines):
            _t(page, 72, 80 + 20 * i, line, 12)
    doc.save(path)
    return path


def test_offline_split_assigns_whole_pages_and_leaves_unmatched_pages_out(tmp_path, parse):
    output = parse(_packet(tmp_path / "p.pdf"))
    topics = [
        {"name": "Invoice", "description": "invoice with invoice number, total amount and bill to"},
        {"name": "Contract", "description": "employment agreement between employer and employee"},
    ]
    out = split_document(output, topics, ExtractOptions())
    assert out["topics"][0]["name"] == "Invoice" and out["topics"][0]["pages"] == [1, 2, 3]
    assert out["topics"][1]["pages"] == [4]
    assert out["unassigned_pages"] == [5]
    assert out["topics"][1]["confidence"] == "High"
    assert out["topics"][0]["confidence"] == "Low"  # page 2 joined only as a continuation page
    # Per-topic extraction: only the topic's pages are read; citations keep the original page numbers.
    schema = {"type": "object", "properties": {"invoice_number": {"type": "string"}}}
    body = run_extraction(output, schema, ExtractOptions(pages=(3,)))
    assert body["results"]["invoice_number"] == "A-2"
    assert body["citations"]["invoice_number"][0]["page_number"] == 3


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        ([], "topics: must be a non-empty array"),
        ([{"name": "a"}, {"name": "a"}], "topics[1].name: duplicate topic name 'a'"),
        ([{"description": "x"}], "topics[0].name: must be a non-empty string"),
        ([{"name": f"t{i}"} for i in range(51)], "at most 50 topics"),
    ],
)
def test_bad_topics_are_config_errors_naming_the_field(tmp_path, parse, topics, message):
    output = parse(_packet(tmp_path / "p.pdf"))
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        split_document(output, topics)

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tasks_app.engine import ExtractOptions, run_extraction

from . import docs
from .helpers import check_citations, compare, mirrors


def _run_all(tmp_path, parse):
    outcomes = []
    for gen in docs.ALL:
        pdf, schema, truth = gen(tmp_path / f"{gen.__name__}.pdf")
        body = run_extraction(parse(pdf), schema)
        outcomes.append((gen.__name__, pdf, truth, body))
    return outcomes


def test_offline_extractor_gets_at_least_95_percent_of_fields_exactly_right(tmp_path, parse):
    scored = []
    for name, _pdf, truth, body in _run_all(tmp_path, parse):
        scored += [(f"{name}{path}", ok) for path, ok in compare(body["results"], truth)]
    accuracy = sum(ok for _, ok in scored) / len(scored)
    misses = [p for p, ok in scored if not ok]
    assert len(scored) >= 100
    assert accuracy >= 0.95, f"accuracy {accuracy:.3f}; wrong: {misses}"


def test_every_cited_box_contains_the_words_of_its_value(tmp_path, parse):
    total = 0
    for _name, pdf, _truth, body in _run_all(tmp_path, parse):
        total += check_citations(pdf, body)
    assert total >= 100


@pytest.mark.parametrize("gen", [docs.invoice_inline, docs.invoice_grid, docs.invoice_boxes, docs.receipt])
def test_line_item_tables_come_back_with_every_row(tmp_path, parse, gen):
    pdf, schema, truth = gen(tmp_path / "doc.pdf")
    body = run_extraction(parse(pdf), schema)
    key = "items" if "items" in truth else "line_items"
    assert body["results"][key] == truth[key]
    assert len(body["citations"][key]) == len(truth[key])
    assert all(m == {"confidence": "High"} for row in body["metrics"][key] for m in row.values())


def test_nested_objects_and_arrays_of_objects_round_trip_with_mirrored_citations_and_metrics(tmp_path, parse):
    pdf, schema, truth = docs.invoice_inline(tmp_path / "inv.pdf")
    body = run_extraction(parse(pdf), schema)
    assert body["results"]["customer"] == truth["customer"]
    assert set(body["citations"]["customer"]) == {"name", "address"}
    assert body["citations"]["customer"]["address"][0]["content"] == "42 Industrial Way Portland, OR 97201"
    assert len(body["citations"]["customer"]["address"][0]["bboxes"]) == 2  # one box per line

    def metric(value, m):
        assert m["confidence"] in ("High", "Low")

    mirrors(body["results"], body["metrics"], metric)
    assert body["metrics"]["invoice_number"] == {"confidence": "High"}
    # No label names the vendor: found from the letterhead, so only Low confidence.
    assert body["metrics"]["vendor_name"] == {"confidence": "Low"}


def test_array_of_primitives_is_one_leaf_with_one_citation_list(tmp_path, parse):
    pdf, schema, truth = docs.contract(tmp_path / "c.pdf")
    body = run_extraction(parse(pdf), schema)
    assert body["results"]["parties"] == ["Northwind Traders LLC", "Contoso Holdings Inc."]
    cits = body["citations"]["parties"]
    assert isinstance(cits, list) and cits and all("bboxes" in c for c in cits)
    assert isinstance(body["metrics"]["parties"], dict)


def test_missing_fields_are_null_with_empty_citations_and_low_confidence(tmp_path, parse):
    pdf, _, _ = docs.receipt(tmp_path / "r.pdf")
    schema = {"type": "object", "properties": {"iban": {"type": ["string", "null"]}, "tags": {
        "type": "array", "items": {"type": "string"}}}}  # fmt: skip
    body = run_extraction(parse(pdf), schema)
    assert body == {
        "results": {"iban": None, "tags": []},
        "citations": {"iban": [], "tags": []},
        "metrics": {"iban": {"confidence": "Low"}, "tags": {"confidence": "Low"}},
    }


def test_extraction_restricted_to_pages_keeps_original_page_numbers(tmp_path, parse):
    pdf, schema, _ = docs.contract(tmp_path / "c.pdf")
    body = run_extraction(parse(pdf), schema, ExtractOptions(pages=(2,)))
    assert body["results"]["governing_law"] == "State of New York"
    assert body["citations"]["governing_law"][0]["page_number"] == 2
    assert body["results"]["monthly_fee"] is None  # on page 1


def test_cli_extract_prints_extract_output_and_rejects_bad_schema_in_one_line(tmp_path):
    pdf, schema, truth = docs.invoice_inline(tmp_path / "inv.pdf")
    (tmp_path / "s.json").write_text(json.dumps(schema))
    cmd = [sys.executable, "-m", "tasks_app.engine", "extract", str(pdf), "--schema", str(tmp_path / "s.json")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert set(body) == {"results", "citations", "metrics"}
    assert body["results"]["total"] == truth["total"]
    bad = [*cmd[:5], "--schema", '{"type": "object", "properties": {"x": {"type": "strng"}}}']
    done = subprocess.run(bad, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: Invalid schema at $.properties.x.type: unknown type 'strng'"
    missing = [sys.executable, "-m", "tasks_app.engine", "extract", str(tmp_path / "nope.pdf"), "--schema", "{}"]
    done = subprocess.run(missing, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_bad_parse_output_is_a_clear_engine_error():
    from tasks_app.engine import ParseOutputInvalid

    with pytest.raises(ParseOutputInvalid, match="chunks"):
        run_extraction({"pages": []}, {"type": "object", "properties": {"a": {"type": "string"}}})

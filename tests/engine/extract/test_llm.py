"""The LLM path against a real local OpenAI-compatible HTTP server answering from fixtures."""

from __future__ import annotations

import json
import re
import time

import pytest

from tasks_app.engine import ExtractOptions, LlmError, run_extraction, split_document

from ..llm_server import completion
from . import docs
from .helpers import check_citations


def seg_of(body: dict, text: str) -> int | None:
    user = body["messages"][-1]["content"]
    for line in user.splitlines():
        if text in line:
            return int(re.match(r"\[(\d+)\]", line).group(1))
    return None


def invoice_answer(body: dict) -> tuple[int, dict, float]:
    """What a good model answers for docs.invoice_inline, citing the segments it read."""
    data = {
        "invoice_number": "INV-2024-0042", "invoice_date": "2024-03-15", "due_date": None, "vendor_name": None,
        "customer": {"name": "Globex Corporation", "address": None}, "po_number": None, "subtotal": None,
        "tax": None, "total": "$729.54", "currency": "USD",
        "line_items": [{"description": "Copper fittings", "quantity": 40, "unit_price": 2.25, "amount": 90}],
    }  # fmt: skip
    sources = [
        {"field": "invoice_number", "segments": [seg_of(body, "INV-2024-0042")]},
        {"field": "invoice_date", "segments": [seg_of(body, "03/15/2024")]},
        {"field": "customer.name", "segments": [seg_of(body, "Globex")]},
        {"field": "total", "segments": [seg_of(body, "729.54")]},
        {"field": "line_items[0].quantity", "segments": [seg_of(body, "Copper fittings")]},
        {"field": "line_items[0].description", "segments": [seg_of(body, "Copper fittings")]},
    ]
    return 200, completion(json.dumps({"data": data, "sources": sources}), logprob=-0.01), 0


def test_llm_values_get_word_precise_citations_and_high_confidence(tmp_path, parse, llm):
    pdf, schema, _ = docs.invoice_inline(tmp_path / "inv.pdf")
    llm.steps = [invoice_answer]
    opts = ExtractOptions(llm_base_url=llm.url, llm_api_key="sk-test", llm_model="m1", system_prompt="Be exact.")
    body = run_extraction(parse(pdf), schema, opts)
    res = body["results"]
    assert res["invoice_number"] == "INV-2024-0042"
    assert res["total"] == 729.54  # "$729.54" from the model coerced to the schema's number
    assert res["line_items"] == [{"description": "Copper fittings", "quantity": 40, "unit_price": 2.25,
                                  "amount": 90}]  # fmt: skip
    assert body["citations"]["invoice_number"][0]["content"] == "INV-2024-0042"
    assert body["citations"]["total"][0]["content"] == "$729.54"
    assert body["metrics"]["invoice_number"] == {"confidence": "High"}
    assert body["metrics"]["due_date"] == {"confidence": "Low"} and body["citations"]["due_date"] == []
    assert check_citations(pdf, body, require=False) >= 5
    assert body["citations"]["currency"] == [] and body["metrics"]["currency"] == {"confidence": "Low"}
    req = llm.requests[0]
    assert req["_path"] == "/v1/chat/completions" and req["_auth"] == "Bearer sk-test" and req["model"] == "m1"
    assert req["response_format"]["type"] == "json_schema"
    assert req["response_format"]["json_schema"]["schema"]["properties"]["data"]["properties"]["line_items"]
    assert req["messages"][0]["content"].startswith("Be exact.")
    assert re.search(r"^\[\d+\] \(page 1, \w+\) ", req["messages"][1]["content"], re.M)


def test_value_not_found_in_cited_segments_is_low_confidence(tmp_path, parse, llm):
    pdf, schema, _ = docs.invoice_inline(tmp_path / "inv.pdf")

    def wrong(body):
        data = {"invoice_number": "INV-9999", "total": 729.54}
        src = [{"field": "invoice_number", "segments": [1]}, {"field": "total", "segments": [1]}]
        return 200, completion(json.dumps({"data": data, "sources": src})), 0

    llm.steps = [wrong]
    body = run_extraction(parse(pdf), schema, ExtractOptions(llm_base_url=llm.url))
    assert body["results"]["invoice_number"] == "INV-9999"
    assert body["citations"]["invoice_number"] == [] and body["metrics"]["invoice_number"]["confidence"] == "Low"
    # Found, but not where the model said: cited, still Low.
    assert body["citations"]["total"][0]["content"] == "$729.54"
    assert body["metrics"]["total"]["confidence"] == "Low"


def test_low_logprobs_make_every_value_low_confidence(tmp_path, parse, llm):
    pdf, schema, _ = docs.invoice_inline(tmp_path / "inv.pdf")
    llm.steps = [lambda b: (200, completion(invoice_answer(b)[1]["choices"][0]["message"]["content"], -2.0), 0)]
    body = run_extraction(parse(pdf), schema, ExtractOptions(llm_base_url=llm.url))
    assert body["results"]["invoice_number"] == "INV-2024-0042"
    assert body["metrics"]["invoice_number"] == {"confidence": "Low"}


def test_malformed_answer_is_asked_again(tmp_path, parse, llm):
    pdf, schema, _ = docs.invoice_inline(tmp_path / "inv.pdf")
    llm.steps = [lambda b: (200, completion('{"data": {"invoice_number": "INV-2024'), 0), invoice_answer]
    body = run_extraction(parse(pdf), schema, ExtractOptions(llm_base_url=llm.url))
    assert len(llm.requests) == 2
    assert body["results"]["invoice_number"] == "INV-2024-0042"


def test_always_malformed_fails_with_fail_and_falls_back_offline_with_continue(tmp_path, parse, llm):
    pdf, schema, truth = docs.invoice_inline(tmp_path / "inv.pdf")
    output = parse(pdf)
    llm.steps = [lambda b: (200, completion("Sure! Here is the data: not json"), 0)]
    with pytest.raises(LlmError, match="after 2 attempts: the model returned an unusable answer"):
        run_extraction(output, schema, ExtractOptions(llm_base_url=llm.url, llm_max_retries=1))
    opts = ExtractOptions(llm_base_url=llm.url, llm_max_retries=1, error_handling="Continue")
    body = run_extraction(output, schema, opts)
    assert body["results"]["total"] == truth["total"]  # from the offline extractor
    assert opts.warnings and "offline" in opts.warnings[0]


def test_timeout_fails_or_continues(tmp_path, parse, llm):
    pdf, schema, truth = docs.invoice_inline(tmp_path / "inv.pdf")
    output = parse(pdf)
    llm.steps = [lambda b: (200, completion("{}"), 2.0)]
    started = time.monotonic()
    with pytest.raises(LlmError, match=r"did not answer within 0.3 s"):
        run_extraction(output, schema, ExtractOptions(llm_base_url=llm.url, llm_timeout_s=0.3, llm_max_retries=0))
    assert time.monotonic() - started < 1.5
    opts = ExtractOptions(llm_base_url=llm.url, llm_timeout_s=0.3, llm_max_retries=0, error_handling="Continue")
    assert run_extraction(output, schema, opts)["results"]["invoice_number"] == truth["invoice_number"]


def test_server_errors_are_retried_with_backoff(tmp_path, parse, llm):
    pdf, schema, _ = docs.invoice_inline(tmp_path / "inv.pdf")
    llm.steps = [lambda b: (503, {"error": "busy"}, 0), invoice_answer]
    body = run_extraction(parse(pdf), schema, ExtractOptions(llm_base_url=llm.url))
    assert len(llm.requests) == 2 and body["results"]["invoice_number"] == "INV-2024-0042"


def test_server_without_logprobs_is_asked_again_without_them(tmp_path, parse, llm):
    pdf, schema, _ = docs.invoice_inline(tmp_path / "inv.pdf")

    def picky(body):
        if "logprobs" in body:
            return 400, {"error": {"message": "logprobs is not supported"}}, 0
        return invoice_answer(body)

    llm.steps = [picky]
    body = run_extraction(parse(pdf), schema, ExtractOptions(llm_base_url=llm.url))
    assert [("logprobs" in r) for r in llm.requests] == [True, False]
    assert body["metrics"]["invoice_number"] == {"confidence": "High"}


def test_long_documents_are_mapped_in_parts_and_rows_merged(tmp_path, parse, llm):
    pdf, schema, truth = docs.invoice_inline(tmp_path / "inv.pdf")

    def per_part(body):
        user = body["messages"][-1]["content"]
        rows = [{"description": d["description"], "quantity": d["quantity"], "unit_price": d["unit_price"],
                 "amount": d["amount"]} for d in truth["line_items"] if d["description"] in user]  # fmt: skip
        data = {"invoice_number": "INV-2024-0042" if "INV-2024-0042" in user else None, "line_items": rows}
        return 200, completion(json.dumps({"data": data, "sources": []})), 0

    llm.steps = [per_part]
    body = run_extraction(parse(pdf), schema, ExtractOptions(llm_base_url=llm.url, llm_context_chars=300))
    assert len(llm.requests) > 1
    assert all(len(r["messages"][1]["content"]) <= 300 for r in llm.requests)
    assert body["results"]["line_items"] == truth["line_items"]
    assert body["results"]["invoice_number"] == "INV-2024-0042"


def test_split_uses_the_model_when_configured(tmp_path, parse, llm):
    pdf, _, _ = docs.contract(tmp_path / "c.pdf")
    answer = {"pages": [{"page": 1, "topic": "terms", "confident": True}, {"page": 2, "topic": None,
                                                                            "confident": True}]}  # fmt: skip
    llm.steps = [lambda b: (200, completion(json.dumps(answer)), 0)]
    topics = [{"name": "terms", "description": "fees and term"}, {"name": "annex", "description": "schedules"}]
    out = split_document(parse(pdf), topics, ExtractOptions(llm_base_url=llm.url))
    assert out["topics"] == [
        {"name": "terms", "pages": [1], "confidence": "High"},
        {"name": "annex", "pages": [], "confidence": "Low"},
    ]
    assert out["unassigned_pages"] == [2]

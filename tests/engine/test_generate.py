"""`strategy: LLM` and `description: true` against a real local OpenAI-compatible server (tests/engine/llm_server)."""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tasks_app.engine import LlmError, MemorySink, ParseConfig, ParseOptions, parse_document
from tasks_app.engine.generate import MAX_IMAGE_SIDE, safe_markdown
from tasks_app.engine.parallel import POOL_MIN_PAGES

from . import docs
from .conftest import BASE_CONFIG
from .llm_server import completion

ROOT = Path(__file__).resolve().parents[2]
MODEL_TABLE = (
    "<p>Here is the table:</p><table><tr><th>Region</th><th>Revenue</th></tr>"
    '<tr><td onclick="steal()">North<script>alert(1)</script></td><td>1200</td></tr></table>'
    "<script>steal()</script>"
)


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory):
    return docs.structured_pdf(tmp_path_factory.mktemp("generate") / "report.pdf", pages=1)


def run(path, llm, *, workers=1, timeout=10.0, retries=0, **cfg):
    options = ParseOptions(
        config=ParseConfig.from_dict({**BASE_CONFIG, **cfg}),
        llm_base_url=llm.url,
        llm_api_key="sk-test",
        llm_model="vision-1",
        llm_timeout_s=timeout,
        llm_max_retries=retries,
        workers=workers,
    )
    sink = MemorySink()
    return parse_document(path, options, sink), sink


def instruction(body: dict) -> str:
    return body["messages"][1]["content"][0]["text"]


def images(body: dict) -> list[Image.Image]:
    out = []
    for part in body["messages"][1]["content"]:
        if part["type"] == "image_url":
            url = part["image_url"]["url"]
            assert url.startswith("data:image/png;base64,")
            data = base64.b64decode(url.removeprefix("data:image/png;base64,"))
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
            out.append(Image.open(io.BytesIO(data)))
    return out


def one(result, segment_type):
    (seg,) = [s for s in result.segments if s.segment_type == segment_type]
    return seg


def test_llm_table_is_the_models_table_sanitised_and_the_model_saw_the_crop(report_pdf, llm):
    llm.steps = [lambda b: (200, completion(f"```html\n{MODEL_TABLE}\n```"), 0)]
    result, sink = run(report_pdf, llm, error_handling="Fail", segment_processing={"Table": {"strategy": "LLM"}})

    table = one(result, "Table")
    assert table.content == table.html
    assert re.findall(r"<t[hd]>(.*?)</t[hd]>", table.html) == ["Region", "Revenue", "North", "1200"]
    for bad in ("<script", "alert", "steal", "onclick", "Here is the table"):
        assert bad not in table.html
    assert table.markdown.splitlines()[0] == "| Region | Revenue | Growth |"  # the other format stays Auto
    assert "West" in table.text  # text stays the words on the page
    assert table.embed == table.content and table.segment_length == len(table.embed.split())
    assert one(result, "Title").content == "# Annual Results Overview"  # Auto types untouched
    assert not any("LLM" in w for w in result.warnings)

    (req,) = llm.requests
    assert req["_path"] == "/v1/chat/completions" and req["_auth"] == "Bearer sk-test" and req["model"] == "vision-1"
    assert "<table>" in instruction(req)
    (crop,) = images(req)
    assert abs(crop.width - table.bbox.width) <= 2 and abs(crop.height - table.bbox.height) <= 2
    # Rendered for the model only: crop_image is Auto for tables, so nothing is stored.
    assert table.image is None and not any(table.segment_id in key for key in sink.items)


def test_extended_context_sends_the_whole_page_after_the_crop_scaled_to_the_cap(report_pdf, llm):
    llm.steps = [lambda b: (200, completion(MODEL_TABLE), 0)]
    cfg = {"Table": {"strategy": "LLM", "extended_context": True}}
    result, _ = run(report_pdf, llm, error_handling="Fail", segment_processing=cfg)

    (req,) = llm.requests
    crop, page = images(req)
    table = one(result, "Table")
    assert abs(crop.width - table.bbox.width) <= 2
    # The page image is 1224 x 1584 px at 144 dpi: sent at most MAX_IMAGE_SIDE px on its longest side.
    assert max(page.size) == MAX_IMAGE_SIDE < result.pages[0].page_height
    assert abs(page.width / page.height - 612 / 792) < 0.01
    assert "whole page" in instruction(req)


def test_description_fills_the_description_and_the_embed_and_keeps_auto_content(report_pdf, llm):
    llm.steps = [lambda b: (200, completion("  A blue rectangle\nwith white stripes.  "), 0)]
    plain, _ = run(report_pdf, llm)
    result, _ = run(report_pdf, llm, error_handling="Fail", segment_processing={"Picture": {"description": True}})

    picture = one(result, "Picture")
    assert picture.description == "A blue rectangle with white stripes."
    assert picture.content == one(plain, "Picture").content
    assert picture.embed == "\n\n".join(p for p in (picture.content, picture.description) if p)
    assert picture.segment_length == len(picture.embed.split())
    assert any(picture.description in (c.embed or "") for c in result.chunks)
    (req,) = llm.requests
    assert instruction(req).startswith("Describe this picture") and len(images(req)) == 1


@pytest.mark.parametrize(
    ("answer", "cause"),
    [
        ((500, {"error": "boom"}, 0), "the model endpoint answered HTTP 500"),
        (
            (200, completion("Sorry, I cannot read tables."), 0),
            "the model returned an unusable answer (no HTML table in the answer)",
        ),
        (
            (200, completion("<table><script>td()</script></table>"), 0),
            "the model returned an unusable answer (no table cells)",
        ),
    ],
)
def test_fail_stops_the_parse_with_the_cause(report_pdf, llm, answer, cause):
    llm.steps = [lambda b: answer]
    with pytest.raises(LlmError, match=re.escape(f"for a Table segment on page 1: {cause}")):
        run(report_pdf, llm, retries=1, error_handling="Fail", segment_processing={"Table": {"strategy": "LLM"}})
    assert len(llm.requests) == 2  # asked again once before giving up


def test_continue_after_timeouts_keeps_auto_output_with_one_warning(report_pdf, llm):
    llm.steps = [lambda b: (200, completion("too late"), 2.0)]
    cfg = {"Table": {"strategy": "LLM"}, "Picture": {"description": True}}
    result, _ = run(report_pdf, llm, timeout=0.3, error_handling="Continue", segment_processing=cfg)

    table = one(result, "Table")
    assert table.content == table.html and re.findall(r"<th>(.*?)</th>", table.html) == ["Region", "Revenue", "Growth"]
    assert one(result, "Picture").description is None
    notes = [w for w in result.warnings if "LLM" in w]
    assert len(notes) == 1
    assert "failed on 2 of 2 requests" in notes[0] and "did not answer within 0.3 s" in notes[0]


def test_pool_processes_ask_the_model_and_failures_make_one_warning(tmp_path, llm):
    pdf = docs.text_pdf(tmp_path / "long.pdf", docs.LOREM, pages=POOL_MIN_PAGES)
    numbers = itertools.count()

    def every_other(body):
        if next(numbers) % 2:
            return 500, {"error": "busy"}, 0
        return 200, completion("# Model page\n\nText <b>bold</b>"), 0

    llm.steps = [every_other]
    cfg = {"segmentation_strategy": "Page", "segment_processing": {"Page": {"strategy": "LLM"}}}
    result, _ = run(pdf, llm, workers=2, error_handling="Continue", **cfg)

    assert len(llm.requests) == POOL_MIN_PAGES
    contents = [s.content for s in result.segments]
    assert contents.count("# Model page\n\nText \\<b>bold\\</b>") == POOL_MIN_PAGES // 2
    assert sum("Document processing systems" in c for c in contents) == POOL_MIN_PAGES - POOL_MIN_PAGES // 2
    notes = [w for w in result.warnings if "LLM" in w]
    assert len(notes) == 1 and f"failed on {POOL_MIN_PAGES // 2} of {POOL_MIN_PAGES} requests" in notes[0]


def test_model_markdown_cannot_carry_raw_html_or_script_links():
    md = "Hi <script>x()</script> `<b>` [a](javascript:alert(1))\n[r]: javascript:x\n\\<i> \\\\<u>\n```\n<p>\n```"
    assert safe_markdown(md) == (
        "Hi \\<script>x()\\</script> `<b>` [a](#alert(1))\n[r]: #x\n\\<i> \\\\\\<u>\n```\n<p>\n```"
    )


def test_cli_takes_the_llm_endpoint_from_the_environment(report_pdf, llm, tmp_path):
    llm.steps = [lambda b: (200, completion("# From the model"), 0)]
    config = {"segmentation_strategy": "Page", "segment_processing": {"Page": {"strategy": "LLM"}}}
    env = {**os.environ, "CHUNKR_LLM_BASE_URL": llm.url, "CHUNKR_LLM_MODEL": "cli-model", "CHUNKR_LLM_API_KEY": "k"}
    argv = [sys.executable, "-m", "tasks_app.engine", "parse", str(report_pdf), "--out", str(tmp_path / "out"),
            "--config", json.dumps(config)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False)  # noqa: S603
    assert proc.returncode == 0, proc.stderr
    (segment,) = json.loads(proc.stdout)["chunks"][0]["segments"]
    assert segment["content"] == "# From the model"
    assert llm.requests[0]["model"] == "cli-model" and llm.requests[0]["_auth"] == "Bearer k"

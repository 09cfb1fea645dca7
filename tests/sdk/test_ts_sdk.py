"""The official TypeScript SDK (npm chunkr-ai 0.1.0-alpha.14), unchanged, against our server (issue 4).

Each test runs a small node script from tests/sdk/js/ that drives the SDK and prints its results as JSON; the
assertions live here. `make test` installs the SDK with `npm ci --prefix tests/sdk/js`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import serving
from tests.engine.extract.docs import invoice_inline
from tests.factories import pdf_bytes, png_bytes
from tests.sdk.conftest import SdkServer

JS_DIR = Path(__file__).parent / "js"
SDK_PACKAGE = JS_DIR / "node_modules" / "chunkr-ai" / "package.json"
GARBAGE = b"\x00\x01\x02 binary junk \xff\xfe" * 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: the TypeScript SDK needs it"),
    pytest.mark.skipif(
        not SDK_PACKAGE.exists(), reason="TypeScript SDK not installed: run `npm ci --prefix tests/sdk/js` (make test)"
    ),
]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def run_sdk(server: SdkServer, script: str, inputs: dict[str, Any] | None = None, timeout: float = 240) -> Any:
    env = {
        **os.environ,
        "CHUNKR_BASE_URL": server.base_url,
        "CHUNKR_API_KEY": server.api_key,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    done = subprocess.run(
        ["node", str(JS_DIR / script)],
        input=json.dumps(inputs or {}),
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stderr}\n{done.stdout}"
    return json.loads(done.stdout)


def segments(task: dict) -> list[dict]:
    return [s for chunk in task["output"]["chunks"] for s in chunk["segments"]]


def test_upload_parse_from_ch_reference_and_read_back(sdk_server):
    out = run_sdk(sdk_server, "files_and_parse.mjs", {"pdf": b64(pdf_bytes("Annual report", "Second page"))})
    assert out["health"] == "OK"
    assert {"extension": "pdf", "mime_type": "application/pdf"} in out["fileTypes"]["document"]["formats"]

    file = out["file"]
    assert file["url"] == f"ch://files/{file['file_id']}"
    assert (file["file_name"], file["content_type"], file["metadata"]) == (
        "report.pdf",
        "application/pdf",
        {"team": "finance"},
    )
    assert out["fetched"] == file
    assert out["presigned"]["url"].startswith("http://127.0.0.1:") and out["presigned"]["expires_in"] == 120
    assert out["inlineUrlPrefix"].startswith("data:application/pdf;base64,JVBER")
    assert out["content"] == {"status": 200, "type": "application/pdf", "size": file["file_size"]}
    assert file["file_id"] in out["listed"]

    created = out["created"]
    assert (created["status"], created["completed"], created["output"], created["task_type"]) == (
        "Starting",
        False,
        None,
        "Parse",
    )
    assert created["configuration"]["ocr_strategy"] == "Auto"
    assert created["expires_at"] is not None
    assert out["done"]["status"] == "Succeeded", out["done"]["message"]

    full = out["full"]
    assert {s["page_number"] for s in segments(full)} == {1, 2}
    assert "Annual report" in " ".join(s["text"] for s in segments(full))
    assert full["file_info"]["page_count"] == 2 and full["file_info"]["name"] == "report.pdf"
    assert full["output"]["pages"][0]["image"].startswith(sdk_server.base_url.removesuffix("/api/v1") + "/assets/")
    assert out["noChunks"]["output"]["chunks"] == [] and len(out["noChunks"]["output"]["pages"]) == 2

    inline = out["base64"]
    assert inline["output"]["pages"][0]["image"].startswith("data:image/png;base64,")
    assert inline["file_info"]["url"].startswith("data:application/pdf;base64,")
    assert segments(inline)

    # Contract §2 note 2: a Parse task asked for as an Extract task is not found.
    assert out["asExtract"]["error"]["class"] == "NotFoundError"
    assert out["deleted"] == {"deleted": True}
    assert out["afterDelete"]["error"]["class"] == "AuthenticationError"  # §14.4: files answer 401


def test_parse_from_data_url_raw_base64_and_http_url(sdk_server, settings):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]  # the live server runs in this process: it sees this
    with serving(pdf_bytes("Fetched over HTTP"), content_type="application/pdf") as remote:
        out = run_sdk(
            sdk_server,
            "parse_inputs.mjs",
            {
                "data_url": {"file": "data:application/pdf;base64," + b64(pdf_bytes("From a data URL"))},
                "raw_base64": {"file": b64(pdf_bytes("From raw base64")), "file_name": "raw.pdf"},
                "png": {"file": b64(png_bytes()), "error_handling": "Continue"},
                "url": {"file": f"{remote}/docs/remote.pdf"},
            },
        )
    for name, task in out.items():
        assert task["status"] == "Succeeded", (name, task["message"])
    text = {name: " ".join(s["text"] for s in segments(task)) for name, task in out.items()}
    assert "From a data URL" in text["data_url"]
    assert "From raw base64" in text["raw_base64"] and out["raw_base64"]["file_info"]["name"] == "raw.pdf"
    assert "Fetched over HTTP" in text["url"] and out["url"]["file_info"]["name"] == "remote.pdf"
    assert out["png"]["file_info"]["mime_type"] == "image/png"


def test_list_auto_paginates_and_filters(sdk_server):
    from django.db import transaction

    from tasks_app.models import Task
    from tests.factories import parse_task

    ws = sdk_server.workspace
    with transaction.atomic():  # statuses set before the jobs are sent, so the worker cannot move them
        ids = [str(parse_task(ws, pdf_bytes(f"doc {n}")).pk) for n in range(5)]
        Task.objects.filter(pk__in=ids[:2]).update(status="Failed", message="boom", finished_at=None)
        Task.objects.filter(pk__in=ids[2:]).update(status="Cancelled", message="Task cancelled")
    out = run_sdk(sdk_server, "list_tasks.mjs")
    assert out["all"] == list(reversed(ids))  # five items through pages of two, newest first
    assert out["asc"] == ids
    assert out["firstPage"]["has_more"] is True and len(out["firstPage"]["ids"]) == 2
    assert out["secondPage"] == list(reversed(ids))[2:4]
    assert sorted(out["failedOrSucceeded"]) == sorted(ids[:2])
    assert sorted(out["cancelled"]) == sorted(ids[2:])
    assert sorted(out["parseOnly"]) == sorted(ids)
    assert out["extractOnly"] == [] and out["future"] == [] and out["past"] == []
    assert out["withChunks"] == []
    assert out["badStatus"]["error"]["class"] == "BadRequestError"


@pytest.mark.slow
def test_cancel_and_delete_follow_the_state_rules(sdk_server):
    long_pdf = pdf_bytes(*(f"Page {n} " + "words " * 200 for n in range(60)))
    out = run_sdk(sdk_server, "cancel_delete.mjs", {"slow": b64(long_pdf), "quick": b64(pdf_bytes("quick"))})
    assert out["cancel"]["ok"], out["cancel"]
    assert out["cancelled"]["status"] == "Cancelled" and out["cancelled"]["finished_at"]
    assert out["cancelAgain"]["error"]["class"] == "BadRequestError"
    assert out["deleteCancelled"]["ok"], out["deleteCancelled"]  # §14.2: any terminal state may be deleted

    assert out["succeeded"]["status"] == "Succeeded"
    assert out["cancelSucceeded"]["error"]["class"] == "BadRequestError"
    assert "cannot be cancelled" in out["cancelSucceeded"]["error"]["message"]
    assert out["del"]["ok"], out["del"]  # typed void; the text body is ignored
    assert out["getDeleted"]["error"]["class"] == "NotFoundError"
    assert out["deleteAgain"]["error"]["class"] == "NotFoundError"


def test_error_paths_map_to_the_sdk_error_classes(sdk_server):
    out = run_sdk(sdk_server, "errors.mjs", {"garbage": b64(GARBAGE), "pdf": b64(pdf_bytes("x"))})
    for name in ("wrongKeyList", "wrongKeyParse"):
        assert out[name]["error"]["class"] == "AuthenticationError", out[name]
    assert out["wrongKeyHealth"] == {"ok": True, "value": "OK"}  # public route; the header must not break it
    for name in ("unknownTask", "unknownParse", "unknownCancel", "unknownDelete", "weirdId", "unknownChRef"):
        assert out[name]["error"]["class"] == "NotFoundError", (name, out[name])
    assert out["unknownFile"]["error"]["class"] == "AuthenticationError"
    assert "Unsupported file type" in out["garbageBase64"]["error"]["message"]
    for name in ("garbageBase64", "notBase64", "badEnum"):
        assert out[name]["error"]["class"] == "BadRequestError", (name, out[name])
    assert "ocr_strategy" in out["badEnum"]["error"]["message"]
    # An upload is stored as-is; the type is judged when a task uses it.
    assert out["garbageUpload"]["ok"] or out["garbageUpload"]["error"]["class"] == "BadRequestError"


def test_extract_from_a_parse_task_and_from_a_document(sdk_server, tmp_path):
    path, schema, truth = invoice_inline(tmp_path / "invoice.pdf")
    out = run_sdk(sdk_server, "extract.mjs", {"pdf": b64(path.read_bytes()), "schema": schema})
    assert out["created"]["task_type"] == "Extract" and out["created"]["status"] == "Starting"
    for name in ("fromTask", "fromDocument"):
        task = out[name]
        assert task["status"] == "Succeeded", (name, task["message"])
        results = task["output"]["results"]
        assert results["invoice_number"] == truth["invoice_number"] and results["total"] == truth["total"]
        assert len(results["line_items"]) == len(truth["line_items"])
        assert task["output"]["citations"]["invoice_number"][0]["page_number"] == 1
        assert task["parse_task_id"]
    assert out["fromDocument"]["file_info"]["name"] == "invoice.pdf"
    assert out["fromDocument"]["configuration"]["parse_configuration"]["ocr_strategy"] == "Auto"
    assert out["badSchema"]["error"]["class"] == "BadRequestError"
    assert "$" in out["badSchema"]["error"]["message"]
    assert out["parseAsExtract"]["error"]["class"] == "NotFoundError"


def test_a_reviewed_extraction_reads_back_through_the_sdk_unchanged(sdk_server, tmp_path):
    from tasks_app.models import Task
    from tasks_app.services.review import review_decide

    path, schema, truth = invoice_inline(tmp_path / "invoice.pdf")
    out = run_sdk(sdk_server, "extract.mjs", {"pdf": b64(path.read_bytes()), "schema": schema})
    task = Task.objects.get(pk=out["fromTask"]["task_id"])
    review_decide(task=task, path="total", action="correct", text="1234.56", actor=None)
    review_decide(task=task, path="invoice_number", action="reject", actor=None)
    back = run_sdk(sdk_server, "reviewed.mjs", {"task_id": str(task.pk)})
    for how in ("get", "extract"):
        results = back[how]["output"]["results"]
        assert results["total"] == 1234.56 and results["invoice_number"] is None, how
        assert back[how]["output"]["citations"]["total"] == [] and back[how]["status"] == "Succeeded"
        assert len(results["line_items"]) == len(truth["line_items"])  # untouched fields as the machine gave them

"""The legacy Python SDK (PyPI chunkr-ai 0.3.7), unchanged, against our server: the /task routes (contract §12).

It installs cleanly beside our dependencies (dev extra), so it runs in-process against live_server; its sync
methods run their own event loop, and live_server serves requests from another thread.
"""

from __future__ import annotations

import base64
import inspect
from pathlib import Path

import httpx
import pytest
from chunkr_ai import Chunkr
from chunkr_ai.models import ChunkProcessing, Configuration, OcrStrategy, SegmentationStrategy, SegmentType

from tests.factories import pdf_bytes
from tests.sdk.conftest import SdkServer

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def chunkr(sdk_server: SdkServer):
    client = Chunkr(url=sdk_server.base_url, api_key=sdk_server.api_key)
    yield client
    client.close()


def settle(result, task):
    """0.3.7's TaskResponse.update()/cancel() send their request, then return `self.poll()` un-awaited from inside
    their coroutine, so sync callers get a coroutine: close it and poll, as a user of that release must."""
    if inspect.iscoroutine(result):
        result.close()
        return task.poll()
    return result


def text_of(task) -> str:
    return " ".join(s.text for c in task.output.chunks for s in c.segments)


def test_upload_a_local_file_and_read_it_back(chunkr, tmp_path: Path):
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes("Annual report", "Second page"))
    task = chunkr.upload(path, Configuration(ocr_strategy=OcrStrategy.AUTO, expires_in=3600))
    assert task.status == "Succeeded", task.message
    assert task.task_url and task.task_url.endswith(f"/api/v1/task/{task.task_id}")
    assert "Annual report" in task.content() and "Second page" in task.markdown()
    assert task.output.file_name == "report.pdf" and task.output.page_count == 2
    assert {s.segment_type for c in task.output.chunks for s in c.segments} <= set(SegmentType)
    assert task.configuration.ocr_strategy == OcrStrategy.AUTO
    assert task.configuration.expires_in == 3600

    again = chunkr.get_task(task.task_id, include_chunks=False, base64_urls=True)
    assert again.output.chunks == []
    assert again.output.pages[0].image.startswith("data:image/png;base64,")
    with_chunks = chunkr.get_task(task.task_id)
    assert text_of(with_chunks) == text_of(task)


def test_data_url_raw_bytes_and_base64_string_inputs(chunkr):
    data_url = "data:application/pdf;base64," + base64.b64encode(pdf_bytes("From a data URL")).decode()
    from_data_url = chunkr.upload(data_url, filename="inline.pdf")
    from_bytes = chunkr.upload(pdf_bytes("From raw bytes"))  # the SDK sends bare base64 with file_name null
    from_b64 = chunkr.create_task(base64.b64encode(pdf_bytes("From a base64 string")).decode()).poll()
    for task in (from_data_url, from_bytes, from_b64):
        assert task.status == "Succeeded", task.message
    assert "From a data URL" in text_of(from_data_url) and from_data_url.output.file_name == "inline.pdf"
    assert "From raw bytes" in text_of(from_bytes)
    assert "From a base64 string" in text_of(from_b64)


def test_update_reprocesses_with_the_new_configuration(chunkr):
    task = chunkr.upload(pdf_bytes("Update me"))
    assert task.status == "Succeeded"
    pending = task.update(
        Configuration(
            segmentation_strategy=SegmentationStrategy.PAGE, chunk_processing=ChunkProcessing(target_length=64)
        )
    )
    updated = settle(pending, task)
    assert updated.status == "Succeeded", updated.message
    assert updated.task_id == task.task_id
    assert updated.configuration.segmentation_strategy == SegmentationStrategy.PAGE
    assert {s.segment_type for c in updated.output.chunks for s in c.segments} == {"Page"}
    again = chunkr.update(task.task_id, Configuration(ocr_strategy=OcrStrategy.AUTO))
    assert again.status == "Succeeded" and again.configuration.ocr_strategy == OcrStrategy.AUTO


def test_cancel_then_delete(chunkr):
    long_pdf = pdf_bytes(*(f"Page {n} " + "words " * 200 for n in range(60)))
    task = chunkr.create_task(long_pdf)
    cancelled = settle(task.cancel(), task)
    assert cancelled.status == "Cancelled"
    cancelled.delete()
    with pytest.raises(httpx.HTTPStatusError) as excinfo:
        chunkr.get_task(task.task_id)
    assert excinfo.value.response.status_code == 404

    done = chunkr.upload(pdf_bytes("delete me"))
    with pytest.raises(httpx.HTTPStatusError) as excinfo:
        chunkr.cancel_task(done.task_id)  # terminal: 400, not 409 (contract §1.5)
    assert excinfo.value.response.status_code == 400
    chunkr.delete_task(done.task_id)
    with pytest.raises(httpx.HTTPStatusError) as excinfo:
        chunkr.delete_task(done.task_id)
    assert excinfo.value.response.status_code == 404


def test_wrong_key_unknown_id_and_garbage_input(sdk_server, chunkr):
    wrong = Chunkr(url=sdk_server.base_url, api_key="ck_wrong_key")
    try:
        with pytest.raises(httpx.HTTPStatusError) as excinfo:
            wrong.create_task(pdf_bytes("x"))
        assert excinfo.value.response.status_code == 401
    finally:
        wrong.close()
    with pytest.raises(httpx.HTTPStatusError) as excinfo:
        chunkr.get_task(UNKNOWN)
    assert excinfo.value.response.status_code == 404
    with pytest.raises(httpx.HTTPStatusError) as excinfo:
        chunkr.create_task(b"\x00\x01\x02 binary junk \xff\xfe" * 20)
    assert excinfo.value.response.status_code == 400
    assert "Unsupported file type" in excinfo.value.response.text

import base64

import pytest

from tests.api.test_tasks_api import api  # noqa: F401 - shared fixture
from tests.factories import pdf_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def test_file_routes_round_trip(api, client):  # noqa: F811
    data = pdf_bytes("file body")
    file = api.upload(data, "body.pdf").json()
    fid = file["file_id"]
    assert api.get(f"/files/{fid}").json() == file
    content = api.get(f"/files/{fid}/content")
    assert content.status_code == 200 and content["Content-Type"] == "application/pdf"
    assert b"".join(content.streaming_content) == data
    assert 'filename="body.pdf"' in content["Content-Disposition"]
    signed = api.get(f"/files/{fid}/url", expires_in=60).json()
    assert signed["expires_in"] == 60
    fetched = client.get(signed["url"].removeprefix("http://testserver"))
    assert b"".join(fetched.streaming_content) == data
    inline = api.get(f"/files/{fid}/url", base64_urls="true").json()
    assert inline["url"] == "data:application/pdf;base64," + base64.b64encode(data).decode()
    assert api.get(f"/files/{fid}/url", expires_in=10**9).json()["expires_in"] == 604800
    listed = api.get("/files").json()
    assert [f["file_id"] for f in listed["files"]] == [fid] and listed["next_cursor"] is None
    assert api.delete(f"/files/{fid}").json() == {"deleted": True}
    assert api.get(f"/files/{fid}").status_code == 401
    assert api.delete(f"/files/{fid}").status_code == 401
    assert api.post("/tasks/parse", {"file": f"ch://files/{fid}"}).status_code == 404


def test_an_upload_spooled_to_disk_is_stored_whole_with_its_hash(api, settings):  # noqa: F811
    import hashlib

    from tasks_app.models import StoredFile

    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes through Django's temporary file, as large ones do
    data = pdf_bytes("spooled", "to disk")
    file = api.upload(data, "big.pdf").json()
    assert (file["file_size"], file["content_type"]) == (len(data), "application/pdf")
    assert StoredFile.objects.get(file_id=file["file_id"]).sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(api.get(f"/files/{file['file_id']}/content").streaming_content) == data
    settings.CHUNKR_MAX_UPLOAD_BYTES = len(data) - 1
    assert api.upload(data, "big.pdf").status_code == 413


def test_upload_detects_type_from_content_not_name(api):  # noqa: F811
    file = api.upload(pdf_bytes("pdf inside"), "photo.png").json()
    assert file["content_type"] == "application/pdf"


def test_bad_file_metadata_is_400(api):  # noqa: F811
    response = api.upload(pdf_bytes("x"), metadata="{not json")
    assert response.status_code == 400 and "file_metadata" in response.json()["message"]


def test_base64_inputs_do_not_show_up_as_files(api):  # noqa: F811
    api.post("/tasks/parse", {"file": base64.b64encode(pdf_bytes("private")).decode()})
    assert api.get("/files").json()["files"] == []


def test_file_types_lists_what_task_creation_accepts(client, db):
    body = client.get("/api/v1/file-types").json()
    assert set(body) == {"document", "image", "presentation", "spreadsheet", "text"}
    extensions = {f["extension"] for category in body.values() for f in category["formats"]}
    assert {"pdf", "png", "jpg", "tiff", "docx", "xlsx"} <= extensions


def test_legacy_surface_create_poll_update_cancel_restore(api, live_worker):  # noqa: F811
    body = {
        "file": base64.b64encode(pdf_bytes("legacy")).decode(),
        "file_name": None,
        "ocr_strategy": "Auto",
        "segment_processing": {"section_header": {"format": "Html"}},
    }
    created = api.post("/task/parse", body)
    assert created.status_code == 200, created.content
    task = created.json()
    assert task["task_url"].endswith(f"/api/v1/task/{task['task_id']}")
    assert task["configuration"]["segment_processing"]["SectionHeader"]["format"] == "Html"
    done = api.wait(task["task_id"])
    legacy = api.get(f"/task/{task['task_id']}").json()
    assert legacy["status"] == done["status"] == "Succeeded"
    legacy_types = {
        "Caption",
        "Footnote",
        "Formula",
        "ListItem",
        "Page",
        "PageFooter",
        "PageHeader",
        "Picture",
        "SectionHeader",
        "Table",
        "Text",
        "Title",
    }
    for chunk in legacy["output"]["chunks"]:
        for segment in chunk["segments"]:
            assert segment["segment_type"] in legacy_types
            assert "confidence" in segment
    same = api.patch(f"/task/{task['task_id']}/parse", {"ocr_strategy": "Auto"})
    assert same.status_code == 400
    from django.db import transaction

    with transaction.atomic():  # cancel the re-run before a worker can start it
        rerun = api.patch(f"/task/{task['task_id']}/parse", {"segmentation_strategy": "Page"})
        assert rerun.status_code == 200 and rerun.json()["status"] == "Starting"
        assert api.get(f"/task/{task['task_id']}/cancel").status_code == 200
    restored = api.get(f"/task/{task['task_id']}").json()
    assert restored["status"] == "Succeeded"
    assert restored["configuration"]["segmentation_strategy"] == "LayoutAnalysis"
    assert restored["output"]["chunks"]
    assert api.delete(f"/task/{task['task_id']}").status_code == 200
    assert api.get(f"/task/{task['task_id']}").status_code == 404


def test_multipart_without_boundary_is_a_400(client, api_key):
    # Found by `make fuzz-api`: this was a 500.
    response = client.post(
        "/api/v1/files", b"--x\r\n", content_type="multipart/form-data", headers={"Authorization": api_key}
    )
    assert response.status_code == 400 and "multipart" in response.json()["message"]

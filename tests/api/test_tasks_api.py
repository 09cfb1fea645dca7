import base64
import io
import threading
import time

import pytest

from tests.conftest import serving, wait_for
from tests.factories import pdf_bytes, png_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(client, api_key):
    class Api:
        def __init__(self, key):
            self.headers = {"Authorization": key}

        def get(self, path, **params):
            return client.get(f"/api/v1{path}", params, headers=self.headers)

        def post(self, path, body, headers=None):
            return client.post(
                f"/api/v1{path}", body, content_type="application/json", headers={**self.headers, **(headers or {})}
            )

        def upload(self, data: bytes, name: str = "doc.pdf", metadata: str | None = None):
            from django.core.files.uploadedfile import SimpleUploadedFile

            body = {"file": SimpleUploadedFile(name, data)}
            if metadata is not None:
                body["file_metadata"] = metadata
            return client.post("/api/v1/files", body, headers=self.headers)

        def delete(self, path):
            return client.delete(f"/api/v1{path}", headers=self.headers)

        def patch(self, path, body):
            return client.patch(f"/api/v1{path}", body, content_type="application/json", headers=self.headers)

        def wait(self, task_id, timeout=120):
            def done():
                body = self.get(f"/tasks/{task_id}").json()
                return body if body["completed"] else None

            return wait_for(done, timeout=timeout, interval=0.2, what=f"task {task_id}")

    return Api(api_key)


def test_upload_then_parse_from_ch_reference(api, live_worker):
    uploaded = api.upload(pdf_bytes("Annual report", "Second page"), "report.pdf", metadata='{"team": "finance"}')
    assert uploaded.status_code == 200, uploaded.content
    file = uploaded.json()
    assert file["url"] == f"ch://files/{file['file_id']}"
    assert (file["file_name"], file["content_type"], file["metadata"]) == (
        "report.pdf",
        "application/pdf",
        {"team": "finance"},
    )

    created = api.post("/tasks/parse", {"file": file["url"], "ocr_strategy": "Auto"})
    assert created.status_code == 200, created.content
    task = created.json()
    assert (task["status"], task["completed"], task["output"], task["task_type"]) == ("Starting", False, None, "Parse")
    assert task["configuration"]["ocr_strategy"] == "Auto"
    assert task["configuration"]["chunk_processing"]["target_length"] == 4096
    assert task["task_url"].endswith(f"/api/v1/tasks/{task['task_id']}")

    done = api.wait(task["task_id"])
    assert done["status"] == "Succeeded", done["message"]
    segments = [s for c in done["output"]["chunks"] for s in c["segments"]]
    assert {s["page_number"] for s in segments} == {1, 2}
    assert done["file_info"]["page_count"] == 2 and done["output"]["page_count"] == 2
    page_image = done["output"]["pages"][0]["image"]
    assert page_image.startswith("http://testserver/assets/")


def test_signed_asset_url_serves_the_page_image(api, live_worker, client):
    from django.core.files.storage import default_storage
    from PIL import Image

    from tasks_app.models import TaskOutput

    task = api.post("/tasks/parse", {"file": base64.b64encode(pdf_bytes("Image me")).decode()}).json()
    done = api.wait(task["task_id"])
    page = done["output"]["pages"][0]
    # A text-layer page's image is lazy (CHUNKR_LAZY_PAGE_IMAGES): recorded for deletion, rendered on first request.
    (key,) = [k for k in TaskOutput.objects.get(task_id=task["task_id"]).asset_keys if "/pages/" in k]
    assert not default_storage.exists(key)
    url = page["image"].removeprefix("http://testserver")
    image = client.get(url)
    assert image.status_code == 200
    png = b"".join(image.streaming_content)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(png)).size == (page["page_width"], page["page_height"])
    assert default_storage.exists(key)
    again = client.get(url)
    assert b"".join(again.streaming_content) == png  # now served from storage
    assert client.get(url[:-3] + "xyz").status_code == 404  # tampered token

    assert api.delete(f"/tasks/{task['task_id']}").status_code == 200
    assert not default_storage.exists(key)  # the lazily made image goes with the task


def test_data_url_and_base64_urls_inline_assets(api, live_worker):
    data_url = "data:application/pdf;base64," + base64.b64encode(pdf_bytes("Inline")).decode()
    task = api.post("/tasks/parse", {"file": data_url, "file_name": "inline.pdf", "ocr_strategy": "Auto"}).json()
    api.wait(task["task_id"])
    inline = api.get(f"/tasks/{task['task_id']}", base64_urls="true").json()
    assert inline["output"]["pages"][0]["image"].startswith("data:image/png;base64,")
    assert inline["file_info"]["url"].startswith("data:application/pdf;base64,")
    assert inline["file_info"]["name"] == "inline.pdf"
    no_chunks = api.get(f"/tasks/{task['task_id']}", include_chunks="false").json()
    assert no_chunks["output"]["chunks"] == [] and len(no_chunks["output"]["pages"]) == 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"file": "@@@not base64@@@"}, "Invalid base64 data"),
        ({"file": base64.b64encode(b"\x00\x01\x02 binary junk \xff\xfe" * 20).decode()}, "Unsupported file type"),
        ({"file": "ch://files/00000000-0000-0000-0000-000000000000"}, "File not found"),
        ({"file": "x", "ocr_strategy": "Sometimes"}, "ocr_strategy"),
        ({"file": "x", "chunk_processing": {"target_length": -1}}, "target_length"),
        ({"file": "x", "expires_in": 0}, "expires_in"),
        ({"file": ""}, "file"),
        ({}, "file"),
        ({"file": 12}, "file"),
        ({"file": "http://127.0.0.1/secret"}, "private or local address"),
        ({"file": "http://example.com:22/"}, "Port 22 is not allowed"),
        ({"file": "http://169.254.169.254/latest/meta-data"}, "private or local address"),
        ({"file": "file:///etc/passwd"}, "links are not fetched"),
        ({"file": "gopher://example.com/1"}, "links are not fetched"),
    ],
)
def test_bad_create_requests_get_a_4xx_with_a_message(api, body, needle):
    response = api.post("/tasks/parse", body)
    assert 400 <= response.status_code < 500, response.content
    assert needle in response.json()["message"]


def test_malformed_json_body_is_a_400_with_message(client, api_key):
    # Found by `make fuzz-api`: Ninja answered {"detail": ...}, not the documented ErrorOut shape.
    response = client.post(
        "/api/v1/tasks/parse", "{not json", content_type="application/json", headers={"Authorization": api_key}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request" and "Cannot parse request body" in response.json()["message"]


def test_wrong_or_missing_key_is_401(client, db):
    assert client.get("/api/v1/tasks").status_code == 401
    response = client.get("/api/v1/tasks", headers={"Authorization": "ck_nope"})
    assert response.status_code == 401 and b"API key" in response.content


def test_bearer_prefix_is_accepted(client, api_key):
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {api_key}"}).status_code == 200


def test_other_workspace_sees_404_for_tasks_and_401_for_files(api, other_workspace, client):
    from tasks_app.services.api_keys import api_key_create

    uploaded = api.upload(pdf_bytes("mine")).json()
    task = api.post("/tasks/parse", {"file": uploaded["url"]}).json()
    _, other_key = api_key_create(workspace=other_workspace)
    headers = {"Authorization": other_key}
    tid, fid = task["task_id"], uploaded["file_id"]
    for path in (f"/tasks/{tid}", f"/tasks/{tid}/parse", f"/tasks/{tid}/cancel", f"/task/{tid}", f"/job/{tid}"):
        assert client.get(f"/api/v1{path}", headers=headers).status_code == 404, path
    assert client.delete(f"/api/v1/tasks/{tid}", headers=headers).status_code == 404
    for path in (f"/files/{fid}", f"/files/{fid}/content", f"/files/{fid}/url"):
        assert client.get(f"/api/v1{path}", headers=headers).status_code == 401, path
    assert client.delete(f"/api/v1/files/{fid}", headers=headers).status_code == 401
    listed = client.get("/api/v1/tasks", headers=headers).json()
    assert listed["tasks"] == []
    response = client.post(
        "/api/v1/tasks/parse", {"file": uploaded["url"]}, content_type="application/json", headers=headers
    )
    assert response.status_code == 404


def test_unknown_ids_are_404(api):
    assert api.get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.get("/tasks/not-a-uuid").status_code == 404
    assert api.get("/tasks/not-a-uuid").json()["message"] == "Task not found"


def test_list_paginates_with_cursor_and_filters(api, workspace):
    from django.db import transaction

    from tasks_app.models import Task
    from tests.factories import parse_task

    with transaction.atomic():  # statuses set before the jobs are sent, so a worker cannot move them
        ids = [str(parse_task(workspace, pdf_bytes(f"doc {n}")).pk) for n in range(5)]
        Task.objects.filter(pk__in=ids[:2]).update(status="Failed", message="boom")
        Task.objects.filter(pk__in=ids[2:]).update(status="Cancelled", message="Task cancelled")
    first = api.get("/tasks", limit=2).json()
    assert first["has_more"] is True and len(first["tasks"]) == 2
    seen = [t["task_id"] for t in first["tasks"]]
    cursor = first["next_cursor"]
    while cursor:
        page = api.get("/tasks", limit=2, cursor=cursor).json()
        seen += [t["task_id"] for t in page["tasks"]]
        cursor = page["next_cursor"]
    assert seen == list(reversed(ids))
    asc = api.get("/tasks", limit=100, sort="asc").json()
    assert [t["task_id"] for t in asc["tasks"]] == ids and asc["next_cursor"] is None
    failed = api.get("/tasks", statuses="Succeeded,Failed", limit=100).json()["tasks"]
    assert sorted(t["task_id"] for t in failed) == sorted(ids[:2])
    assert len(api.get("/tasks", statuses=["Cancelled", "Failed"], task_types="Parse", limit=100).json()["tasks"]) == 5
    assert api.get("/tasks", task_types="Extract").json()["tasks"] == []
    assert api.get("/tasks", statuses="Bogus").status_code == 400
    assert api.get("/tasks", cursor="yesterday").status_code == 400


@pytest.mark.parametrize(
    "value", ["2024-13-01T00:00:00Z", "2024-01-01T25:00:00Z", "2024-02-30T00:00:00Z", "9999-12-31T23:59:59-14:00"]
)
@pytest.mark.parametrize("name", ["cursor", "start", "end"])
def test_out_of_range_dates_in_the_list_are_400_naming_the_field(api, name, value):
    response = api.get("/tasks", **{name: value})
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{name}: not an ISO 8601 date-time")


def test_out_of_range_dates_in_the_dashboards_filters_are_dropped_not_a_500(client, workspace, make_user):
    client.force_login(make_user("mia", workspace=workspace))
    for value in ("2024-13-01", "99999-01-01", "2024-02-30", "9999-12-31", "0001-01-01"):
        response = client.get("/tasks/", {"created_from": value, "created_to": value})
        assert response.status_code == 200, value  # a bad bookmark still opens the list (forms.TaskFilterForm)


def test_cancel_and_delete_follow_the_state_rules(api, live_worker):
    task = api.post("/tasks/parse", {"file": base64.b64encode(pdf_bytes("x")).decode()}).json()
    tid = task["task_id"]
    done = api.wait(tid)
    assert done["status"] == "Succeeded"
    cancel = api.get(f"/tasks/{tid}/cancel")
    assert cancel.status_code == 400 and "cannot be cancelled" in cancel.json()["message"]
    assert api.delete(f"/tasks/{tid}").status_code == 200
    assert api.get(f"/tasks/{tid}").status_code == 404


def test_delete_while_processing_is_refused(api, workspace):
    from django.db import transaction

    from tasks_app.models import Task
    from tests.factories import parse_task

    with transaction.atomic():  # as if a worker had claimed it
        task = parse_task(workspace, pdf_bytes("queued"))
        Task.objects.filter(pk=task.pk).update(status="Processing")
    response = api.delete(f"/tasks/{task.pk}")
    assert response.status_code == 400 and "status is Processing" in response.json()["message"]
    assert api.get(f"/tasks/{task.pk}").status_code == 200


def test_idempotency_key_returns_the_original_task(api):
    body = {"file": base64.b64encode(pdf_bytes("once")).decode()}
    headers = {"Idempotency-Key": "stainless-node-retry-1234"}
    first = api.post("/tasks/parse", body, headers=headers).json()
    second = api.post("/tasks/parse", body, headers=headers).json()
    third = api.post("/tasks/parse", body).json()
    assert first["task_id"] == second["task_id"] != third["task_id"]


def away_from_a_window_edge() -> None:
    """The limit counts per wall-clock minute: start a test of it well inside one."""
    if time.time() % 60 > 55:
        time.sleep(60.5 - time.time() % 60)


def test_rate_limit_answers_429_with_retry_after(api, settings):
    settings.CHUNKR_RATE_LIMIT_PER_MINUTE = 2
    away_from_a_window_edge()
    body = {"file": base64.b64encode(pdf_bytes("x")).decode()}
    codes = [api.post("/tasks/parse", body).status_code for _ in range(3)]
    assert codes[:2] == [200, 200]
    limited = api.post("/tasks/parse", body)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert "Usage limit exceeded" in limited.json()["message"]


def test_the_rate_limit_counts_a_document_once_upload_then_create(api, settings):
    """An upload (POST /files) counts; a create over it (ch://files/…) or over a task does not count again."""
    settings.CHUNKR_RATE_LIMIT_PER_MINUTE = 2
    away_from_a_window_edge()
    uploaded = api.upload(pdf_bytes("counted once"), "once.pdf").json()["file_id"]
    created = [api.post("/tasks/parse", {"file": f"ch://files/{uploaded}"}) for _ in range(3)]
    assert [r.status_code for r in created] == [200, 200, 200]
    extract = api.post("/tasks/extract", {"file": created[0].json()["task_id"], "schema": {"type": "object"}})
    assert extract.status_code != 429
    assert api.post("/tasks/parse", {"file": base64.b64encode(pdf_bytes("new")).decode()}).status_code == 200
    assert api.post("/tasks/parse", {"file": base64.b64encode(pdf_bytes("more")).decode()}).status_code == 429
    assert api.upload(pdf_bytes("and more"), "more.pdf").status_code == 429


def test_async_flag_returns_202_job_and_job_route_reports(api, live_worker):
    response = api.post("/tasks/parse", {"file": base64.b64encode(pdf_bytes("job")).decode(), "async": True})
    assert response.status_code == 202
    job = response.json()
    assert job["status"] in ("pending", "processing", "completed")
    final = wait_for(
        lambda: (body := api.get(f"/job/{job['job_id']}").json())["status"] == "completed" and body,
        timeout=120,
        what="job",
    )
    assert final["result"]["output"]["page_count"] == 1
    assert "async" not in final["result"]["configuration"]
    refused = api.delete(f"/job/{job['job_id']}")
    assert refused.status_code == 400


def test_sync_mode_waits_for_the_result(api, live_worker):
    response = api.post("/tasks/parse", {"file": base64.b64encode(pdf_bytes("sync")).decode(), "async": False})
    assert response.status_code == 200
    assert response.json()["status"] == "Succeeded"
    assert response.json()["output"]["chunks"]


def test_sync_waits_never_take_every_web_thread(api, settings, api_key):
    """Waiting for a result holds a web thread. With this process's waiting threads all taken, an `async: false`
    create answers its job at once (202); a key holding its share of waits gets 429 and nothing is made."""
    import time

    from tasks_app.api.common import sync_waits
    from tasks_app.models import ApiKey, Task

    settings.CHUNKR_SYNC_WAITERS, settings.CHUNKR_SYNC_WAITS_PER_KEY = 2, 1
    body = {"file": base64.b64encode(pdf_bytes("sync")).decode(), "async": False}
    mine = str(ApiKey.objects.get(prefix=api_key[:10]).pk)
    with sync_waits.slot("another key") as a, sync_waits.slot("and another") as b:  # two waits elsewhere
        assert a and b
        started = time.monotonic()
        response = api.post("/tasks/parse", body)
        assert response.status_code == 202 and response.json()["status"] == "pending"
        assert time.monotonic() - started < 5  # answered at once, not after CHUNKR_SYNC_WAIT_SECONDS
    created = Task.objects.count()
    with sync_waits.slot(mine) as waiting:  # this key already waits once
        assert waiting
        refused = api.post("/tasks/parse", body)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "already wait for their result" in refused.json()["message"]
    assert Task.objects.count() == created  # nothing made


def test_url_input_is_fetched_by_the_worker_from_an_allowed_host(api, live_worker, settings):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    with serving(pdf_bytes("Fetched over HTTP")) as base:
        url = f"{base}/files/remote.pdf"
        task = api.post("/tasks/parse", {"file": url, "ocr_strategy": "Auto"}).json()
        done = api.wait(task["task_id"])
    assert done["status"] == "Succeeded", done["message"]
    assert done["file_info"]["name"] == "remote.pdf"
    assert done["file_info"]["mime_type"] == "application/pdf"
    assert not done["file_info"]["url"].startswith(url)  # points at our stored copy
    text = " ".join(s["text"] for c in done["output"]["chunks"] for s in c["segments"])
    assert "Fetched over HTTP" in text


def test_image_input_is_parsed(api, live_worker):
    task = api.post(
        "/tasks/parse",
        {"file": base64.b64encode(png_bytes()).decode(), "ocr_strategy": "Auto", "error_handling": "Continue"},
    ).json()
    done = api.wait(task["task_id"])
    assert done["status"] == "Succeeded", done["message"]
    assert done["file_info"]["mime_type"] == "image/png"


def test_sync_wait_for_a_task_that_expires_meanwhile_is_a_404_not_a_500(api, live_worker, settings):
    # Found by `make fuzz-api`: `expires_in: 1` with `async: false` let beat purge the row mid-wait (a 500). The input
    # URL answers only after 4 s, so the task is still downloading when it expires.
    release = threading.Event()
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    settings.CHUNKR_SYNC_WAIT_SECONDS = 30
    with serving(pdf_bytes("late"), before=lambda: release.wait(4)) as base:
        try:
            started = time.monotonic()
            response = api.post("/tasks/parse", {"file": f"{base}/slow.pdf", "async": False, "expires_in": 1})
            assert response.status_code == 404, response.content
            assert "not found" in response.json()["message"].lower()
            assert time.monotonic() - started < 4
        finally:
            release.set()

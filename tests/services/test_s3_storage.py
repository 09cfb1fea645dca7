"""Django storage on a real S3-compatible server (moto's, a separate process: tests/conftest.py::s3_server): inputs,
lazy page images, presigned links, deletion and a store that is down."""

import base64
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tasks_app.models import Task
from tasks_app.services.storage import (
    STORE_DOWN,
    AssetLinker,
    StorageSink,
    StorageUnavailable,
    asset_available,
    open_asset,
    presigned_url,
    save_stream,
    storage_delete_below,
)
from tests.conftest import free_port
from tests.factories import pdf_bytes, store_file

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"


def test_an_input_is_stored_in_the_bucket_and_read_back(
    workspace, s3_bucket, s3_server, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path / "media"  # nothing may need it
    with monkeypatch.context() as patched:
        patched.setattr(default_storage, "open", lambda *a, **k: pytest.fail("an upload was read back from the store"))
        stored = store_file(workspace, pdf_bytes("In the bucket"), "report.pdf")
    assert s3_server.keys(s3_bucket) == {stored.storage_key}
    assert stored.mime_type == "application/pdf" and stored.size > 0  # sniffed on its way to the store
    with open_asset(stored.storage_key) as fh:
        assert fh.read().startswith(b"%PDF")
    assert not (tmp_path / "media").exists()


def test_presigned_links_point_at_the_store_and_name_the_download(s3_bucket, s3_server):
    name = "inputs/w/1/report.pdf"
    default_storage.save(name, ContentFile(b"%PDF-1.7 bytes"))
    url = AssetLinker("http://testserver").url(name, expires_at=2_000_000_000, filename="Jahresbericht Ü.pdf")
    assert urlsplit(url).netloc == urlsplit(s3_server.endpoint).netloc
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == b"%PDF-1.7 bytes"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == "attachment; filename*=utf-8''Jahresbericht%20%C3%9C.pdf"


def test_presigned_links_use_the_public_endpoint_when_one_is_set(s3_bucket, s3_server, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "public": s3_server.storage_options(s3_bucket, endpoint="https://files.example.com"),
    }
    url = presigned_url("tasks/t/crops/s1.png", expires_in=60)
    assert url.startswith(f"https://files.example.com/{s3_bucket}/tasks/t/crops/s1.png?")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url


def test_page_images_link_to_our_view_which_renders_a_lazy_one_into_the_bucket(client, s3_bucket, s3_server):
    default_storage.save("tasks/t1/document.pdf", ContentFile(pdf_bytes("One", "Two")))
    name = "tasks/t1/pages/0002-72dpi.png"
    url = AssetLinker("http://testserver").url(name, expires_at=2_000_000_000)
    assert url.startswith("http://testserver/assets/")

    first = client.get(url.removeprefix("http://testserver"))
    assert first.status_code == 302
    assert name in s3_server.keys(s3_bucket)  # rendered into the store, not proxied
    stored = httpx.get(first["Location"])
    assert urlsplit(first["Location"]).netloc == urlsplit(s3_server.endpoint).netloc
    assert stored.content.startswith(PNG) and stored.headers["content-type"] == "image/png"
    assert stored.headers["content-disposition"].startswith("inline")

    again = client.get(url.removeprefix("http://testserver"))
    assert again.status_code == 302 and httpx.get(again["Location"]).content == stored.content

    missing = AssetLinker("http://testserver").url("tasks/t1/pages/0009-72dpi.png", expires_at=2_000_000_000)
    assert client.get(missing.removeprefix("http://testserver")).status_code == 404  # no page 9
    assert not asset_available("tasks/gone/pages/0001-72dpi.png")  # no document.pdf


def test_base64_answers_render_a_lazy_page_image_from_the_bucket(s3_bucket):
    default_storage.save("tasks/t2/document.pdf", ContentFile(pdf_bytes("Inline")))
    with open_asset("tasks/t2/pages/0001-72dpi.png") as fh:
        assert fh.read().startswith(PNG)


def test_a_rerun_overwrites_its_assets_under_the_same_names(s3_bucket, s3_server):
    first = StorageSink("tasks/t4").put("crops/x.png", b"first run", "image/png")
    again = StorageSink("tasks/t4")
    assert again.put("crops/x.png", b"second run", "image/png") == first == "tasks/t4/crops/x.png"
    assert again.defer("pages/0001-72dpi.png", "image/png") == "tasks/t4/pages/0001-72dpi.png"
    assert s3_server.keys(s3_bucket) == {first}
    with open_asset(first) as fh:
        assert fh.read() == b"second run"


def test_deleting_below_a_prefix_empties_it_in_the_bucket(s3_bucket, s3_server):
    for key in ("document.pdf", "pages/0001-72dpi.png", "crops/a.png", "crops/deep/b.png"):
        default_storage.save(f"tasks/t3/{key}", ContentFile(b"x"))
    default_storage.save("tasks/t30/document.pdf", ContentFile(b"x"))  # a neighbour sharing the prefix's start
    assert storage_delete_below("tasks/t3", keep={"tasks/t3/crops/a.png"}) == 3
    assert s3_server.keys(s3_bucket, "tasks/") == {"tasks/t3/crops/a.png", "tasks/t30/document.pdf"}
    assert storage_delete_below("tasks/nothing-here") == 0


def test_a_store_that_is_down_is_a_503_not_a_500(workspace, s3_server, settings, client, api_key):
    dead = f"http://127.0.0.1:{free_port()}"
    settings.STORAGE_BACKEND = "s3"
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_options("down", endpoint=dead)}
    with pytest.raises(StorageUnavailable):
        save_stream(name="inputs/x.pdf", stream=ContentFile(b"%PDF"))

    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/files", {"file": SimpleUploadedFile("a.pdf", pdf_bytes("Down"))}, headers={"Authorization": api_key}
    )
    assert response.status_code == 503, response.content
    assert response.json()["message"] == STORE_DOWN and response["Retry-After"] == "10"
    created = client.post(
        "/api/v1/tasks/parse",
        {"file": base64.b64encode(pdf_bytes("Down")).decode()},
        content_type="application/json",
        headers={"Authorization": api_key},
    )
    assert created.status_code == 503 and created.json()["message"] == STORE_DOWN
    assert not Task.objects.exists()

    url = AssetLinker("http://testserver").url("tasks/t/pages/0001-72dpi.png", expires_at=2_000_000_000)
    page = client.get(url.removeprefix("http://testserver"))
    assert page.status_code == 503 and page["Retry-After"] == "10"

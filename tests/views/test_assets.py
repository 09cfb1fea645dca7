"""The asset view behind signed links: 200 while valid, 403 once expired, 404 for anything we did not sign."""

import time

import pytest
from django.core.files.storage import default_storage

from tasks_app.services.storage import AssetLinker, asset_url
from tests.factories import pdf_bytes, store_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(workspace):
    return store_file(workspace, pdf_bytes("Linked"), "linked report.pdf")


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_a_signed_link_serves_the_file_under_its_name(client, stored):
    response = client.get(_path(asset_url(stored.storage_key, base_url="http://testserver", filename="r.pdf")))
    assert response.status_code == 200
    with default_storage.open(stored.storage_key, "rb") as fh:
        assert b"".join(response.streaming_content) == fh.read()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="r.pdf"'  # an upload: never inline


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("evil.html", b"<html><script>fetch('/settings/')</script></html>"),
        ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ],
)
def test_an_uploaded_page_is_never_run_on_our_origin(client, workspace, name, data):
    upload = store_file(workspace, data, name)
    response = client.get(_path(asset_url(upload.storage_key, base_url="http://testserver", filename=name)))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        "sandbox" in response["Content-Security-Policy"] and "default-src 'none'" in response["Content-Security-Policy"]
    )


def test_the_engines_page_images_are_shown_inline(client, workspace):
    from django.core.files.base import ContentFile

    from tests.factories import png_bytes

    key = default_storage.save("tasks/some-task/pages/0001-144dpi.png", ContentFile(png_bytes()))
    response = client.get(_path(asset_url(key, base_url="http://testserver", filename="page-1.png")))
    assert (response["Content-Type"], response["Content-Disposition"]) == ("image/png", 'inline; filename="page-1.png"')
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_expired_link_is_403_with_a_hint(client, stored):
    url = AssetLinker("http://testserver").url(stored.storage_key, expires_at=int(time.time()) - 1)
    response = client.get(_path(url))
    assert response.status_code == 403
    assert b"Request the task again" in response.content


@pytest.mark.parametrize("change", ["payload", "signature", "truncate", "garbage"])
def test_a_tampered_link_is_404(client, stored, change):
    url = asset_url(stored.storage_key, base_url="http://testserver")
    base, token = url.rsplit("/", 1)
    body, mac = token.split(".")
    other = asset_url("files/someone-else.pdf", base_url="http://testserver").rsplit("/", 1)[1].split(".")[0]
    token = {
        "payload": other + "." + mac,
        "signature": body + "." + ("A" if mac[0] != "A" else "B") + mac[1:],
        "truncate": token[:-4],
        "garbage": "x.y.z",
    }[change]
    assert client.get(_path(f"{base}/{token}")).status_code == 404


def test_a_link_to_a_file_that_is_gone_is_404(client):
    assert client.get(_path(asset_url("files/never-stored.pdf", base_url="http://testserver"))).status_code == 404

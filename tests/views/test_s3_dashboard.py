"""The dashboard with STORAGE_BACKEND=s3 (moto's server, tests/conftest.py::s3_server): page images through our
view, then the store; downloads of the original straight from the store."""

import re
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_viewer_and_downloads_are_served_by_the_store(client, login, processed, s3_bucket, s3_server):
    login()
    task = processed("Viewed from S3", name="viewed.pdf")  # parsed in this process, into the bucket
    store = urlsplit(s3_server.endpoint).netloc

    body = client.get(f"/tasks/{task.pk}/").content.decode()
    (page_image,) = set(re.findall(r'src="(http://testserver/assets/[^"]+)"', body))
    redirect = client.get(page_image.removeprefix("http://testserver"))
    assert redirect.status_code == 302 and urlsplit(redirect["Location"]).netloc == store
    assert httpx.get(redirect["Location"]).content.startswith(PNG)

    original = client.get(f"/tasks/{task.pk}/download/original/")
    assert original.status_code == 302 and urlsplit(original["Location"]).netloc == store
    fetched = httpx.get(original["Location"])
    assert fetched.content.startswith(b"%PDF")
    assert fetched.headers["content-disposition"] == 'attachment; filename="viewed.pdf"'

"""chunkr_web/limits.py: an oversized body is a 413 with a message, never a 500, and a huge upload is refused on its
Content-Length before it is read."""

import pytest


@pytest.mark.django_db
def test_a_body_over_the_limit_is_413_on_its_content_length_before_it_is_read(client, api_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = '{"file": "' + "A" * 10_000 + '"}'
    response = client.post(
        "/api/v1/tasks/parse", body, content_type="application/json", headers={"Authorization": api_key}
    )
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    settings.CHUNKR_MAX_UPLOAD_BYTES = 2048
    huge = client.generic(
        "POST",
        "/api/v1/files",
        b"",
        content_type="multipart/form-data; boundary=x",
        headers={"Authorization": api_key},
        CONTENT_LENGTH=str(600 * 1024 * 1024),  # 600 MB announced, nothing sent: refused on the header
    )
    assert huge.status_code == 413 and "larger than this server accepts" in huge.json()["message"]
    page = client.generic(
        "POST", "/upload/file/", b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(10**9)
    )
    assert page.status_code == 413


@pytest.mark.django_db
def test_a_chunked_body_over_djangos_limit_is_413_too(client, api_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    # Without the header check (as for a body sent chunked), Django's own limit meets the body while reading it.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "chunkr_web.limits.RequestSizeMiddleware"]
    response = client.post(
        "/api/v1/tasks/parse",
        '{"file": "' + "A" * 10_000 + '"}',
        content_type="application/json",
        headers={"Authorization": api_key},
    )
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"

import time

import pytest
from django.core import signing
from django.urls import clear_script_prefix, reverse, set_script_prefix

from tasks_app.services.storage import (
    TASK_ASSET_URL_BUCKET_SECONDS,
    TASK_ASSET_URL_SECONDS,
    AssetLinker,
    asset_from_token,
    asset_url,
    bucket_expiry,
    url_bucket,
)


def test_asset_url_is_the_reversed_route_with_a_token_for_the_file(settings):
    settings.STORAGE_BACKEND = "local"
    url = asset_url("files/w/1/annual report.pdf", base_url="http://h:8000/", filename="annual report.pdf")
    token = url.rsplit("/", 1)[1]
    assert url == "http://h:8000" + reverse("asset", kwargs={"token": token})
    assert asset_from_token(token) == ("files/w/1/annual report.pdf", "annual report.pdf")


def test_asset_url_follows_the_script_prefix():
    set_script_prefix("/chunkr/")
    try:
        assert asset_url("files/a.pdf", base_url="http://h").startswith("http://h/chunkr/assets/")
    finally:
        clear_script_prefix()
    assert asset_url("files/a.pdf", base_url="http://h").startswith("http://h/assets/")


def test_task_answer_links_live_at_least_the_ttl_and_repeat_within_a_bucket():
    start = 1_800_000_000.0  # a bucket boundary (divisible by 60)
    size, ttl = TASK_ASSET_URL_BUCKET_SECONDS, TASK_ASSET_URL_SECONDS
    for shift in (0, 1, 17, size - 1):
        for moment in [start + i * 0.25 for i in range(4 * size)]:
            expires_at = bucket_expiry(url_bucket(shift, now=moment), shift)
            assert ttl < expires_at - moment <= ttl + size, (shift, moment)
        # Each shift turns over once a bucket, at its own second.
        turnovers = {
            m for m in range(int(start), int(start) + size) if url_bucket(shift, m) != url_bucket(shift, m - 1)
        }
        assert turnovers == {int(start) + (size - shift) % size}
    assert url_bucket(now=start) == url_bucket(now=start + size - 0.001) != url_bucket(now=start + size)


def test_asset_tokens_round_trip_any_file_name_and_refuse_tampering(settings):
    settings.STORAGE_BACKEND = "local"
    expires_at = int(time.time()) + 600
    name, filename = "files/w/1/a:b.pdf", 'Übersicht: 3:2 | "final".pdf'
    url = AssetLinker("http://h").url(name, expires_at=expires_at, filename=filename)
    token = url.rsplit("/", 1)[1]
    assert asset_from_token(token) == (name, filename)
    assert AssetLinker("http://h").url(name, expires_at=expires_at, filename=filename) == url  # same bucket, same link

    body, mac = token.split(".")
    forged_body = AssetLinker("http://h").url("files/w/2/other.pdf", expires_at=expires_at).rsplit("/", 1)[1]
    for bad in (
        body + "." + mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB"),  # signature changed
        forged_body.split(".")[0] + "." + mac,  # another file's payload under this signature
        body,  # no signature
        "not-a-token",
        signing.dumps({"n": name, "e": 600, "f": ""}, salt="chunkr.asset", compress=True),  # the old format
    ):
        with pytest.raises(signing.BadSignature) as caught:
            asset_from_token(bad)
        assert not isinstance(caught.value, signing.SignatureExpired)

    expired = AssetLinker("http://h").url(name, expires_at=int(time.time()) - 1).rsplit("/", 1)[1]
    with pytest.raises(signing.SignatureExpired):
        asset_from_token(expired)


def test_asset_tokens_signed_with_a_rotated_key_still_open(settings):
    settings.STORAGE_BACKEND = "local"
    token = AssetLinker("http://h").url("files/a.pdf", expires_at=int(time.time()) + 60).rsplit("/", 1)[1]
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    assert asset_from_token(token) == ("files/a.pdf", "")
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(signing.BadSignature):
        asset_from_token(token)

"""STORAGE_BACKEND=s3 end to end, the way users run it: the web side (this process) and a `celery worker` subprocess
that has only the database, Redis and the storage settings (no media directory, no shared filesystem) work against
moto's S3 server; clients fetch what the answers link straight from the store."""

import os
from datetime import timedelta
from urllib.parse import quote, urlsplit

import httpx
import pytest
from django.utils import timezone

from chunkr_web.supervisor import worker_command
from tasks_app.services.maintenance import tasks_purge_expired
from tests.conftest import QUEUES, WORKER_TEST_ENV, jobs_routed_to, start_worker_process, wait_for
from tests.factories import pdf_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PREFIX = "s3-"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def s3_worker(s3_server, s3_bucket, tmp_path, django_db_blocker):
    """A worker whose MEDIA_ROOT does not exist, on queues of its own (no local-storage worker takes its jobs)."""
    hostname = f"s3-{os.getpid()}@localhost"
    argv = worker_command(hostname=hostname)
    argv[argv.index("-Q") + 1] = ",".join(PREFIX + q for q in QUEUES)
    media = tmp_path / "worker-media"
    env = {**WORKER_TEST_ENV, **s3_server.env(s3_bucket), "MEDIA_ROOT": str(media), "CELERY_CONCURRENCY": "1"}
    with django_db_blocker.unblock():
        worker = start_worker_process(argv, hostname=hostname, log_path=tmp_path / "worker.log", env=env)
    try:
        with jobs_routed_to(PREFIX):
            yield worker
    finally:
        worker.stop()
    assert not media.exists(), "the worker wrote to its local media directory"


@pytest.fixture
def api(client, api_key):
    class Api:
        headers = {"Authorization": api_key}

        def get(self, path, **params):
            return client.get(f"/api/v1{path}", params, headers=self.headers)

        def post(self, path, body):
            return client.post(f"/api/v1{path}", body, content_type="application/json", headers=self.headers)

        def delete(self, path):
            return client.delete(f"/api/v1{path}", headers=self.headers)

        def upload(self, data: bytes, name: str):
            from django.core.files.uploadedfile import SimpleUploadedFile

            return client.post("/api/v1/files", {"file": SimpleUploadedFile(name, data)}, headers=self.headers)

        def wait(self, task_id, timeout=120):
            def done():
                body = self.get(f"/tasks/{task_id}").json()
                return body if body["completed"] else None

            return wait_for(done, timeout=timeout, interval=0.3, what=f"task {task_id}")

    return Api()


def test_a_worker_with_only_the_store_parses_and_clients_fetch_from_the_store(
    api, client, s3_worker, s3_server, s3_bucket, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "web-media"  # the web side needs none either
    pdf = pdf_bytes("Stored in S3", "Second page")
    uploaded = api.upload(pdf, "s3 report.pdf")
    assert uploaded.status_code == 200, uploaded.content
    (input_key,) = s3_server.keys(s3_bucket)

    crops = {"segment_processing": {kind: {"crop_image": "All"} for kind in ("Title", "Text", "PageFooter")}}
    kept = api.post("/tasks/parse", {"file": uploaded.json()["url"], **crops}).json()["task_id"]
    expiring = api.post("/tasks/parse", {"file": uploaded.json()["url"], "expires_in": 60}).json()["task_id"]
    done = api.wait(kept)
    assert done["status"] == "Succeeded", f"{done['message']}\n{s3_worker.log_tail()}"
    assert api.wait(expiring)["status"] == "Succeeded"

    written = s3_server.keys(s3_bucket, f"tasks/{kept}/")
    assert f"tasks/{kept}/document.pdf" in written
    assert {k for k in written if "/crops/" in k}, written
    assert not {k for k in written if "/pages/" in k}, "text pages' images are lazy with S3 too"

    store = urlsplit(s3_server.endpoint).netloc
    original = done["file_info"]["url"]
    assert urlsplit(original)[1:3] == (store, f"/{s3_bucket}/{quote(input_key)}")
    fetched = httpx.get(original)
    assert fetched.content == pdf
    assert fetched.headers["content-disposition"] == 'attachment; filename="s3 report.pdf"'
    crop = next(s["image"] for c in done["output"]["chunks"] for s in c["segments"] if s["image"])
    assert urlsplit(crop).netloc == store and httpx.get(crop).content.startswith(PNG)

    page = done["output"]["pages"][1]["image"]
    assert page.startswith("http://testserver/assets/")  # our view: it may have to render it first
    redirect = client.get(page.removeprefix("http://testserver"))
    assert redirect.status_code == 302 and urlsplit(redirect["Location"]).netloc == store
    assert httpx.get(redirect["Location"]).content.startswith(PNG)
    assert {k for k in s3_server.keys(s3_bucket, f"tasks/{kept}/") if "/pages/" in k} == {
        f"tasks/{kept}/pages/0002-{done['output']['pages'][1]['dpi']}dpi.png"
    }

    assert api.delete(f"/tasks/{kept}").status_code == 200
    assert s3_server.keys(s3_bucket, f"tasks/{kept}/") == set()
    assert s3_server.keys(s3_bucket, f"tasks/{expiring}/")
    assert tasks_purge_expired(now=timezone.now() + timedelta(minutes=2)) == 1
    assert s3_server.keys(s3_bucket, f"tasks/{expiring}/") == set()
    assert {k for k in s3_server.keys(s3_bucket) if not k.startswith("tasks/")} == {input_key}  # the upload lives on
    assert not settings.MEDIA_ROOT.exists()

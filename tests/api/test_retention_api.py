"""Retention through the REST API: the workspace default applies to uploads, expired tasks are unknown (404), and
under zero data retention the first answer that carries a result — from the whole stack or from the poll path's
cached answers (api/answers.py) — is the last: the task is then a tombstone with its status and no output."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app.api import tasks as task_routes
from tasks_app.api.answers import answer_cache
from tasks_app.choices import ZdrTrigger
from tasks_app.models import Task, TaskOutput, WebhookEndpoint
from tasks_app.services.processing import task_process
from tasks_app.services.retention import ZDR_MESSAGE, retention_update
from tests.factories import pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.CHUNKR_API_CACHE_BYTES = 64 * 1024 * 1024
    answer_cache.clear()
    yield settings.MEDIA_ROOT
    answer_cache.clear()


@pytest.fixture
def api(client, api_key):
    headers = {"Authorization": api_key}

    class Api:
        def get(self, path, **params):
            return client.get(f"/api/v1{path}", params, headers=headers)

        def parse(self, **body):
            data = base64.b64encode(pdf_bytes("Invoice total 42")).decode()
            return client.post(
                "/api/v1/tasks/parse",
                {"file": data, "file_name": "secret.pdf", **body},
                content_type="application/json",
                headers=headers,
            )

        def parsed(self, **body) -> Task:
            """A task uploaded through the API and run in-process to Succeeded."""
            response = self.parse(**body)
            assert response.status_code == 200, response.content
            task_id = response.json()["task_id"]
            task_process(task_id=task_id)
            return Task.objects.get(pk=task_id)

    return Api()


def zdr_on(workspace, trigger=ZdrTrigger.FIRST, expires_in=None):
    retention_update(
        workspace=workspace, actor=None, default_expires_in=expires_in, zdr_enabled=True, zdr_trigger=trigger
    )


def files(media, task):
    return [
        p for p in media.rglob("*") if p.is_file() and (str(task.pk) in str(p) or str(task.input_file_id) in str(p))
    ]


def assert_tombstone_answer(body: dict, task: Task):
    assert body["task_id"] == str(task.pk)
    assert (body["status"], body["completed"], body["output"]) == ("Succeeded", True, None)
    assert body["message"] == ZDR_MESSAGE
    assert body["file_info"]["page_count"] == task.page_count and body["created_at"] and body["finished_at"]
    assert body["input_file_url"] is None and body["file_info"]["name"] is None


def test_workspace_default_applies_to_api_uploads(api, workspace):
    zdr_on(workspace, expires_in=86400)
    body = api.parse().json()
    task = Task.objects.get(pk=body["task_id"])
    assert task.expires_at - task.created_at == timedelta(days=1)
    assert body["expires_at"] is not None and task.zdr == ZdrTrigger.FIRST
    own = Task.objects.get(pk=api.parse(expires_in=600).json()["task_id"])
    assert own.expires_at - own.created_at == timedelta(minutes=10)


def test_expired_tasks_are_404_everywhere_in_the_api(api, workspace):
    task = api.parsed(expires_in=60)
    assert api.get(f"/tasks/{task.pk}").status_code == 200
    Task.objects.filter(pk=task.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for path in (f"/tasks/{task.pk}", f"/tasks/{task.pk}/parse", f"/task/{task.pk}", f"/job/{task.pk}"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Task not found"
    assert str(task.pk) not in api.get("/tasks").content.decode()


def test_zdr_first_get_returns_the_output_then_only_a_tombstone(api, workspace, media):
    zdr_on(workspace)
    task = api.parsed()
    assert files(media, task)

    first = api.get(f"/tasks/{task.pk}")
    assert first.status_code == 200 and first.json()["output"]["chunks"]

    assert not TaskOutput.objects.filter(task=task).exists()
    assert not files(media, task)
    second = api.get(f"/tasks/{task.pk}")
    assert second.status_code == 200
    assert_tombstone_answer(second.json(), task)
    assert_tombstone_answer(api.get(f"/task/{task.pk}").json(), task)  # the legacy route too
    listed = api.get("/tasks").json()["tasks"]
    assert [t["status"] for t in listed if t["task_id"] == str(task.pk)] == ["Succeeded"]


@pytest.mark.parametrize("path", ["/task/{id}", "/job/{id}", "/tasks/{id}/parse"])
def test_zdr_counts_a_fetch_on_every_route_that_answers_a_task(api, workspace, path):
    zdr_on(workspace)
    task = api.parsed()
    assert api.get(path.format(id=task.pk)).status_code == 200
    assert Task.objects.get(pk=task.pk).is_tombstone


def test_zdr_counts_a_list_answer_that_carries_the_result(api, workspace):
    zdr_on(workspace)
    task = api.parsed()
    listed = api.get("/tasks").json()["tasks"]
    assert listed[0]["output"] is not None
    assert Task.objects.get(pk=task.pk).is_tombstone


def test_zdr_both_poll_served_from_the_cache_deletes_once_its_condition_holds(api, workspace, media, monkeypatch):
    """The poll path (CachedAnswerMiddleware -> cached_answer) answers without the route: it notes the fetch too."""
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, url="https://example.org/hook", secret="whsec_x")
    zdr_on(workspace, ZdrTrigger.BOTH)
    task = api.parsed()
    first = api.get(f"/tasks/{task.pk}")
    assert first.json()["output"] is not None
    row = Task.objects.get(pk=task.pk)
    assert row.fetched_at is not None and not row.is_tombstone and files(media, task)  # waits for the webhook

    # With no endpoint left to deliver to, the fetch alone counts; the next poll is a cache hit served early.
    endpoint.enabled = False
    endpoint.save()
    routed = []
    original = task_routes.task_answer
    monkeypatch.setattr(task_routes, "task_answer", lambda *a, **k: routed.append(1) or original(*a, **k))
    hits = answer_cache.hits
    second = api.get(f"/tasks/{task.pk}")
    assert second.content == first.content and answer_cache.hits == hits + 1 and routed == []
    assert Task.objects.get(pk=task.pk).is_tombstone and not files(media, task)
    assert_tombstone_answer(api.get(f"/tasks/{task.pk}").json(), task)


def test_a_workspace_without_zdr_keeps_outputs_after_fetches(api, workspace, media):
    task = api.parsed()
    api.get(f"/tasks/{task.pk}")
    api.get(f"/tasks/{task.pk}")
    row = Task.objects.get(pk=task.pk)
    assert (row.zdr, row.fetched_at, row.is_tombstone) == ("", None, False)
    assert TaskOutput.objects.filter(task=task).exists() and files(media, task)


def test_another_workspace_sees_404_for_a_tombstone(api, workspace, other_workspace, client):
    from tasks_app.services.api_keys import api_key_create

    zdr_on(workspace)
    task = api.parsed()
    api.get(f"/tasks/{task.pk}")
    _, other_key = api_key_create(workspace=other_workspace, name="other")
    assert client.get(f"/api/v1/tasks/{task.pk}", headers={"Authorization": other_key}).status_code == 404


def test_a_tombstone_cannot_be_extracted_from_or_re_run(api, workspace, client, api_key):
    zdr_on(workspace)
    task = api.parsed()
    api.get(f"/tasks/{task.pk}")
    schema = {"type": "object", "properties": {"total": {"type": "number"}}}
    extract = client.post(
        "/api/v1/tasks/extract",
        {"file": str(task.pk), "schema": schema},
        content_type="application/json",
        headers={"Authorization": api_key},
    )
    assert extract.status_code == 400 and "zero data retention" in extract.json()["message"]
    patch = client.patch(
        f"/api/v1/task/{task.pk}/parse",
        {"ocr_strategy": "All"},
        content_type="application/json",
        headers={"Authorization": api_key},
    )
    assert patch.status_code == 400 and "zero data retention" in patch.json()["message"]

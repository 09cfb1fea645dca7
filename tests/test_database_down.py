"""A database that goes away is the server's trouble, not the client's: the API answers 503 with a message and
`Retry-After`, the dashboard a 503 page (rendered without the database), never a 500 or a traceback."""

from unittest import mock

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest
from django.test import Client

from tests.factories import parse_task, pdf_bytes

LOST = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def test_the_api_answers_503_with_retry_after_when_the_database_is_lost(client, api_key, workspace):
    task = parse_task(workspace, pdf_bytes("here"))
    with mock.patch("tasks_app.api.auth.selectors.api_key_active", side_effect=LOST):
        answer = client.get(f"/api/v1/tasks/{task.pk}", headers={"Authorization": api_key})
    assert answer.status_code == 503 and answer["Retry-After"] == "10"
    assert answer.json()["code"] == "unavailable" and "database is unavailable" in answer.json()["message"]
    assert "5432" not in answer.content.decode()  # nothing of the server's insides
    with mock.patch("tasks_app.api.tasks.selectors.task_list", side_effect=InterfaceError("connection already closed")):
        listed = client.get("/api/v1/tasks", headers={"Authorization": api_key})
    assert listed.status_code == 503 and listed["Retry-After"] == "10"


def test_a_dashboard_page_is_a_503_page_when_the_database_is_lost(db, workspace, make_user, settings):
    settings.DEBUG = False
    browser = Client(raise_request_exception=False)
    make_user("dora", workspace=workspace)
    browser.login(request=HttpRequest(), username="dora", password="pw-for-tests-1")
    with mock.patch("tasks_app.middleware.Membership.objects.filter", side_effect=LOST):
        page = browser.get("/tasks/")
    assert page.status_code == 503 and page["Retry-After"] == "10"
    assert "database is unavailable" in page.content.decode() and "Traceback" not in page.content.decode()
    with mock.patch("tasks_app.middleware.Membership.objects.filter", side_effect=ZeroDivisionError):
        broken = browser.get("/tasks/")
    assert broken.status_code == 500 and "ZeroDivisionError" not in broken.content.decode()

"""Settings › Retention and › Usage, and how tombstones look in the dashboard."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks_app.choices import Role, TaskStatus
from tasks_app.models import AuditEvent, Task
from tasks_app.services.retention import zdr_note_fetched
from tasks_app.views import retention, usage
from tests.factories import pdf_bytes

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_the_pages_name_their_permission():
    assert retention.retention_page.permission == "retention.manage"
    assert usage.usage_page.permission == usage.usage_csv.permission == "usage.read"


@pytest.mark.parametrize("path", ["/settings/retention/", "/settings/usage/", "/settings/usage.csv"])
@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_only_admins_see_retention_and_usage(client, login, path, role):
    login(role=role)
    assert client.get(path).status_code == 403


def test_retention_page_shows_the_current_settings_and_the_menu_links(client, login, workspace):
    workspace.default_expires_in = 7 * 86400
    workspace.save()
    login(role=Role.ADMIN)
    body = client.get("/settings/retention/").content.decode()
    for marker in ("data-retention-form", "data-retention-default", "data-zdr", "data-zdr-trigger"):
        assert marker in body
    assert '<option value="604800" selected>7 days</option>' in body
    assert 'href="/settings/retention/"' in body and 'href="/settings/usage/"' in body


def test_saving_24_hours_and_zdr_is_stored_and_audited(client, login, workspace):
    admin = login(role=Role.ADMIN)
    response = client.post("/settings/retention/", {"default": "86400", "zdr": "on", "zdr_trigger": "both"})
    assert response.status_code == 200 and "data-retention-saved" in response.content.decode()
    workspace.refresh_from_db()
    assert (workspace.default_expires_in, workspace.zdr_enabled, workspace.zdr_trigger) == (86400, True, "both")
    event = AuditEvent.objects.get(verb="retention.changed")
    assert event.actor_user == admin and event.data["to"]["default_expires_in"] == 86400


def test_custom_hours_and_never(client, login, workspace):
    login(role=Role.ADMIN)
    client.post("/settings/retention/", {"default": "custom", "custom_hours": "36", "zdr_trigger": "first"}, headers=HX)
    workspace.refresh_from_db()
    assert (workspace.default_expires_in, workspace.zdr_enabled) == (36 * 3600, False)
    body = client.get("/settings/retention/").content.decode()
    assert '<option value="custom" selected>' in body and 'value="36"' in body
    client.post("/settings/retention/", {"default": "", "zdr_trigger": "first"})
    workspace.refresh_from_db()
    assert workspace.default_expires_in is None


def test_custom_without_hours_is_refused_in_the_form(client, login, workspace):
    login(role=Role.ADMIN)
    response = client.post("/settings/retention/", {"default": "custom", "zdr_trigger": "first"}, headers=HX)
    assert response.status_code == 400 and "Give the number of hours" in response.content.decode()
    assert "<html" not in response.content.decode()  # htmx gets the form's partial
    workspace.refresh_from_db()
    assert workspace.default_expires_in is None


def test_dashboard_uploads_take_the_default_set_here(client, login, workspace):
    login(role=Role.ADMIN)
    client.post("/settings/retention/", {"default": "86400", "zdr": "on", "zdr_trigger": "first"})
    client.post("/upload/file/", {"expires_in": "", "file": SimpleUploadedFile("a.pdf", pdf_bytes())}, headers=HX)
    task = Task.objects.get(workspace=workspace)
    assert task.expires_at - task.created_at == timedelta(days=1) and task.zdr == "first"


def test_a_tombstone_is_listed_as_deleted_and_the_viewer_shows_no_content(client, login, workspace, processed):
    workspace.zdr_enabled = True
    workspace.save()
    login(role=Role.ADMIN)
    task = processed("Confidential words", name="salary.pdf")
    assert zdr_note_fetched(task.pk)
    listing = client.get("/tasks/").content.decode()
    row = listing[listing.index(f'id="task-{task.pk}"') :].split("</tr>")[0]
    assert "data-tombstone" in row and "Deleted (zero data retention)" in row and "salary.pdf" not in row
    assert 'data-status="Succeeded"' in row
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "data-tombstone" in page and "Confidential" not in page and "data-download-menu" not in page
    assert "data-page" not in page


def test_usage_page_draws_a_bar_per_day_and_the_tables(client, login, workspace, processed):
    admin = login(role=Role.ADMIN)
    processed("one", "two", actor=admin)
    body = client.get("/settings/usage/").content.decode()
    assert "<svg data-usage-chart" in body and body.count('class="bar"') == 30
    assert 'data-usage-table="members"' in body and "<td>ada" not in body
    assert f'<td>{admin.get_username()}</td><td class="num">1</td><td class="num">2</td>' in body
    assert "peak 2 pages" in body


@pytest.mark.parametrize("path", ["/settings/usage.csv", "/settings/usage/?format=csv"])
def test_usage_csv(client, login, workspace, processed, path):
    admin = login(role=Role.ADMIN)
    task = processed("one", "two", actor=admin)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.SUCCEEDED)
    response = client.get(path)
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["date", "member_or_key", "task_type", "status", "tasks", "pages_processed"]
    assert rows[1][1:] == [admin.get_username(), "Parse", "Succeeded", "1", "2"]


@pytest.mark.parametrize(
    ("seconds", "words"), [(None, "forever"), (86400, "24 hours"), (36 * 3600, "36 hours"), (3 * 86400, "3 days")]
)
def test_the_upload_page_names_the_workspace_default_in_words(client, login, workspace, seconds, words):
    workspace.default_expires_in = seconds
    workspace.save()
    login()
    assert f"Workspace default: {words}</span>" in client.get("/upload/").content.decode()


def test_expired_tasks_leave_the_dashboard(client, login, workspace, processed):
    from django.utils import timezone

    login()
    task = processed("Soon gone")
    assert f'id="task-{task.pk}"' in client.get("/tasks/").content.decode()
    Task.objects.filter(pk=task.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert f'id="task-{task.pk}"' not in client.get("/tasks/").content.decode()
    assert client.get(f"/tasks/{task.pk}/").status_code == 404

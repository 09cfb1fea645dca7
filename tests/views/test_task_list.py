import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app.choices import Role, TaskStatus, TaskType
from tasks_app.models import ParsePreset, Task, TaskOutput

HX = {"HX-Request": "true"}


def make_task(workspace, name, *, status=TaskStatus.SUCCEEDED, user=None, key=None, days_ago=0, pages=1, **extra):
    now = timezone.now()
    return Task.objects.create(
        workspace=workspace,
        file_name=name,
        status=status,
        created_by_user=user,
        created_by_key=key,
        created_at=now - timedelta(days=days_ago),
        page_count=pages,
        finished_at=now - timedelta(days=days_ago) + timedelta(minutes=1)
        if status in ("Succeeded", "Failed")
        else None,
        **extra,
    )


def row_names(response) -> list[str]:
    body = response.content.decode()
    return re.findall(r'<td class="file-name"[^>]*><a href="/tasks/[0-9a-f-]+/">([^<]+)</a>', body)


def test_rows_carry_task_ids_and_every_column(client, login, workspace):
    user = login()
    task = make_task(workspace, "alpha.pdf", user=user, pages=7, expires_at=timezone.now() + timedelta(days=1))
    body = client.get("/tasks/").content.decode()
    assert f'data-task-id="{task.pk}"' in body
    assert "alpha.pdf" in body and ">7<" in body and "Succeeded" in body and "mia" in body and "in 23" in body


def test_list_never_loads_task_output(client, login, workspace, django_assert_max_num_queries):
    login()
    for i in range(30):
        task = make_task(workspace, f"doc-{i}.pdf")
        TaskOutput.objects.create(task=task, data={"chunks": [], "big": "x" * 1000})
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tasks/?limit=25")
    assert response.status_code == 200 and len(row_names(response)) == 25
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "tasks_app_taskoutput" not in sql
    assert "COUNT(" not in sql.upper()  # the total comes later from /tasks/count/
    assert '"tasks_app_task"."configuration"' not in sql
    assert len(queries) <= 8


def test_filters_status_type_name_dates_and_creator(client, login, workspace, make_user, api_key):
    me = login()
    other = make_user("olga", workspace=workspace, role=Role.MEMBER)
    from tasks_app.models import ApiKey

    key = ApiKey.objects.get(workspace=workspace)
    make_task(workspace, "invoice-march.pdf", user=me, days_ago=1)
    make_task(workspace, "invoice-april.pdf", user=other, status=TaskStatus.FAILED, days_ago=10)
    make_task(workspace, "scan.png", key=key, status=TaskStatus.PROCESSING, days_ago=3)
    make_task(workspace, "fields.pdf", user=me, task_type=TaskType.EXTRACT)
    assert sorted(row_names(client.get("/tasks/?status=Failed"))) == ["invoice-april.pdf"]
    assert sorted(row_names(client.get("/tasks/?type=Extract"))) == ["fields.pdf"]
    assert sorted(row_names(client.get("/tasks/?q=INVOICE"))) == ["invoice-april.pdf", "invoice-march.pdf"]
    assert sorted(row_names(client.get(f"/tasks/?created_by={other.pk}"))) == ["invoice-april.pdf"]
    assert sorted(row_names(client.get("/tasks/?created_by=api"))) == ["scan.png"]
    since = (timezone.localdate() - timedelta(days=5)).isoformat()
    until = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert row_names(client.get(f"/tasks/?created_from={since}&created_to={until}")) == ["scan.png"]
    assert client.get("/tasks/count/?q=invoice").content.decode() == "2 tasks"


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-created", ["c.pdf", "b.pdf", "a.pdf"]),
        ("created", ["a.pdf", "b.pdf", "c.pdf"]),
        ("file_name", ["a.pdf", "b.pdf", "c.pdf"]),
        ("-file_name", ["c.pdf", "b.pdf", "a.pdf"]),
        ("pages", ["b.pdf", "c.pdf", "a.pdf"]),
        ("-pages", ["a.pdf", "c.pdf", "b.pdf"]),
        ("status", ["b.pdf", "c.pdf", "a.pdf"]),
        ("-finished", ["c.pdf", "a.pdf", "b.pdf"]),
    ],
)
def test_sorting_in_both_directions(client, login, workspace, sort, expected):
    login()
    make_task(workspace, "a.pdf", days_ago=3, pages=30, status=TaskStatus.SUCCEEDED)
    make_task(workspace, "b.pdf", days_ago=2, pages=1, status=TaskStatus.FAILED)
    make_task(workspace, "c.pdf", days_ago=1, pages=5, status=TaskStatus.PROCESSING)
    Task.objects.filter(file_name="c.pdf").update(finished_at=timezone.now())  # newest finish
    Task.objects.filter(file_name="a.pdf").update(finished_at=timezone.now() - timedelta(hours=1))  # a re-run
    assert row_names(client.get(f"/tasks/?sort={sort}")) == expected


def test_pages_of_25_50_100_with_state_in_the_url(client, login, workspace):
    login()
    for i in range(60):
        make_task(workspace, f"f{i:03}.pdf")
    first = client.get("/tasks/?sort=file_name&limit=25&q=f")
    assert row_names(first)[:2] == ["f000.pdf", "f001.pdf"] and len(row_names(first)) == 25
    body = first.content.decode()
    assert 'href="?sort=file_name&amp;limit=25&amp;q=f&amp;page=2"' in body  # filters and sort kept
    third = client.get("/tasks/?sort=file_name&limit=25&q=f&page=3")
    assert row_names(third) == [f"f{i:03}.pdf" for i in range(50, 60)]
    assert 'rel="next"' not in third.content.decode()
    assert len(row_names(client.get("/tasks/?limit=50"))) == 50
    assert len(row_names(client.get("/tasks/?limit=100"))) == 60
    assert len(row_names(client.get("/tasks/?limit=7&page=abc&sort=nope"))) == 25  # bad values fall back


def test_htmx_filter_request_gets_only_the_results_fragment(client, login, workspace):
    login()
    make_task(workspace, "a.pdf")
    response = client.get("/tasks/?q=a", headers={**HX, "HX-Target": "results"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">') and "<html" not in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_processing_row_polls_and_terminal_row_does_not(client, login, workspace):
    login()
    running = make_task(
        workspace,
        "run.pdf",
        status=TaskStatus.PROCESSING,
        pages_total=10,
        pages_done=3,
        message="Processing page 4 of 10",
    )
    body = client.get(f"/tasks/{running.pk}/row/", headers=HX).content.decode()
    assert 'hx-trigger="every 2s"' in body and 'aria-valuenow="30"' in body and "Processing page 4 of 10" in body
    Task.objects.filter(pk=running.pk).update(status=TaskStatus.SUCCEEDED)
    body = client.get(f"/tasks/{running.pk}/row/", headers=HX).content.decode()
    assert "hx-trigger" not in body and "Succeeded" in body


def test_other_workspaces_tasks_are_invisible(client, login, other_workspace):
    login()
    theirs = make_task(other_workspace, "secret.pdf")
    assert "secret.pdf" not in client.get("/tasks/").content.decode()
    assert client.get(f"/tasks/{theirs.pk}/row/").status_code == 404
    assert client.get(f"/tasks/{theirs.pk}/").status_code == 404
    client.post("/tasks/bulk/", {"action": "delete", "task_ids": [str(theirs.pk)]}, headers=HX)
    assert Task.objects.filter(pk=theirs.pk).exists()


def bulk(client, action, tasks, **extra):
    return client.post("/tasks/bulk/", {"action": action, "task_ids": [str(t.pk) for t in tasks], **extra}, headers=HX)


def test_member_bulk_deletes_own_tasks_but_not_others(client, login, workspace, make_user):
    me = login()
    other = make_user("olga", workspace=workspace)
    mine = [make_task(workspace, f"mine{i}.pdf", user=me) for i in range(2)]
    theirs = make_task(workspace, "theirs.pdf", user=other)
    response = bulk(client, "delete", [*mine, theirs], query="sort=file_name")
    body = response.content.decode()
    assert "Deleted 2 tasks." in body and "1 not yours" in body
    assert list(Task.objects.values_list("file_name", flat=True)) == ["theirs.pdf"]
    assert row_names(response) == ["theirs.pdf"]  # the list comes back rendered with the same query


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_admins_and_owners_delete_anyones_tasks(client, login, workspace, make_user, role):
    login("boss", role)
    other = make_user("olga", workspace=workspace)
    tasks = [make_task(workspace, "theirs.pdf", user=other), make_task(workspace, "api.pdf")]
    assert "Deleted 2 tasks." in bulk(client, "delete", tasks).content.decode()
    assert not Task.objects.exists()


def test_viewers_cannot_use_bulk_actions_and_see_no_checkboxes(client, login, workspace):
    login("vera", Role.VIEWER)
    task = make_task(workspace, "a.pdf")
    body = client.get("/tasks/").content.decode()
    assert 'name="task_ids"' not in body and "Upload documents" not in body
    assert bulk(client, "delete", [task]).status_code == 403
    assert Task.objects.filter(pk=task.pk).exists()


def test_bulk_cancel_skips_finished_tasks_with_a_reason(client, login, workspace):
    me = login()
    waiting = make_task(workspace, "wait.pdf", user=me, status=TaskStatus.STARTING)
    done = make_task(workspace, "done.pdf", user=me)
    body = bulk(client, "cancel", [waiting, done]).content.decode()
    assert "Cancelled 1 task." in body and "status is Succeeded" in body
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.CANCELLED


def test_bulk_rerun_with_a_preset_creates_new_tasks_over_the_same_input(client, login, workspace):
    from tests.factories import parse_task, pdf_bytes

    login()
    original = parse_task(workspace, pdf_bytes("x"), name="orig.pdf")
    preset = ParsePreset.objects.create(
        workspace=workspace, name="Pages", configuration={"segmentation_strategy": "Page"}
    )
    body = bulk(client, "rerun", [original], preset=str(preset.pk)).content.decode()
    assert "Re-queued 1 task." in body
    rerun = Task.objects.exclude(pk=original.pk).get()
    assert rerun.input_file_id == original.input_file_id and rerun.file_name == "orig.pdf"
    assert rerun.configuration["segmentation_strategy"] == "Page" and rerun.status == TaskStatus.STARTING

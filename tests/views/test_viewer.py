import json
import re

import pytest

from tasks_app.choices import Role, TaskStatus
from tasks_app.models import Task, TaskOutput
from tasks_app.views.viewer import segment_views

HX = {"HX-Request": "true"}


def output_segments(task) -> list[dict]:
    data = TaskOutput.objects.get(task=task).data
    return [s for c in data["chunks"] for s in c["segments"]]


def box_ids(body: str) -> list[str]:
    return re.findall(r'class="seg" data-segment-id="([^"]+)"', body)


def test_viewer_draws_one_box_per_segment_in_page_percentages(client, login, processed):
    login()
    task = processed("Quarterly report", "Second page")
    segments = output_segments(task)
    body = client.get(f"/tasks/{task.pk}/").content.decode()
    assert sorted(box_ids(body)) == sorted(s["segment_id"] for s in segments)  # two pages: both eager
    first = segments[0]
    left = 100 * first["bbox"]["left"] / first["page_width"]
    assert f"left:{left:.3f}%" in body
    assert f'data-segment-type="{first["segment_type"]}"' in body
    assert body.count('class="page-frame"') == 2 and 'loading="lazy"' in body
    assert 'data-type-toggle="' in body and "/static/js/viewer.js" in body


def test_pages_past_the_first_two_load_their_boxes_when_scrolled_to(client, login, processed):
    login()
    task = processed("one", "two", "three")
    body = client.get(f"/tasks/{task.pk}/").content.decode()
    third = [s for s in output_segments(task) if s["page_number"] == 3]
    assert f'hx-get="/tasks/{task.pk}/pages/3/segments/"' in body
    assert not set(box_ids(body)) & {s["segment_id"] for s in third}
    fragment = client.get(f"/tasks/{task.pk}/pages/3/segments/", headers=HX).content.decode()
    assert sorted(box_ids(fragment)) == sorted(s["segment_id"] for s in third)


def test_segment_panel_has_html_markdown_text_json_and_ocr_words(client, login, processed):
    login()
    task = processed("Hello panel")
    segment = output_segments(task)[0]
    body = client.get(f"/tasks/{task.pk}/segments/{segment['segment_id']}/?page=1", headers=HX).content.decode()
    for pane in ("html", "markdown", "text", "json", "ocr"):
        assert f'data-pane="{pane}"' in body
    assert "Hello panel" in body and 'id="ocr-words"' in body
    assert f'data-focus-segment="{segment["segment_id"]}"' in body
    words = json.loads(re.search(r'<script id="ocr-words" type="application/json">(.*?)</script>', body, re.S).group(1))
    assert [w["text"] for w in words] == ["Hello", "panel"]


def test_segment_html_is_sanitised():
    views = segment_views(
        {
            "segment_type": "Text",
            "content": '<p onclick="steal()">hi<script>alert(1)</script><img src=x onerror=y></p>',
            "text": "hi",
            "segment_id": "s",
        }
    )
    assert "<script" not in views["html"] and "onclick" not in views["html"] and "onerror" not in views["html"]
    assert "<p>hi" in views["html"]


def test_chunk_view_lists_chunks_with_their_segments_and_tokens(client, login, processed):
    login()
    task = processed("Alpha", "Beta", configuration={"chunk_processing": {"target_length": 0}})
    data = TaskOutput.objects.get(task=task).data
    body = client.get(f"/tasks/{task.pk}/chunks/", headers=HX).content.decode()
    assert body.count('class="chunk"') == len(data["chunks"])
    assert f"{data['chunks'][0]['chunk_length']} tokens" in body
    for chunk in data["chunks"]:
        for segment in chunk["segments"]:
            assert f'data-focus-segment="{segment["segment_id"]}"' in body


def test_downloads_json_markdown_html_and_the_original(client, login, processed):
    login()
    task = processed("Download me")
    as_json = client.get(f"/tasks/{task.pk}/download/json/")
    assert as_json["Content-Disposition"] == 'attachment; filename="report.json"'
    assert json.loads(as_json.content)["task_id"] == str(task.pk)
    assert json.loads(as_json.content)["output"]["chunks"]
    markdown = client.get(f"/tasks/{task.pk}/download/md/")
    assert "Download me" in markdown.content.decode() and markdown["Content-Type"].startswith("text/markdown")
    html = client.get(f"/tasks/{task.pk}/download/html/").content.decode()
    assert html.startswith("<!doctype html>") and "Download me" in html
    original = client.get(f"/tasks/{task.pk}/download/original/")
    assert b"".join(original.streaming_content).startswith(b"%PDF")
    assert client.get(f"/tasks/{task.pk}/download/exe/").status_code == 404


def test_live_status_polls_until_terminal_then_shows_the_document(client, login, workspace):
    from tests.factories import parse_task, pdf_bytes

    login()
    task = parse_task(workspace, pdf_bytes("x"))
    body = client.get(f"/tasks/{task.pk}/").content.decode()
    assert f'hx-get="/tasks/{task.pk}/body/"' in body and "Waiting for a worker" in body
    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.PROCESSING, pages_total=4, pages_done=1, message="Processing page 2 of 4"
    )
    body = client.get(f"/tasks/{task.pk}/body/", headers=HX).content.decode()
    assert "Processing page 2 of 4" in body and 'aria-valuenow="25"' in body and 'hx-trigger="every 1s"' in body
    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.FAILED, message="The PDF is damaged and could not be opened."
    )
    body = client.get(f"/tasks/{task.pk}/body/", headers=HX).content.decode()
    assert "hx-trigger" not in body and "The PDF is damaged and could not be opened." in body


def test_viewer_cancel_and_delete_follow_roles(client, login, workspace, make_user, processed):
    owner = make_user("olga", workspace=workspace)
    task = processed("x", actor=owner)
    login("mia", Role.MEMBER)
    body = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "/delete/" not in body
    assert client.post(f"/tasks/{task.pk}/delete/", headers=HX).status_code == 403
    login("vera", Role.VIEWER)
    assert client.get(f"/tasks/{task.pk}/").status_code == 200  # viewers can look
    assert client.post(f"/tasks/{task.pk}/delete/", headers=HX).status_code == 403
    client.force_login(owner)
    response = client.post(f"/tasks/{task.pk}/delete/", headers=HX)
    assert response["HX-Redirect"] == "/tasks/"
    assert not Task.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize("path", ["", "pages/1/segments/", "chunks/", "download/json/", "body/"])
def test_other_workspace_gets_404_everywhere(client, login, other_workspace, path):
    from tests.factories import parse_task, pdf_bytes

    login()
    theirs = parse_task(other_workspace, pdf_bytes("x"))
    assert client.get(f"/tasks/{theirs.pk}/{path}").status_code == 404


def test_viewers_can_look_at_everything(client, login, processed):
    task = processed("Read only")
    login("vera", Role.VIEWER)
    segment = output_segments(task)[0]
    for path in (
        "",
        "pages/1/segments/",
        f"segments/{segment['segment_id']}/",
        "chunks/",
        "download/json/",
        "download/md/",
        "download/original/",
    ):
        assert client.get(f"/tasks/{task.pk}/{path}").status_code == 200, path
    body = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "/cancel/" not in body and "/delete/" not in body


def test_members_cancel_their_own_running_task_but_not_others(client, login, workspace, make_user):
    from tests.factories import parse_task, pdf_bytes

    me = login()
    other = make_user("olga", workspace=workspace)
    mine, theirs = parse_task(workspace, pdf_bytes("a")), parse_task(workspace, pdf_bytes("b"))
    Task.objects.filter(pk=mine.pk).update(created_by_user=me)
    Task.objects.filter(pk=theirs.pk).update(created_by_user=other)
    assert client.post(f"/tasks/{theirs.pk}/cancel/", headers=HX).status_code == 403
    response = client.post(f"/tasks/{mine.pk}/cancel/", headers=HX)
    assert response.status_code == 200 and "cancelled" in response.content.decode()
    assert Task.objects.get(pk=mine.pk).status == TaskStatus.CANCELLED
    assert Task.objects.get(pk=theirs.pk).status == TaskStatus.STARTING

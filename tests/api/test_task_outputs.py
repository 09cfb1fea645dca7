"""How the API reads stored outputs: whole for include_chunks=true, without the chunks array otherwise."""

import copy

import pytest
from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.models import Task, TaskOutput

OUTPUT = {
    "chunks": [
        {
            "chunk_id": "c1",
            "chunk_length": 2,
            "segments": [
                {
                    "segment_id": "s1",
                    "segment_type": "Picture",
                    "content": "<img>",
                    "image": "tasks/t1/crops/s1.png",
                    "ocr": [{"text": "hi", "bbox": {"left": 1.5, "top": 2.0, "width": 3.0, "height": 4.0}}],
                }
            ],
        }
    ],
    "pages": [{"page_number": 1, "page_width": 612.0, "page_height": 792.0, "image": "tasks/t1/pages/1.png"}],
    "pdf_url": None,
    "file_name": "report.pdf",
    "page_count": 1,
}


def _succeeded(workspace, data) -> Task:
    task = Task.objects.create(
        workspace=workspace, status=TaskStatus.SUCCEEDED, file_name="report.pdf", finished_at=timezone.now()
    )
    TaskOutput.objects.create(task=task, data=data)
    return task


@pytest.mark.django_db
def test_the_database_keeps_each_output_without_its_chunks(workspace):
    task = _succeeded(workspace, OUTPUT)
    assert TaskOutput.objects.get(task=task).data_without_chunks == {**OUTPUT, "chunks": []}
    for data in ({"extraction": {"total": 3}}, [1, 2], "text"):  # no chunks to drop: the value as it is
        TaskOutput.objects.filter(task=task).update(data=data)
        assert TaskOutput.objects.get(task=task).data_without_chunks == data


@pytest.mark.django_db
def test_include_chunks_false_answers_are_the_whole_output_less_its_chunks(client, api_key, workspace):
    task = _succeeded(workspace, OUTPUT)
    headers = {"Authorization": api_key}
    whole = client.get(f"/api/v1/tasks/{task.pk}", headers=headers).json()["output"]
    [crop] = [s["image"] for c in whole["chunks"] for s in c["segments"]]
    assert crop.startswith("http://testserver/assets/")
    assert whole["chunks"][0]["segments"][0]["ocr"] == OUTPUT["chunks"][0]["segments"][0]["ocr"]
    slim = client.get(f"/api/v1/tasks/{task.pk}", {"include_chunks": "false"}, headers=headers).json()["output"]
    listed = client.get("/api/v1/tasks", headers=headers).json()["tasks"][0]["output"]
    for output in (slim, listed):
        assert output["chunks"] == []
        assert output["pages"][0]["image"].startswith("http://testserver/assets/")
        same = {k: v for k, v in whole.items() if k not in ("chunks", "pages")}
        assert {k: v for k, v in output.items() if k not in ("chunks", "pages")} == same


def test_resolving_urls_leaves_the_stored_output_as_it_was(rf):
    from tasks_app.presenters import UrlMaker, _resolve_output

    stored = copy.deepcopy(OUTPUT)
    resolved = _resolve_output(stored, UrlMaker(rf.get("/"), base64_urls=False), include_chunks=True, legacy=True)
    assert stored == OUTPUT
    segment = resolved["chunks"][0]["segments"][0]
    assert segment["segment_type"] == "Picture" and segment["html"] == "<img>"
    assert segment["image"].startswith("http://testserver/assets/")


@pytest.mark.django_db
def test_an_output_is_read_only_for_the_run_the_row_was_read_at(workspace):
    from tasks_app.selectors import task_output

    task = _succeeded(workspace, OUTPUT)
    assert task_output(task=task) == OUTPUT
    assert task_output(task=task, include_chunks=False) == {**OUTPUT, "chunks": []}
    # A legacy re-run finished after this row was read: its output is not the one this row's answer may show.
    Task.objects.filter(pk=task.pk).update(finished_at=timezone.now())
    assert task_output(task=task) is None
    task.refresh_from_db()
    assert task_output(task=task) == OUTPUT


@pytest.mark.django_db
def test_outputs_decode_exactly_whatever_numbers_they_hold(workspace):
    from tasks_app.selectors import json_loads, task_outputs

    exact = {"account": 123456789012345678901234, "negative": -9223372036854775809, "max": 2**63 - 1, "f": 0.1}
    task = _succeeded(workspace, {"extraction": exact, "text": "Übersicht ✓"})
    assert task_outputs(task_ids=[task.pk])[task.pk] == {"extraction": exact, "text": "Übersicht ✓"}
    assert json_loads('{"n": NaN, "big": 18446744073709551616}')["big"] == 2**64  # SQLite's JSON text may hold NaN

"""bench/api_bench.py's helpers: the data it seeds and the files it uploads are what its figures claim."""

import pytest

from bench.api_bench import make_big_pdf, pct, seed


@pytest.mark.django_db
def test_seed_makes_a_status_mix_with_outputs_on_the_newest_succeeded_tasks(workspace):
    from tasks_app.models import Task, TaskOutput
    from tasks_app.services.api_keys import api_key_create

    key, _ = api_key_create(workspace=workspace)
    output = {"chunks": [{"chunk_id": "c", "segments": []}], "pages": [], "pdf_url": None}
    with_output, _ = seed(workspace=workspace, api_key=key, n=300, output=output, output_tasks=40)
    tasks = Task.objects.filter(workspace=workspace)
    assert tasks.count() == 300 and tasks.filter(input_file__isnull=True).count() == 0
    assert {"Succeeded", "Failed", "Cancelled"} <= set(tasks.values_list("status", flat=True))
    newest = list(tasks.order_by("-created_at").values_list("task_id", "status")[:40])
    assert sorted(with_output) == sorted(str(pk) for pk, status in newest if status == "Succeeded")
    assert TaskOutput.objects.filter(task_id__in=with_output).count() == len(with_output)


def test_big_pdf_is_a_one_page_pdf_of_about_the_size_asked(tmp_path):
    from tasks_app import engine

    path = make_big_pdf(tmp_path / "big.pdf", 3 * 2**20)
    info = engine.sniff(path)
    assert (info.mime_type, info.page_count) == ("application/pdf", 1)
    assert abs(path.stat().st_size - 3 * 2**20) < 1024


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert (pct(values, 0.5), pct(values, 0.99), pct(values, 1.0)) == (51, 99, 100)

"""Migrations that carry data: what a deployment upgraded mid-work holds must still be there after it."""

from __future__ import annotations

import zlib

import orjson
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tasks_app import engine

BEFORE = [("tasks_app", "0010_ranges_and_dispatch")]
AFTER = [("tasks_app", "0011_range_part_bytes")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_a_range_part_stored_as_json_is_carried_over_as_bytes_and_back(tmp_path):
    """A range done before the upgrade, its merge not yet run: its part (JSON column) becomes the same document as
    engine.part_to_bytes writes, which the merge reads; migrating back restores the JSON."""
    part = engine.parse_pages(
        _pdf(tmp_path / "doc.pdf"), range(0, 2), engine.ParseOptions(workers=1), engine.MemorySink()
    )
    document = orjson.loads(orjson.dumps(engine.part_to_dict(part)))
    try:
        apps = _migrate(BEFORE)
        Workspace = apps.get_model("tasks_app", "Workspace")
        Task = apps.get_model("tasks_app", "Task")
        TaskRange = apps.get_model("tasks_app", "TaskRange")
        ws = Workspace.objects.create(name="migration")
        task = Task.objects.create(workspace=ws)
        TaskRange.objects.create(task=task, workspace=ws, index=0, first_page=0, stop_page=2, part=document)
        TaskRange.objects.create(task=task, workspace=ws, index=1, first_page=2, stop_page=4, part=None)

        apps = _migrate(AFTER)
        rows = list(apps.get_model("tasks_app", "TaskRange").objects.order_by("index"))
        assert rows[1].part is None
        assert orjson.loads(zlib.decompress(bytes(rows[0].part))) == document
        # What the merge does with it: the same part as the engine produced.
        again = engine.part_from_bytes(bytes(rows[0].part))
        assert again.pages == part.pages and again.segments == part.segments

        apps = _migrate(BEFORE)
        assert apps.get_model("tasks_app", "TaskRange").objects.get(index=0).part == document
    finally:
        _migrate(AFTER)


def _pdf(path):
    import pymupdf

    doc = pymupdf.open()
    for n in range(2):
        doc.new_page().insert_text((72, 72), f"Page {n + 1}: the quick brown fox.", fontsize=12)
    doc.save(path)
    return path

"""TaskRange.part: zlib-compressed JSON (engine.part_to_bytes) instead of a JSON column. Parts already stored (ranges
done, their merge not yet run) are carried over: the bytes are the same JSON document, compressed."""

import zlib

from django.db import migrations, models


def _json_to_bytes(apps, schema_editor):
    import orjson

    TaskRange = apps.get_model("tasks_app", "TaskRange")
    for item in TaskRange.objects.exclude(part=None).only("pk", "part").iterator(chunk_size=20):
        TaskRange.objects.filter(pk=item.pk).update(part_bytes=zlib.compress(orjson.dumps(item.part), 1))


def _bytes_to_json(apps, schema_editor):
    import orjson

    TaskRange = apps.get_model("tasks_app", "TaskRange")
    for item in TaskRange.objects.exclude(part_bytes=None).only("pk", "part_bytes").iterator(chunk_size=20):
        TaskRange.objects.filter(pk=item.pk).update(part=orjson.loads(zlib.decompress(bytes(item.part_bytes))))


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0010_ranges_and_dispatch")]

    operations = [
        migrations.AddField(model_name="taskrange", name="part_bytes", field=models.BinaryField(blank=True, null=True)),
        migrations.RunPython(_json_to_bytes, _bytes_to_json),
        migrations.RemoveField(model_name="taskrange", name="part"),
        migrations.RenameField(model_name="taskrange", old_name="part_bytes", new_name="part"),
    ]

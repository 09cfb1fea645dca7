"""API answers are rendered with orjson: the same JSON documents ninja's json.dumps renderer wrote."""

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel

from tasks_app.api.renderers import json_bytes


class Nested(BaseModel):
    when: datetime
    name: str


AWARE = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)
SAMPLES = {
    "datetimes": [
        AWARE,
        AWARE.replace(microsecond=0),
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=2))),
    ],
    "naive": datetime(2026, 11, 23, 9, 30),
    "date_time": [date(2026, 11, 23), time(9, 30, 15, 250000), timedelta(seconds=90)],
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "decimal": Decimal("1.10"),
    "text": ["Übersicht – naïve café ✓ 表 \U0001f600", 'quote " backslash \\ control \x01 \n\t', "\u2028"],
    "floats": [0.1, 1 / 3, 1e-05, 1e16, 1.5e300, -0.0, 3.0, 612.0, 123.456789012345, 5e-324],
    "ints": [0, -1, 2**63 - 1, -(2**63)],
    "model": Nested(when=AWARE, name="n"),
    "empty": [{}, [], None, True, False, ""],
    "tuple": (1, "two"),
}


def _old(data) -> bytes:
    return json.dumps(data, cls=NinjaJSONEncoder).encode()


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_orjson_renders_the_document_json_dumps_did(key):
    data = {key: SAMPLES[key]}
    assert json.loads(json_bytes(data)) == json.loads(_old(data))


def test_datetimes_keep_djangos_format_to_the_millisecond():
    rendered = json.loads(json_bytes({"at": AWARE, "model": Nested(when=AWARE, name="n")}))
    assert rendered == {"at": "2026-11-23T09:30:15.123Z", "model": {"when": "2026-11-23T09:30:15.123Z", "name": "n"}}


@pytest.mark.parametrize("data", [{"big": 2**64}, {1: "int key"}, {"lone": "\ud800"}])
def test_what_orjson_refuses_is_written_by_json_dumps(data):
    assert json_bytes(data) == _old(data)


def test_non_ascii_is_utf8_not_escaped():
    assert json_bytes({"name": "Übersicht"}) == '{"name":"Übersicht"}'.encode()


def test_a_task_answer_is_the_same_document_either_way(client, api_key, workspace):
    from tasks_app.api.schemas import TaskOut
    from tasks_app.presenters import task_to_dict
    from tests.factories import parse_task, pdf_bytes

    task = parse_task(workspace, pdf_bytes("Hello"), name="Übersicht.pdf")
    response = client.get(f"/api/v1/tasks/{task.pk}", headers={"Authorization": api_key})
    assert response["Content-Type"] == "application/json; charset=utf-8"
    request = response.wsgi_request
    expected = json.loads(_old(TaskOut.model_validate(task_to_dict(task, request=request)).model_dump()))
    answer = response.json()
    for body in (answer, expected):  # signed links: the same unless a URL bucket ended in between
        body["file_info"]["url"] = body["input_file_url"] = body["input_file_url"].split("/assets/")[0]
    assert answer == expected
    assert "Übersicht.pdf".encode() in response.content


def test_nan_which_json_cannot_hold_is_null():
    assert json_bytes({"x": float("nan"), "y": float("inf")}) == b'{"x":null,"y":null}'

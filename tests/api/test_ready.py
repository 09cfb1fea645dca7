"""GET /api/v1/ready: the readiness probe checks the database, the broker and the storage, and names what failed;
/api/v1/health stays the liveness probe."""

import time
from unittest import mock

from django.db.utils import OperationalError

from tasks_app.services.readiness import BROKER_DOWN, DATABASE_DOWN, MEDIA_NOT_WRITABLE, STORAGE_SLOW

ALL_OK = {"database": "ok", "broker": "ok", "storage": "ok"}


def test_ready_when_database_broker_and_storage_answer(client, db):
    response = client.get("/api/v1/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": ALL_OK}


def test_a_broker_that_is_down_is_a_503_naming_it(client, db, dead_broker):
    response = client.get("/api/v1/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {**ALL_OK, "broker": BROKER_DOWN}}
    assert client.get("/api/v1/health").content == b"OK"  # alive all the same: no restart for a broker outage


def test_a_database_that_is_down_is_a_503_naming_it(client, db):
    lost = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    with mock.patch("tasks_app.services.readiness.connection.cursor", side_effect=lost):
        response = client.get("/api/v1/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "database": DATABASE_DOWN}
    assert "5432" not in response.content.decode()  # nothing of the server's insides


def test_storage_that_is_missing_or_hangs_is_a_503_naming_it(client, db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "not-there")
    response = client.get("/api/v1/ready")
    assert response.status_code == 503 and response.json()["checks"]["storage"] == MEDIA_NOT_WRITABLE

    settings.MEDIA_ROOT = str(tmp_path)
    hangs = mock.patch("tasks_app.services.readiness.default_storage.exists", side_effect=lambda key: time.sleep(2))
    with mock.patch("tasks_app.services.readiness.STORAGE_TIMEOUT_SECONDS", 0.2), hangs:
        response = client.get("/api/v1/ready")
    assert response.status_code == 503 and response.json()["checks"]["storage"] == STORAGE_SLOW


def test_ready_is_public_and_documented_beside_health(client, db):
    assert client.get("/api/v1/ready", headers={"Authorization": "not-a-key"}).status_code == 200
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    responses = paths["/api/v1/ready"]["get"]["responses"]
    assert set(responses) >= {"200", "503"} and "401" not in responses
    assert set(responses["200"]["content"]) == {"application/json"}
    assert set(paths["/api/v1/health"]["get"]["responses"]["200"]["content"]) == {"text/plain"}  # unchanged

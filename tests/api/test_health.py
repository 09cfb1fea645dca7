def test_health_is_public_plain_ok(client, db):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.content == b"OK"
    assert response["Content-Type"].startswith("text/plain")


def test_health_tolerates_an_authorization_header(client, db):
    # The TS SDK sends its key on every request, public routes included.
    response = client.get("/api/v1/health", headers={"Authorization": "not-a-real-key"})
    assert response.status_code == 200


def test_openapi_document_is_served(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/health" in response.json()["paths"]


def test_openapi_documents_401_on_authenticated_routes(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "401" in schema["paths"]["/api/v1/tasks"]["get"]["responses"]
    assert "401" not in schema["paths"]["/api/v1/health"]["get"]["responses"]  # public route

import base64


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


def test_openapi_documents_what_the_routes_really_send(client):
    # Each of these was a `make fuzz-api` finding: the document said JSON where the server sends something else.
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/health"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    assert set(paths["/api/v1/tasks/{task_id}"]["delete"]["responses"]["200"]["content"]) == {"text/plain"}
    assert set(paths["/api/v1/files/{file_id}/content"]["get"]["responses"]["200"]["content"]) == {"*/*"}
    # 401 on /files/{id}: JSON when the file is not ours (contract §5), text when the key is missing (§1.2).
    file_401 = paths["/api/v1/files/{file_id}"]["get"]["responses"]["401"]["content"]
    assert set(file_401) == {"application/json", "text/plain"}
    assert "400" in paths["/api/v1/tasks/{task_id}"]["get"]["responses"]  # a query parameter that fails validation


def test_openapi_links_lead_from_a_created_task_to_its_routes(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    links = paths["/api/v1/tasks/parse"]["post"]["responses"]["200"]["links"]
    assert links["task_get"]["parameters"] == {"task_id": "$response.body#/task_id"}
    assert links["task_get"]["operationId"] == paths["/api/v1/tasks/{task_id}"]["get"]["operationId"]
    job_links = paths["/api/v1/tasks/parse"]["post"]["responses"]["202"]["links"]
    assert job_links["job_get"]["operationId"] == paths["/api/v1/job/{job_id}"]["get"]["operationId"]


def test_the_documented_example_file_is_a_real_pdf(client):
    # "Try it out" in /api/v1/docs and schemathesis' examples phase send it; it must parse.
    import pymupdf

    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    for name in ("ParseCreateIn", "ExtractCreateIn", "SplitCreateIn"):
        (example,) = schemas[name]["properties"]["file"]["examples"]
        header, _, payload = example.partition(",")
        assert header == "data:application/pdf;base64"
        with pymupdf.open(stream=base64.b64decode(payload), filetype="pdf") as doc:
            assert doc[0].get_text().strip() == "Hello, Chunkr"

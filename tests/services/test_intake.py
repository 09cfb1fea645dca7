"""services/intake.py: the one way in. The API and the dashboard get the same precheck and the same messages,
the configuration is validated once, the upload sniffed once, and nothing is kept of a refused input."""

from __future__ import annotations

import base64

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks_app import engine
from tasks_app.choices import TaskStatus, TaskType
from tasks_app.errors import ApplicationError, FileTooLarge
from tasks_app.models import StoredFile, Task
from tasks_app.services import intake
from tests.factories import encrypted_pdf, parse_task, pdf_bytes, store_file

HX = {"HX-Request": "true"}


def private_inputs(workspace) -> list[str]:
    """The files (not folders) stored as tasks' own input copies for the workspace."""
    found, todo = [], [f"inputs/{workspace.pk}"]
    while todo:
        folder = todo.pop()
        if default_storage.exists(folder):
            folders, files = default_storage.listdir(folder)
            found += [f"{folder}/{name}" for name in files]
            todo += [f"{folder}/{name}" for name in folders]
    return found


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("locked.pdf", encrypted_pdf(), engine.EncryptedDocument.default_message),
        ("blob.bin", b"\x00\x01\x02\xff" * 300, engine.UnsupportedFileType.default_message),
    ],
    ids=["encrypted", "unsupported"],
)
def test_the_api_and_the_dashboard_refuse_a_file_with_the_same_message_before_queueing(
    client, workspace, api_key, make_user, name, data, message
):
    client.force_login(make_user("mia", workspace=workspace))
    page = client.post("/upload/file/", {"file": SimpleUploadedFile(name, data)}, headers=HX)
    api = client.post(
        "/api/v1/tasks/parse",
        {"file": base64.b64encode(data).decode(), "file_name": name},
        content_type="application/json",
        headers={"Authorization": api_key},
    )

    assert (page.status_code, api.status_code) == (400, 400)
    assert message in page.content.decode()
    assert api.json()["message"] == message
    assert not Task.objects.exists() and not StoredFile.objects.exists()
    assert private_inputs(workspace) == []  # the refused bytes are gone too


@pytest.mark.django_db
def test_a_referenced_upload_is_prechecked_and_kept_when_refused(workspace):
    upload = store_file(workspace, encrypted_pdf(), "locked.pdf")  # POST /files accepts anything (contract §5.1)
    with pytest.raises(ApplicationError, match="password-protected"):
        intake.intake_parse(workspace=workspace, file=f"ch://files/{upload.file_id}", configuration=None, actor=None)
    assert StoredFile.objects.filter(pk=upload.pk).exists() and default_storage.exists(upload.storage_key)


@pytest.mark.django_db
def test_the_page_limit_and_the_size_limit(workspace, settings):
    settings.CHUNKR_MAX_PAGES = 2
    three = SimpleUploadedFile("three.pdf", pdf_bytes("a", "b", "c"))
    with pytest.raises(ApplicationError, match="The document has 3 pages; the limit is 2."):
        intake.intake_parse(workspace=workspace, file=three, configuration=None, actor=None)
    settings.CHUNKR_MAX_UPLOAD_BYTES = 100
    with pytest.raises(FileTooLarge):
        intake.intake_parse(
            workspace=workspace, file=SimpleUploadedFile("a.pdf", pdf_bytes()), configuration=None, actor=None
        )
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_an_accepted_upload_is_sniffed_once_and_its_configuration_validated_once(workspace, monkeypatch):
    calls = {"sniff": 0, "config": 0}
    sniff, from_dict = engine.sniff, engine.ParseConfig.from_dict.__func__

    def counting_sniff(*args, **kwargs):
        calls["sniff"] += 1
        return sniff(*args, **kwargs)

    def counting_from_dict(cls, *args, **kwargs):
        calls["config"] += 1
        return from_dict(cls, *args, **kwargs)

    monkeypatch.setattr(engine, "sniff", counting_sniff)
    monkeypatch.setattr(engine.ParseConfig, "from_dict", classmethod(counting_from_dict))

    task = intake.intake_parse(
        workspace=workspace,
        file=SimpleUploadedFile("two.pdf", pdf_bytes("a", "b")),
        configuration={"ocr_strategy": "All"},
        actor=None,
    )

    assert calls == {"sniff": 1, "config": 1}
    assert (task.status, task.page_count, task.file_name, task.input_file.mime_type) == (
        TaskStatus.STARTING,
        2,
        "two.pdf",
        "application/pdf",
    )
    assert task.configuration == engine.ParseConfig.from_dict({"ocr_strategy": "All"}).to_dict()


@pytest.mark.django_db
def test_a_bad_configuration_is_refused_before_anything_is_stored(workspace):
    with pytest.raises(ApplicationError, match="ocr_strategy"):
        intake.intake_parse(
            workspace=workspace,
            file=SimpleUploadedFile("a.pdf", pdf_bytes()),
            configuration={"ocr_strategy": "Nope"},
            actor=None,
        )
    assert not StoredFile.objects.exists() and private_inputs(workspace) == []


@pytest.mark.django_db
def test_dashboard_urls_must_be_http_and_public(workspace):
    with pytest.raises(ApplicationError, match="http:// or https://"):
        intake.intake_url(workspace=workspace, url="ftp://example.com/a.pdf", configuration=None, actor=None)
    with pytest.raises(ApplicationError, match="private or local address"):
        intake.intake_url(workspace=workspace, url="http://127.0.0.1/a.pdf", configuration=None, actor=None)
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_a_rerun_reads_the_same_input_with_another_configuration(workspace):
    first = parse_task(workspace, pdf_bytes("again"), name="again.pdf", expires_in=3600)
    again = intake.intake_rerun(task=first, configuration={"segmentation_strategy": "Page"}, actor=None)
    assert again.pk != first.pk and again.input_file_id == first.input_file_id
    assert again.configuration["segmentation_strategy"] == "Page" and again.file_name == "again.pdf"
    assert round((again.expires_at - again.created_at).total_seconds()) == 3600
    first.input_file.deleted_at = first.created_at
    first.input_file.save()
    with pytest.raises(ApplicationError, match="input file of this task is gone"):
        intake.intake_rerun(task=first, configuration=None, actor=None)


@pytest.mark.django_db
def test_extract_over_a_document_parses_it_first_and_over_a_task_reuses_it(workspace):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    data = base64.b64encode(pdf_bytes("Title")).decode()
    extract = intake.intake_extract(
        workspace=workspace, file=data, schema=schema, actor=None, parse_configuration={"ocr_strategy": "All"}
    )
    parse = extract.source_task
    assert (parse.task_type, extract.task_type) == (TaskType.PARSE, TaskType.EXTRACT)
    assert extract.configuration["parse_configuration"] == parse.configuration
    again = intake.intake_extract(workspace=workspace, file=str(parse.pk), schema=schema, actor=None)
    assert again.source_task_id == parse.pk and Task.objects.filter(task_type=TaskType.PARSE).count() == 1
    with pytest.raises(ApplicationError, match="not allowed when file is a task id"):
        intake.intake_extract(workspace=workspace, file=str(parse.pk), schema=schema, actor=None, file_name="x.pdf")
    with pytest.raises(ApplicationError, match="schema"):
        intake.intake_extract(workspace=workspace, file=data, schema=[], actor=None)


@pytest.mark.django_db
def test_while_the_job_queue_is_down_a_create_is_refused_with_503_and_nothing_stored(
    client, workspace, api_key, dead_broker
):
    from tasks_app.services.queue import QUEUE_DOWN

    response = client.post(
        "/api/v1/tasks/parse",
        {"file": base64.b64encode(pdf_bytes()).decode()},
        content_type="application/json",
        headers={"Authorization": api_key},
    )
    assert response.status_code == 503 and response.json()["message"] == QUEUE_DOWN
    assert int(response["Retry-After"]) > 0
    assert not Task.objects.exists() and not StoredFile.objects.exists()


@pytest.mark.django_db
def test_free_text_that_every_answer_echoes_is_bounded(workspace):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    data = base64.b64encode(pdf_bytes()).decode()
    with pytest.raises(ApplicationError, match="system_prompt: at most 20,000 characters"):
        intake.intake_extract(workspace=workspace, file=data, schema=schema, actor=None, system_prompt="x" * 20_001)
    big = {"type": "object", "properties": {f"f{n}": {"type": "string", "description": "d" * 100} for n in range(3000)}}
    with pytest.raises(ApplicationError, match="schema: at most 200,000 characters"):
        intake.intake_extract(workspace=workspace, file=data, schema=big, actor=None)
    assert not Task.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("llm_processing", "message"),
    [
        ({"temperature": "hot"}, "temperature: must be a number from 0 to 2"),
        ({"temperature": 7}, "temperature: must be a number from 0 to 2"),
        ({"fallback_strategy": "Sometimes"}, "fallback_strategy: must be"),
        ({"fallback_strategy": {"Model": 3}}, "fallback_strategy: must be"),
        ({"max_completion_tokens": 0}, "max_completion_tokens: must be a positive integer"),
        ({"colour": "red"}, "llm_processing.colour: unknown field"),
        ("fast", "llm_processing: must be an object"),
    ],
)
def test_llm_processing_is_validated_like_every_other_field(workspace, llm_processing, message):
    with pytest.raises(ApplicationError, match=message):
        intake.parse_config_check({"llm_processing": llm_processing})


def test_llm_processing_as_the_sdks_send_it_is_kept_and_echoed():
    sent = {"model_id": "gpt-4o", "fallback_strategy": {"Model": "gpt-4o-mini"}, "temperature": 0.0}
    assert intake.parse_config_resolve({"llm_processing": sent})["llm_processing"] == sent
    assert intake.parse_config_resolve({"llm_processing": None})["llm_processing"] is None

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks_app.choices import Role
from tasks_app.models import AuditEvent, ParsePreset, StoredFile, Task
from tests.factories import encrypted_pdf, pdf_bytes, png_bytes

HX = {"HX-Request": "true"}


def zip_bytes() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return out.getvalue()


def test_upload_page_shows_the_dropzone_the_picker_and_the_processing_panel(client, login):
    login()
    body = client.get("/upload/").content.decode()
    assert '<input id="file-input" type="file" name="file" multiple' in body
    assert 'name="segmentation_strategy"' in body and 'name="ocr_strategy"' in body
    assert 'name="target_length"' in body and 'name="tokenizer"' in body and 'name="error_handling"' in body
    assert 'name="sp_Table_format"' in body and 'name="sp_Picture_crop_image"' in body
    for label in ("Workspace default", "1 hour", "1 day", "7 days", "30 days", "Never"):
        assert f">{label}</option>" in body
    assert "/static/js/upload.js" in body


def test_one_file_upload_queues_a_task_with_the_panel_settings(client, login, workspace):
    user = login()
    data = {
        "segmentation_strategy": "Page",
        "ocr_strategy": "Auto",
        "target_length": "512",
        "tokenizer": "Cl100kBase",
        "error_handling": "Continue",
        "expires_in": "3600",
        "sp_Text_format": "Html",
        "file": SimpleUploadedFile("a.pdf", pdf_bytes("One", "Two"), "application/pdf"),
    }
    response = client.post("/upload/file/", data, headers=HX)
    assert response.status_code == 200
    task = Task.objects.get(workspace=workspace)
    body = response.content.decode()
    assert f"/tasks/{task.pk}/" in body and "<html" not in body  # the result row, not a page
    assert task.created_by_user == user and task.file_name == "a.pdf" and task.page_count == 2
    assert task.configuration["segmentation_strategy"] == "Page"
    assert task.configuration["chunk_processing"]["tokenizer"] == {"Enum": "Cl100kBase"}
    assert task.configuration["chunk_processing"]["target_length"] == 512
    assert task.configuration["segment_processing"]["Text"]["format"] == "Html"
    assert task.configuration["error_handling"] == "Continue"
    assert round((task.expires_at - task.created_at).total_seconds()) == 3600


@pytest.mark.parametrize(("expires_in", "expected"), [("", 7200), ("0", None), ("86400", 86400)])
def test_retention_choice_workspace_default_never_or_explicit(client, login, workspace, expires_in, expected):
    workspace.default_expires_in = 7200
    workspace.save()
    login()
    client.post(
        "/upload/file/", {"expires_in": expires_in, "file": SimpleUploadedFile("a.pdf", pdf_bytes())}, headers=HX
    )
    task = Task.objects.get(workspace=workspace)
    got = round((task.expires_at - task.created_at).total_seconds()) if task.expires_at else None
    assert got == expected


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.zip", "zip", "Unsupported file type: ZIP archives are not read"),
        ("locked.pdf", "encrypted", "password-protected"),
        ("empty.pdf", b"", "empty"),
        ("blob.bin", b"\x00\x01\x02\xff" * 300, "Unsupported file type"),
    ],
)
def test_bad_files_are_refused_in_the_page_and_nothing_is_queued_or_kept(client, login, workspace, name, data, message):
    login()
    payload = {"zip": zip_bytes, "encrypted": encrypted_pdf}[data]() if isinstance(data, str) else data
    response = client.post("/upload/file/", {"file": SimpleUploadedFile(name, payload)}, headers=HX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Task.objects.exists()
    assert not StoredFile.objects.exists()


def test_page_limit_is_checked_before_queueing(client, login, settings):
    settings.CHUNKR_MAX_PAGES = 2
    login()
    response = client.post(
        "/upload/file/", {"file": SimpleUploadedFile("big.pdf", pdf_bytes("a", "b", "c"))}, headers=HX
    )
    assert response.status_code == 400
    assert "The document has 3 pages; the limit is 2." in response.content.decode()
    assert not Task.objects.exists()


def test_without_javascript_the_form_posts_all_files_at_once(client, login, workspace):
    login()
    files = [
        SimpleUploadedFile("one.pdf", pdf_bytes("1")),
        SimpleUploadedFile("two.png", png_bytes()),
        SimpleUploadedFile("bad.bin", b"\x00\xff" * 100),
    ]
    response = client.post("/upload/", {"file": files})
    body = response.content.decode()
    assert response.status_code == 400  # one of the three was refused
    assert sorted(Task.objects.values_list("file_name", flat=True)) == ["one.pdf", "two.png"]
    assert "bad.bin" in body and "Unsupported file type" in body


def test_url_upload_refuses_local_addresses(client, login):
    login()
    response = client.post("/upload/url/", {"url": "http://127.0.0.1/x.pdf"}, headers=HX)
    assert response.status_code == 400
    assert "private or local address" in response.content.decode()
    assert not Task.objects.exists()


def test_url_upload_queues_a_task_the_worker_fetches(client, login, settings, workspace):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["localhost"]
    login()
    response = client.post("/upload/url/", {"url": "http://localhost:9/files/report.pdf"}, headers=HX)
    assert response.status_code == 200
    task = Task.objects.get(workspace=workspace)
    assert (task.source_url, task.file_name) == ("http://localhost:9/files/report.pdf", "report.pdf")


def test_invalid_panel_value_names_the_field(client, login):
    login()
    response = client.post(
        "/upload/file/", {"target_length": "-5", "file": SimpleUploadedFile("a.pdf", pdf_bytes())}, headers=HX
    )
    assert response.status_code == 400
    assert "target length" in response.content.decode()
    assert not Task.objects.exists()


def test_presets_save_load_and_are_shared_by_the_workspace(client, login, workspace, make_user):
    login()
    response = client.post(
        "/upload/presets/",
        {
            "preset_name": "Scans",
            "ocr_strategy": "All",
            "tokenizer": "Word",
            "target_length": "300",
            "sp_Table_format": "Markdown",
            "segmentation_strategy": "LayoutAnalysis",
            "error_handling": "Fail",
        },
        headers=HX,
    )
    assert response.status_code == 200 and 'id="preset-panel"' in response.content.decode()
    preset = ParsePreset.objects.get(workspace=workspace, name="Scans")
    assert preset.configuration["chunk_processing"]["target_length"] == 300
    assert preset.configuration["segment_processing"]["Table"]["format"] == "Markdown"
    assert AuditEvent.objects.filter(verb="preset.created").exists()
    other = make_user("noah", workspace=workspace, role=Role.MEMBER)
    client.force_login(other)
    panel = client.get(f"/upload/panel/?preset={preset.pk}", headers=HX).content.decode()
    assert 'value="300"' in panel
    assert '<option value="Markdown" selected>Markdown</option>' in panel.split('name="sp_Table_format"')[1][:200]


def test_only_the_author_or_an_admin_deletes_a_preset(client, login, workspace, make_user):
    author = login("author")
    preset = ParsePreset.objects.create(workspace=workspace, name="Mine", configuration={}, created_by=author)
    client.force_login(make_user("other", workspace=workspace, role=Role.MEMBER))
    assert client.post(f"/upload/presets/{preset.pk}/delete/", headers=HX).status_code == 403
    client.force_login(make_user("boss", workspace=workspace, role=Role.ADMIN))
    assert client.post(f"/upload/presets/{preset.pk}/delete/", headers=HX).status_code == 200
    assert not ParsePreset.objects.exists()


@pytest.mark.parametrize("path", ["/upload/", "/upload/file/", "/upload/url/", "/upload/presets/"])
def test_viewers_cannot_upload_or_save_presets(client, login, path):
    login("vera", Role.VIEWER)
    response = client.post(path, {"file": SimpleUploadedFile("a.pdf", pdf_bytes()), "preset_name": "x"}, headers=HX)
    assert response.status_code == 403
    assert not Task.objects.exists() and not ParsePreset.objects.exists()

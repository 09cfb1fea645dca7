"""services/inputs.py: the contract's `file` field (§6.1) — ch:// id, URL, data: URL or raw base64."""

import base64

import pytest

from tasks_app.errors import ApplicationError, FileTooLarge, NotFound
from tasks_app.services.inputs import EMPTY_FILE, INVALID_BASE64, input_resolve
from tests.factories import pdf_bytes, store_file

pytestmark = pytest.mark.django_db


def resolve(workspace, file, name=None):
    return input_resolve(workspace=workspace, file=file, file_name=name, actor=None)


def test_a_ch_reference_finds_the_workspaces_own_upload_only(workspace, other_workspace):
    mine = store_file(workspace, pdf_bytes(), "mine.pdf")
    resolved = resolve(workspace, f"ch://files/{mine.file_id}")
    assert (resolved.stored, resolved.file_name, resolved.created) == (mine, "mine.pdf", False)
    assert resolve(workspace, f"ch://files/{mine.file_id}", "renamed.pdf").file_name == "renamed.pdf"
    for file in (f"ch://files/{mine.file_id}", "ch://files/not-a-uuid"):
        with pytest.raises(NotFound):
            resolve(other_workspace, file)


def test_base64_and_data_urls_are_stored_as_the_tasks_own_copy(workspace):
    data = pdf_bytes("inline")
    for file in (base64.b64encode(data).decode(), "data:application/pdf;base64," + base64.b64encode(data).decode()):
        resolved = resolve(workspace, file, "inline.pdf")
        assert resolved.created and resolved.stored.storage_key.startswith(f"inputs/{workspace.pk}/")
        assert resolved.sniffed.kind == "pdf" and resolved.file_name == "inline.pdf"
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff" * 8 + data).decode().rstrip("=")
    assert resolve(workspace, urlsafe).stored is not None  # URL-safe alphabet, padding left off


def test_a_url_is_checked_now_and_fetched_later(workspace):
    resolved = resolve(workspace, "https://93.184.215.14/reports/Q3%20report.pdf")
    assert (resolved.stored, resolved.source_url, resolved.file_name) == (
        None,
        "https://93.184.215.14/reports/Q3%20report.pdf",
        "Q3 report.pdf",
    )
    with pytest.raises(ApplicationError, match="private or local"):
        resolve(workspace, "http://127.0.0.1/x.pdf")


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("", "file: required"),
        ("!!!not base64!!!", INVALID_BASE64),
        ("====", INVALID_BASE64),
        ("data:application/pdf;base64,", EMPTY_FILE),
        ("data:nope", "data URL"),
    ],
)
def test_what_is_not_a_file_is_refused(workspace, file, message):
    with pytest.raises(ApplicationError, match=message):
        resolve(workspace, file)


def test_decoded_bytes_over_the_limit_are_refused(workspace, settings):
    settings.CHUNKR_MAX_UPLOAD_BYTES = 10
    with pytest.raises(FileTooLarge):
        resolve(workspace, base64.b64encode(pdf_bytes()).decode())


@pytest.mark.parametrize(
    "file", ["gopher://example.com/x", "ftp://example.com/a.pdf", "file:///etc/passwd", "javascript:alert(1)"]
)
def test_other_schemes_are_refused_by_name_not_read_as_base64(workspace, file):
    with pytest.raises(ApplicationError, match=r"links are not fetched; give an http\(s\) URL"):
        resolve(workspace, file)


def test_base64_is_strict_about_its_alphabet(workspace):
    data = base64.b64encode(pdf_bytes()).decode()
    with pytest.raises(ApplicationError, match=INVALID_BASE64):
        resolve(workspace, data[:40] + "!!" + data[40:])  # the URL-safe decoder used to drop the '!!' and go on
    assert resolve(workspace, "\n".join(data[i : i + 76] for i in range(0, len(data), 76))).stored  # wrapped lines
    assert resolve(workspace, "HTTPS://93.184.215.14/a.pdf").source_url  # schemes are case-insensitive

"""services/files.py: inputs stored with their type read from their bytes, limits held, deletion scrubbing."""

import io

import pytest
from django.core.files.storage import default_storage

from tasks_app import engine
from tasks_app.errors import FileTooLarge
from tasks_app.models import AuditEvent, StoredFile
from tasks_app.services.files import PRIVATE_PREFIX, file_create, file_delete, file_store
from tests.factories import pdf_bytes, png_bytes

pytestmark = pytest.mark.django_db


def test_the_type_comes_from_the_bytes_not_the_name(workspace):
    stored = file_create(workspace=workspace, stream=io.BytesIO(png_bytes()), file_name="scan.pdf")
    assert (stored.mime_type, stored.original_name, stored.size) == ("image/png", "scan.pdf", len(png_bytes()))
    assert default_storage.open(stored.storage_key).read() == png_bytes()
    assert stored.storage_key.startswith(f"files/{workspace.pk}/")


def test_file_store_hands_back_its_sniff_or_why_the_engine_cannot_read_the_file(workspace):
    stored, sniffed = file_store(workspace=workspace, stream=io.BytesIO(pdf_bytes("a", "b")), file_name="two.pdf")
    assert isinstance(sniffed, engine.FileInfo) and (sniffed.kind, sniffed.page_count) == ("pdf", 2)
    junk, why = file_store(
        workspace=workspace, stream=io.BytesIO(b"\x00\x01" * 50), file_name="blob.bin", declared_type="x/y"
    )
    assert isinstance(why, engine.UnsupportedFileType) and junk.mime_type == "x/y"


def test_a_private_copy_lives_apart_and_a_nameless_upload_gets_a_name(workspace):
    stored = file_create(workspace=workspace, stream=io.BytesIO(pdf_bytes()), file_name=None, private=True)
    assert stored.storage_key.startswith(f"{PRIVATE_PREFIX}/{workspace.pk}/")
    assert stored.original_name.startswith("upload-") and stored.original_name.endswith(".pdf")


def test_too_large_is_refused_and_nothing_is_kept(workspace, settings):
    settings.CHUNKR_MAX_UPLOAD_BYTES = 100
    with pytest.raises(FileTooLarge):
        file_create(workspace=workspace, stream=io.BytesIO(pdf_bytes()), file_name="big.pdf")
    assert not StoredFile.objects.exists()


def test_a_deleted_file_loses_its_bytes_and_its_metadata_but_keeps_its_audit_trail(
    workspace, django_capture_on_commit_callbacks
):
    stored = file_create(workspace=workspace, stream=io.BytesIO(pdf_bytes()), file_name="secret.pdf", metadata="m")
    key = stored.storage_key
    with django_capture_on_commit_callbacks(execute=True):
        file_delete(stored=stored, actor=None)
    stored.refresh_from_db()
    assert (stored.original_name, stored.metadata, stored.storage_key) == ("deleted", None, "")
    assert stored.deleted_at is not None and not default_storage.exists(key)
    assert AuditEvent.objects.filter(verb="file.deleted", target_id=str(stored.pk)).exists()

"""Test data built with the app's own services, so tests exercise real code paths."""

from __future__ import annotations

import io

import pymupdf


def pdf_bytes(*pages: str) -> bytes:
    doc = pymupdf.open()
    for text in pages or ("Hello",):
        page = doc.new_page()
        page.insert_text((72, 100), text, fontsize=14)
    data = doc.tobytes()
    doc.close()
    return data


def store_file(workspace, data: bytes, name: str = "doc.pdf", actor=None):
    from tasks_app.services.files import file_create

    return file_create(workspace=workspace, stream=io.BytesIO(data), file_name=name, actor=actor)


def parse_task(workspace, data: bytes, name: str = "doc.pdf", configuration: dict | None = None, **kwargs):
    """A queued parse task over `data`, made below the intake's precheck, so that bytes the intake would refuse
    (garbage, an encrypted PDF) reach the worker as they would through a route that checked less."""
    from tasks_app.services.intake import parse_config_check
    from tasks_app.services.tasks import task_create_parse

    stored = store_file(workspace, data, name)
    return task_create_parse(
        workspace=workspace,
        stored_file=stored,
        configuration=parse_config_check(configuration),
        actor=None,
        **kwargs,
    )


def png_bytes(width: int = 400, height: int = 200) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((20, 80), "Scanned words", fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def extract_task(workspace, source, schema: dict | None = None, **kwargs):
    """An Extract task over `source` (waiting while it runs), made as the intake makes one."""
    from tasks_app.choices import TaskType
    from tasks_app.services.extraction import task_create_derived

    schema = schema or {"type": "object", "properties": {"total": {"type": "number"}}}
    return task_create_derived(
        workspace=workspace,
        task_type=TaskType.EXTRACT,
        source=source,
        configuration={"schema": schema, "parse_configuration": None},
        actor=None,
        **kwargs,
    )


def encrypted_pdf() -> bytes:
    """A one-page PDF that opens only with a password."""
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    out = io.BytesIO()
    doc.save(out, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")
    return out.getvalue()

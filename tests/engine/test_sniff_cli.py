"""File sniffing, the CLI, and the no-Django import guarantee."""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tasks_app.engine import SUPPORTED_FILE_TYPES, sniff

from . import docs

ROOT = Path(__file__).resolve().parents[2]


def _zip(path: Path, members: dict[str, str]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [("PNG", "png"), ("JPEG", "jpeg"), ("TIFF", "tiff"), ("WEBP", "webp"), ("BMP", "bmp"), ("GIF", "gif")],
)
def test_sniff_images(tmp_path, fmt, kind):
    p = tmp_path / "file.dat"
    Image.new("RGB", (20, 10)).save(p, format=fmt)
    info = sniff(p)
    assert info.kind == kind and info.page_count == 1


def test_sniff_multipage_tiff(tmp_path):
    p = tmp_path / "m.tif"
    frames = [Image.new("L", (30, 30), c) for c in (0, 128, 255)]
    frames[0].save(p, format="TIFF", save_all=True, append_images=frames[1:])
    assert sniff(p).page_count == 3


def test_sniff_office_and_text(tmp_path):
    assert sniff(_zip(tmp_path / "a", {"word/document.xml": "<x/>"})).kind == "docx"
    assert sniff(_zip(tmp_path / "b", {"ppt/presentation.xml": "<x/>"})).kind == "pptx"
    assert sniff(_zip(tmp_path / "c", {"xl/workbook.xml": "<x/>"})).kind == "xlsx"
    assert sniff(_zip(tmp_path / "d", {"mimetype": "application/vnd.oasis.opendocument.text"})).kind == "odt"
    ole = tmp_path / "e"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "WordDocument".encode("utf-16-le"))
    assert sniff(ole).kind == "doc"
    rtf = tmp_path / "f"
    rtf.write_bytes(b"{\\rtf1\\ansi hello}")
    assert sniff(rtf).kind == "rtf"
    html = tmp_path / "g"
    html.write_text("<!DOCTYPE html><html><body>hi</body></html>")
    assert sniff(html).kind == "html"
    md = tmp_path / "h"
    md.write_text("# Title\n\nSome text\n\n- item\n")
    assert sniff(md).kind == "md"
    txt = tmp_path / "i"
    txt.write_text("just some plain words\nand more\n")
    assert sniff(txt).kind == "txt"
    pdf = docs.text_pdf(tmp_path / "j.bin", "hello")
    assert sniff(pdf).kind == "pdf" and sniff(pdf).page_count == 1


def test_supported_file_types_shape():
    assert set(SUPPORTED_FILE_TYPES) == {"document", "image", "presentation", "spreadsheet", "text"}
    for cat in SUPPORTED_FILE_TYPES.values():
        for f in cat["formats"]:
            assert set(f) == {"extension", "mime_type"} and not f["extension"].startswith(".")


def _cli(*args: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "tasks_app.engine", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)  # noqa: S603


def test_cli_parse_success(tmp_path):
    pdf = docs.structured_pdf(tmp_path / "in.pdf", pages=1)
    out = tmp_path / "out"
    proc = _cli(
        "parse",
        str(pdf),
        "--out",
        str(out),
        "--config",
        json.dumps({"ocr_strategy": "Auto", "error_handling": "Continue"}),
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["page_count"] == 1 and data["file_name"] == "in.pdf"
    assert data["pages"][0]["image"].startswith("file://")
    assert Path(data["pdf_url"].removeprefix("file://")).exists()
    assert (out / "pages" / "0001-144dpi.png").exists()


def test_cli_bad_input_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    proc = _cli("parse", str(bad), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr and lines[0].startswith("error:")
    proc = _cli("parse", str(bad), "--config", '{"ocr_strategy": "Never"}')
    assert proc.returncode == 2 and "ocr_strategy" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_engine_imports_without_django():
    code = "import sys, tasks_app.engine, tasks_app.engine.pipeline; print('django' in sys.modules)"
    argv = [sys.executable, "-c", code]
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,  # noqa: S603
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"

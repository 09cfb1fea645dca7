"""Bad inputs end in one clean EngineError subclass, never a crash."""

import io
import zipfile
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from tasks_app.engine import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    EngineError,
    EngineLimits,
    ImageTooLarge,
    ParseConfig,
    ParseOptions,
    TooLarge,
    TooManyPages,
    UnsupportedFileType,
    parse_document,
    sniff,
)

from . import docs
from .conftest import BASE_CONFIG, options

CORPUS_PASSWORD_PDF = (
    Path(__file__).resolve().parents[3] / "shared/corpus/docling-regression/pdf_password/sources/2206.01062_pg3.pdf"
)


def _limited(**limits) -> ParseOptions:
    return ParseOptions(config=ParseConfig.from_dict(BASE_CONFIG), limits=EngineLimits(**limits))


def test_empty_file(tmp_path):
    p = tmp_path / "empty.pdf"
    p.write_bytes(b"")
    with pytest.raises(EmptyDocument):
        parse_document(p, options())


def test_corrupt_pdf(tmp_path):
    p = tmp_path / "corrupt.pdf"
    p.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    with pytest.raises(CorruptDocument):
        parse_document(p, options())


def test_truncated_pdf_is_repaired_or_rejected_cleanly(tmp_path):
    data = docs.structured_pdf(tmp_path / "s.pdf").read_bytes()
    half = tmp_path / "half.pdf"
    half.write_bytes(data[: len(data) // 2])
    try:
        result = parse_document(half, options())
    except EngineError as exc:
        assert isinstance(exc, (CorruptDocument, EmptyDocument))
    else:
        assert result.pages  # MuPDF repaired what was left
    stub = tmp_path / "stub.pdf"
    stub.write_bytes(data[:300])
    with pytest.raises((CorruptDocument, EmptyDocument)):
        parse_document(stub, options())


def test_zero_page_pdf(tmp_path):
    p = tmp_path / "zero.pdf"
    p.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    with pytest.raises(EmptyDocument):
        parse_document(p, options())


def test_encrypted_pdf_generated(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    p = tmp_path / "locked.pdf"
    doc.save(p, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    with pytest.raises(EncryptedDocument) as exc:
        parse_document(p, options())
    assert exc.value.user_message == "This PDF is password-protected. Upload an unlocked copy."
    assert sniff(p).encrypted


@pytest.mark.skipif(not CORPUS_PASSWORD_PDF.exists(), reason="shared corpus not present")
def test_encrypted_pdf_corpus():
    with pytest.raises(EncryptedDocument):
        parse_document(CORPUS_PASSWORD_PDF, options())


def test_png_renamed_pdf_is_sniffed_as_image(tmp_path):
    p = tmp_path / "photo.pdf"
    Image.new("RGB", (300, 200), (255, 255, 255)).save(p, format="PNG")
    info = sniff(p)
    assert info.kind == "png" and info.mime_type == "image/png"
    result = parse_document(p, options())
    assert result.mime_type == "image/png"
    assert (result.pages[0].page_width, result.pages[0].page_height) == (300, 200)  # native pixels


def test_decompression_bomb(tmp_path):
    p = tmp_path / "bomb.png"
    Image.new("1", (15000, 15000)).save(p, format="PNG")  # 225 Mpx, a few hundred KB on disk
    assert p.stat().st_size < 5_000_000
    with pytest.raises(ImageTooLarge):
        parse_document(p, options())


def test_image_pixel_limit(tmp_path):
    p = tmp_path / "img.png"
    Image.new("RGB", (100, 100)).save(p, format="PNG")
    with pytest.raises(ImageTooLarge):
        parse_document(p, _limited(max_image_pixels=5000))


def test_oversize(tmp_path):
    p = docs.text_pdf(tmp_path / "t.pdf", docs.LOREM)
    with pytest.raises(TooLarge):
        parse_document(p, _limited(max_bytes=100))


def test_too_many_pages(tmp_path):
    p = docs.text_pdf(tmp_path / "t.pdf", docs.LOREM, pages=3)
    with pytest.raises(TooManyPages):
        parse_document(p, _limited(max_pages=2))


def test_unsupported_binary_and_zip(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnsupportedFileType):
        parse_document(p, options())
    z = tmp_path / "a.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    z.write_bytes(buf.getvalue())
    with pytest.raises(UnsupportedFileType):
        parse_document(z, options())


def test_errors_have_user_messages():
    for cls in (CorruptDocument, EmptyDocument, TooLarge, UnsupportedFileType):
        assert cls().user_message and isinstance(cls(), EngineError)


def test_multipage_tiff_becomes_pages(tmp_path):
    p = tmp_path / "scan.tif"
    frames = [Image.new("L", (400, 300), c) for c in (255, 200, 150)]
    frames[0].save(p, format="TIFF", save_all=True, append_images=frames[1:])
    result = parse_document(p, options())
    assert result.page_count == 3 and [pg.page_number for pg in result.pages] == [1, 2, 3]
    assert all((pg.page_width, pg.page_height) == (400, 300) for pg in result.pages)


def test_text_and_html_inputs(tmp_path):
    txt = tmp_path / "notes"
    txt.write_text("Plain notes about the meeting.\n\nSecond paragraph with <b>angle</b> brackets.\n")
    result = parse_document(txt, options())
    assert result.mime_type == "text/plain"
    joined = " ".join(s.text for s in result.segments)
    assert "Plain notes about the meeting." in joined and "<b>angle</b>" in joined
    html = tmp_path / "page"
    html.write_text("<html><body><h1>Heading One</h1><p>Body text here.</p><script>alert(1)</script></body></html>")
    result = parse_document(html, options())
    assert result.mime_type == "text/html"
    assert "Heading One" in " ".join(s.text for s in result.segments)
    assert all("<script>" not in s.content for s in result.segments)

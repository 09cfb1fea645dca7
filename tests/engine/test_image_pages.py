"""Pages that are only a picture (issue 17): a Picture segment with its crop, and a message saying no text was found."""

from __future__ import annotations

import pymupdf

from tasks_app.engine import MemorySink, parse_document

from .conftest import options


def _smiley(size: int = 16) -> pymupdf.Pixmap:
    """A small picture with no text in it: a yellow square with two dark eyes."""
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, size, size), False)
    pix.set_rect(pix.irect, (250, 210, 40))
    q = size // 4
    pix.set_rect(pymupdf.IRect(q, q, 2 * q - 1, 2 * q - 1), (30, 30, 30))
    pix.set_rect(pymupdf.IRect(size - 2 * q + 1, q, size - q, 2 * q - 1), (30, 30, 30))
    return pix


def _pictures(result):
    return [s for s in result.segments if s.segment_type == "Picture"]


def test_tiny_image_input_is_a_picture_with_its_crop(tmp_path):
    path = tmp_path / "smile.png"
    _smiley().save(path)
    sink = MemorySink()

    result = parse_document(path, options(), sink)

    [picture] = _pictures(result)
    page = result.pages[0]
    assert (picture.bbox.left, picture.bbox.top) == (0, 0)
    assert (picture.bbox.width, picture.bbox.height) == (page.page_width, page.page_height)
    assert picture.image is not None and sink.items[picture.image][0].startswith(b"\x89PNG")
    assert result.warnings == (
        "No text was found in this document: it holds images without readable text, or nothing.",
    )


def test_image_only_pdf_page_among_text_pages_is_named_in_the_message(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "A page with words on it.", fontsize=12)
    picture_page = doc.new_page(width=4, height=4)  # the whole page is one 16 px image, as ImageMagick writes one
    picture_page.insert_image(picture_page.rect, pixmap=_smiley())
    doc.new_page().insert_text((72, 72), "Another page with words.", fontsize=12)
    doc.save(tmp_path / "mixed.pdf")

    result = parse_document(tmp_path / "mixed.pdf", options(), MemorySink())

    assert [(s.page_number, s.segment_type) for s in _pictures(result)] == [(2, "Picture")]
    assert {s.page_number for s in result.segments} == {1, 2, 3}
    assert result.warnings == ("No text was found on page 2: images without readable text, or blank.",)


def test_picture_crop_follows_the_configuration(tmp_path):
    path = tmp_path / "smile.png"
    _smiley(64).save(path)

    result = parse_document(path, options(segment_processing={"Picture": {"crop_image": "Auto"}}), MemorySink())

    [picture] = _pictures(result)
    assert picture.image is None

"""File type detection from content (magic bytes), never from the file name."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pymupdf
from PIL import Image

from .errors import CorruptDocument, EmptyDocument, TooLarge, UnsupportedFileType

MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ppt": "application/vnd.ms-powerpoint",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "odt": "application/vnd.oasis.opendocument.text",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "rtf": "application/rtf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "gif": "image/gif",
    "avif": "image/avif",
    "svg": "image/svg+xml",
    "txt": "text/plain",
    "html": "text/html",
    "md": "text/markdown",
}

IMAGE_KINDS = frozenset({"png", "jpeg", "tiff", "webp", "bmp", "gif", "avif"})
OFFICE_KINDS = frozenset({"docx", "doc", "pptx", "ppt", "xlsx", "xls", "odt", "odp", "ods", "rtf"})
TEXT_KINDS = frozenset({"txt", "html", "md", "svg"})
SPREADSHEET_KINDS = frozenset({"xlsx", "xls", "ods"})

# GET /file-types (§9.17): exactly what parse_document accepts; extensions without the dot.
SUPPORTED_FILE_TYPES: dict[str, dict[str, list[dict[str, str]]]] = {
    "document": {
        "formats": [
            {"extension": "pdf", "mime_type": MIME["pdf"]},
            {"extension": "docx", "mime_type": MIME["docx"]},
            {"extension": "doc", "mime_type": MIME["doc"]},
            {"extension": "odt", "mime_type": MIME["odt"]},
            {"extension": "rtf", "mime_type": MIME["rtf"]},
        ]
    },
    "image": {
        "formats": [
            {"extension": "jpg", "mime_type": "image/jpeg"},
            {"extension": "jpeg", "mime_type": "image/jpeg"},
            {"extension": "jpg", "mime_type": "image/jpg"},
            {"extension": "png", "mime_type": MIME["png"]},
            {"extension": "gif", "mime_type": MIME["gif"]},
            {"extension": "webp", "mime_type": MIME["webp"]},
            {"extension": "tiff", "mime_type": MIME["tiff"]},
            {"extension": "tif", "mime_type": MIME["tiff"]},
            {"extension": "bmp", "mime_type": MIME["bmp"]},
            {"extension": "avif", "mime_type": MIME["avif"]},
            {"extension": "svg", "mime_type": MIME["svg"]},
        ]
    },
    "presentation": {
        "formats": [
            {"extension": "pptx", "mime_type": MIME["pptx"]},
            {"extension": "ppt", "mime_type": MIME["ppt"]},
            {"extension": "odp", "mime_type": MIME["odp"]},
        ]
    },
    "spreadsheet": {
        "formats": [
            {"extension": "xlsx", "mime_type": MIME["xlsx"]},
            {"extension": "xls", "mime_type": MIME["xls"]},
            {"extension": "ods", "mime_type": MIME["ods"]},
        ]
    },
    "text": {
        "formats": [
            {"extension": "txt", "mime_type": MIME["txt"]},
            {"extension": "html", "mime_type": MIME["html"]},
            {"extension": "htm", "mime_type": MIME["html"]},
            {"extension": "md", "mime_type": MIME["md"]},
            {"extension": "markdown", "mime_type": MIME["md"]},
            {"extension": "mkd", "mime_type": MIME["md"]},
        ]
    },
}


@dataclass(frozen=True, slots=True)
class FileInfo:
    kind: str  # key of MIME
    mime_type: str
    page_count: int | None  # None where unknown before conversion (office, text)
    encrypted: bool = False
    size: int = 0
    # Its pages will need OCR: an image, or a PDF whose first page has no text layer but an image (a scan). Chooses
    # the queue a job goes to (OCR-heavy work has workers of its own), not how a page is read.
    scanned: bool = False


_OLE_MARKERS = (
    ("doc", "WordDocument".encode("utf-16-le")),
    ("xls", "Workbook".encode("utf-16-le")),
    ("xls", "Book".encode("utf-16-le")),
    ("ppt", "PowerPoint Document".encode("utf-16-le")),
)


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                mt = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
                for kind in ("odt", "odp", "ods"):
                    if mt == MIME[kind]:
                        return kind
            if "word/document.xml" in names:
                return "docx"
            if "ppt/presentation.xml" in names:
                return "pptx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CorruptDocument("The file looks like a ZIP-based Office document but is damaged.") from exc
    raise UnsupportedFileType("Unsupported file type: ZIP archives are not read; upload the document itself.")


def _sniff_ole(path: Path) -> str:
    # The directory entries hold UTF-16 stream names; scanning the file avoids an olefile dependency.
    data = path.read_bytes()
    for kind, marker in _OLE_MARKERS:
        if marker in data:
            return kind
    raise UnsupportedFileType("Unsupported file type: this legacy Office format is not read; save it as DOCX or XLSX.")


def _sniff_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character may be cut at the end of the sample.
        if exc.start < len(head) - 4:
            try:
                text = head.decode("cp1252")
            except UnicodeDecodeError:
                return None
            if sum(ch.isprintable() or ch in "\r\n\t" for ch in text) < 0.95 * len(text):
                return None
        else:
            text = head[: exc.start].decode("utf-8")
    stripped = text.lstrip("\ufeff \t\r\n").lower()
    if stripped.startswith("<?xml") and "<svg" in stripped[:2000] or stripped.startswith("<svg"):
        return "svg"
    if stripped.startswith(("<!doctype html", "<html")) or "<html" in stripped[:1024]:
        return "html"
    if sum(ch.isprintable() or ch in "\r\n\t" for ch in text) < 0.95 * max(1, len(text)):
        return None
    lines = text.splitlines()
    md_signals = sum(1 for ln in lines if ln.startswith(("# ", "## ", "### ", "```", "- ", "* ", "> ", "|")))
    return "md" if md_signals >= 2 or any(ln.startswith("# ") for ln in lines[:5]) else "txt"


def sniff_kind(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head:
        raise EmptyDocument("The file is empty.")
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and len(head) > 26:
        return "bmp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "avif"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        raise UnsupportedFileType("Unsupported file type: HEIC/HEIF images are not read; convert to JPEG or PNG.")
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _sniff_ole(path)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    kind = _sniff_text(head)
    if kind:
        return kind
    raise UnsupportedFileType()


def sniff(path: str | Path, max_bytes: int | None = None) -> FileInfo:
    """Identify a file and read cheap facts (page count, encryption) without rendering anything."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CorruptDocument("The file could not be read.") from exc
    if size == 0:
        raise EmptyDocument("The file is empty.")
    if max_bytes is not None and size > max_bytes:
        raise TooLarge(
            f"The file is too large ({size // (1024 * 1024)} MB; the limit is {max_bytes // (1024 * 1024)} MB)."
        )
    kind = sniff_kind(path)
    page_count: int | None = None
    encrypted = False
    scanned = kind in IMAGE_KINDS
    if kind == "pdf":
        try:
            with pymupdf.open(path, filetype="pdf") as doc:
                encrypted = bool(doc.needs_pass)
                page_count = None if encrypted else doc.page_count
                if page_count:
                    first = doc.load_page(0)
                    scanned = not first.get_text("text").strip() and bool(first.get_images(full=False))
        except Exception as exc:  # noqa: BLE001 - MuPDF raises several types for broken files
            raise CorruptDocument("The PDF is damaged and could not be opened.") from exc
    elif kind in IMAGE_KINDS:
        page_count = 1
        if kind in ("tiff", "gif", "webp"):
            try:
                with Image.open(path) as im:
                    page_count = getattr(im, "n_frames", 1) if kind == "tiff" else 1
            except Exception as exc:  # noqa: BLE001
                raise CorruptDocument("The image is damaged and could not be opened.") from exc
    return FileInfo(
        kind=kind, mime_type=MIME[kind], page_count=page_count, encrypted=encrypted, size=size, scanned=scanned
    )

"""Office documents to PDF through LibreOffice (`soffice --headless --convert-to pdf`)."""

from __future__ import annotations

import shutil
import subprocess  # noqa: S404 - fixed argv, no shell
import tempfile
from pathlib import Path

from .errors import ConversionFailed, ConverterMissing

_SUFFIX = {
    "docx": ".docx",
    "doc": ".doc",
    "pptx": ".pptx",
    "ppt": ".ppt",
    "xlsx": ".xlsx",
    "xls": ".xls",
    "odt": ".odt",
    "odp": ".odp",
    "ods": ".ods",
    "rtf": ".rtf",
}


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


# One PDF page per sheet, however large: page i is then sheet i, which the ss_* fields rely on.
_CALC_FILTER = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
_SPREADSHEETS = frozenset({"xlsx", "xls", "ods"})


def convert_to_pdf(path: Path, kind: str, timeout_s: float = 300.0) -> bytes:
    return _convert(path, kind, _CALC_FILTER if kind in _SPREADSHEETS else "pdf", "pdf", timeout_s)


def recalculated_xlsx(path: Path, timeout_s: float = 300.0, kind: str = "xlsx") -> bytes:
    """The workbook as .xlsx through LibreOffice: formula cells then carry computed values (files written by
    libraries such as openpyxl store formulas without cached results), and .xls / .ods workbooks become
    something openpyxl can read."""
    return _convert(path, kind, "xlsx", "xlsx", timeout_s)


def _convert(path: Path, kind: str, target: str, out_ext: str, timeout_s: float) -> bytes:
    exe = soffice_path()
    if not exe:
        raise ConverterMissing()
    with tempfile.TemporaryDirectory(prefix="engine-soffice-") as tmp:
        tmpdir = Path(tmp)
        # soffice picks the import filter from the extension, and the upload's name is untrusted.
        src = tmpdir / f"input{_SUFFIX.get(kind, '')}"
        shutil.copyfile(path, src)
        profile = tmpdir / "profile"
        argv = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(tmpdir / "out"),
            str(src),
        ]
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False)  # noqa: S603
        except subprocess.TimeoutExpired as exc:
            raise ConversionFailed("Converting the document to PDF took too long.") from exc
        out = tmpdir / "out" / f"input.{out_ext}"
        if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            raise ConversionFailed("The document could not be converted to PDF; it may be damaged.")
        return out.read_bytes()

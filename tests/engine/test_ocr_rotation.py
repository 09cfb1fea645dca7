"""When OCR reads a page a second time upside down: only when the first reading looks like noise.

Tesseract runs are counted by a `tesseract` on PATH that logs its arguments and runs the real one.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageFilter

from tasks_app.engine import ocr
from tasks_app.engine.ocr import OCR_ENGINE_ENV, ocr_image

REAL_TESSERACT = shutil.which("tesseract")
pytestmark = pytest.mark.skipif(REAL_TESSERACT is None, reason="tesseract is not installed")

GERMAN = (
    "Die Übungsaufgaben zur Geometrie und Topologie behandeln Flächen, Überlagerungen und Homöomorphismen. "
    "Größere Beispiele für Mannigfaltigkeiten lassen sich durch Verklebung gewöhnlicher Quadrate gewinnen, "
    "während die Fundamentalgruppe als Äquivalenzklasse geschlossener Wege über Homotopien erklärt wird. "
)


@pytest.fixture
def tesseract_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The list of argument lines of every Tesseract run that read an image (not `--list-langs`)."""
    log = tmp_path / "runs.log"
    shim_dir = tmp_path / "bin"
    shim_dir.mkdir()
    shim = shim_dir / "tesseract"
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{REAL_TESSERACT}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv(OCR_ENGINE_ENV, "tesseract")
    ocr._reset_for_tests()

    def runs() -> list[str]:
        lines = log.read_text().splitlines() if log.exists() else []
        return [line for line in lines if line.startswith("stdin")]

    yield runs
    ocr._reset_for_tests()


def _noisy_german_scan() -> Image.Image:
    """A 150 dpi scan of German text, blurred and noisy: Tesseract's English model reads it right, unsure (mean
    character confidence ≈ 0.68; 0.17 upside down)."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox(pymupdf.Rect(72, 72, 540, 760), GERMAN * 8, fontsize=11)
    pix = page.get_pixmap(dpi=150, colorspace=pymupdf.csGRAY)
    grey = Image.frombytes("L", (pix.width, pix.height), pix.samples).filter(ImageFilter.GaussianBlur(1.0))
    rng = np.random.default_rng(0)
    noisy = np.asarray(grey).astype(np.float32) * 0.85 + 20 + rng.normal(0, 25, grey.size[::-1])
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _first(words, text: str):
    return next(w for w in words if w.text == text)


def test_an_upright_page_read_unsurely_is_read_once(tesseract_runs) -> None:
    scan = _noisy_german_scan()
    words = ocr_image(scan, dpi=150)
    assert len(tesseract_runs()) == 1
    conf = sum(w.confidence * len(w.text) for w in words) / sum(len(w.text) for w in words)
    assert 0.55 <= conf < 0.80, conf  # what once made it read twice
    # Read the right way up: the text starts at the top of the page.
    assert _first(words, "Die").y0 < scan.height / 4
    assert "Geometrie" in {w.text for w in words}


def test_the_same_page_upside_down_is_read_twice_and_turned(tesseract_runs) -> None:
    scan = _noisy_german_scan().transpose(Image.Transpose.ROTATE_180)
    words = ocr_image(scan, dpi=150)
    assert len(tesseract_runs()) == 2
    assert "Geometrie" in {w.text for w in words}
    # Boxes are in the upside-down image: the first line lies at the bottom.
    assert _first(words, "Die").y0 > scan.height * 3 / 4

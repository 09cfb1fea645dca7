"""Every file in the shared corpus gives a result or a clean EngineError, within a time limit."""

import signal
from pathlib import Path

import pytest

from tasks_app.engine import EngineError, EngineLimits, ParseConfig, ParseOptions, parse_document

# ../shared beside the repository, as in CI and on developer machines.
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
DOCUMENT_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".odt", ".docx", ".xlsx", ".pptx"}
PER_FILE_TIMEOUT_S = 120


def _files(documents_only: bool) -> list[Path]:
    if not CORPUS.is_dir():
        return []
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    if documents_only:
        files = [p for p in files if p.suffix.lower() in DOCUMENT_SUFFIXES]
    return files


class _Timeout(Exception):
    pass


def _run(path: Path, max_pages: int) -> None:
    def on_alarm(*_):
        raise _Timeout

    config = ParseConfig.from_dict({"ocr_strategy": "Auto", "error_handling": "Continue"})
    options = ParseOptions(config=config, limits=EngineLimits(max_pages=max_pages))
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(PER_FILE_TIMEOUT_S)
    try:
        result = parse_document(path, options)
    except EngineError as exc:
        assert exc.user_message and "\n" not in exc.user_message
        return
    except _Timeout:
        pytest.fail(f"{path} took longer than {PER_FILE_TIMEOUT_S} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.pages and len(result.pages) == result.page_count
    for seg in result.segments:
        assert 1 <= seg.page_number <= result.page_count
        assert seg.bbox.width >= 0 and seg.bbox.height >= 0


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_corpus_documents_first_pages():
    """Fast guard on the real documents (sources only, first few pages via the page limit)."""
    small = [p for p in _files(documents_only=True) if p.stat().st_size < 3_000_000]
    for path in small:
        _run(path, max_pages=3)


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize("path", _files(documents_only=False), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_every_file(path):
    _run(path, max_pages=50)


GEOTOPO = CORPUS / "pdf-textlayer/py-pdf-sample-files/009-pdflatex-geotopo/GeoTopo-komprimiert.pdf"
GEOTOPO_TEXT = CORPUS / "pdf-textlayer/py-pdf-benchmarks-groundtruth/GeoTopo-book.txt"


@pytest.mark.slow
@pytest.mark.skipif(not GEOTOPO.exists(), reason="shared corpus not present")
def test_geotopo_book_text_matches_its_hand_checked_reference():
    import re
    import unicodedata

    from rapidfuzz.distance import Levenshtein

    result = parse_document(GEOTOPO, ParseOptions(config=ParseConfig.from_dict({"ocr_strategy": "Auto"})))
    furniture = {"PageHeader", "PageFooter", "PageNumber"}
    ours = " ".join(s.text for s in result.segments if s.segment_type not in furniture)

    def normalise(text: str) -> str:
        # As py-pdf/benchmarks does in spirit: compatibility forms (ligatures) folded, layout spacing ignored.
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))

    similarity = Levenshtein.normalized_similarity(normalise(ours), normalise(GEOTOPO_TEXT.read_text()))
    assert similarity >= 0.95, f"text similarity {similarity:.3f}"

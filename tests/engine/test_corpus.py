"""Every file in the shared corpus gives a result or a clean EngineError, within a time limit."""

import os
import signal
from pathlib import Path

import pytest

from tasks_app.engine import EngineError, EngineLimits, ParseConfig, ParseOptions, parse_document

# ../shared beside the repository, as in CI and on developer machines.
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
PER_FILE_TIMEOUT_S = 120


# The three extraction sets are many documents of one kind each (150 receipts, 250 NDAs, 25 invoices): every
# SAMPLE_EVERY-th file of each stands for its set here (the extraction benchmarks read them all), the rest of the
# corpus is read whole. CHUNKR_CORPUS_ALL=1 reads every file (about 13 minutes on two cores).
SAMPLED_SETS = {"sroie-dev", "kleister-nda-train"}
SAMPLE_EVERY = 10


def _files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    if os.environ.get("CHUNKR_CORPUS_ALL") == "1":
        return files
    picked, seen = [], {}
    for path in files:
        folder = path.relative_to(CORPUS).parts[0]
        if folder in SAMPLED_SETS:
            key = (folder, path.suffix.lower())
            seen[key] = seen.get(key, -1) + 1
            if seen[key] % SAMPLE_EVERY:
                continue
        picked.append(path)
    return picked


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


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(CORPUS)))
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

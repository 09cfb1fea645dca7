"""Engine tests: plain functions over generated documents, no database."""

from __future__ import annotations

import pytest

from tasks_app.engine import ParseConfig, ParseOptions

from .llm_server import FakeLlm

# Auto OCR + Continue: synthetic PDFs have text layers, and a missing OCR backend must not fail them.
BASE_CONFIG = {"ocr_strategy": "Auto", "error_handling": "Continue"}


def options(**cfg) -> ParseOptions:
    return ParseOptions(config=ParseConfig.from_dict({**BASE_CONFIG, **cfg}))


@pytest.fixture
def llm():
    """A local OpenAI-compatible server (see llm_server.FakeLlm); set `llm.steps` before use."""
    fake = FakeLlm()
    yield fake
    fake.close()
